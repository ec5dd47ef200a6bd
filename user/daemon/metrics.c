// SPDX-License-Identifier: GPL-2.0-only
/*
 * Metrics for Prometheus (metrics.h). Which counter counts since what: the
 * daemon's own (logged, repeated, TPM errors) since it started, which
 * bima_start_time_seconds tells; the kernel's (dropped and denied by hook,
 * violations, hash errors, self-protection refusals, cache hits) since the
 * BPF programs were loaded; lost since then too, as the log records it. Prometheus takes a
 * counter that goes back to zero as a reset.
 */
#define _GNU_SOURCE /* open_memstream */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "file.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"

int metrics_parse_format(const char *s, enum metrics_format *fmt)
{
	if (!strcmp(s, "openmetrics"))
		*fmt = METRICS_OPENMETRICS;
	else if (!strcmp(s, "prometheus"))
		*fmt = METRICS_PROMETHEUS;
	else
		return -EINVAL;
	return 0;
}

/*
 * A family's metadata. OpenMetrics names a counter's family without
 * _total and has # UNIT; the Prometheus format names it as its samples.
 */
static void family(FILE *f, enum metrics_format fmt, const char *name, const char *type,
		   const char *unit, const char *help)
{
	const char *total = strcmp(type, "counter") ? "" : "_total";

	if (fmt == METRICS_OPENMETRICS) {
		fprintf(f, "# TYPE %s %s\n", name, type);
		if (unit)
			fprintf(f, "# UNIT %s %s\n", name, unit);
		fprintf(f, "# HELP %s %s\n", name, help);
	} else {
		fprintf(f, "# HELP %s%s %s\n", name, total, help);
		fprintf(f, "# TYPE %s%s %s\n", name, total, type);
	}
}

static void counter(FILE *f, enum metrics_format fmt, const char *name, const char *help,
		    uint64_t value)
{
	family(f, fmt, name, "counter", NULL, help);
	fprintf(f, "%s_total %llu\n", name, (unsigned long long)value);
}

static void gauge(FILE *f, enum metrics_format fmt, const char *name, const char *unit,
		  const char *help, uint64_t value)
{
	family(f, fmt, name, "gauge", unit, help);
	fprintf(f, "%s %llu\n", name, (unsigned long long)value);
}

/* A counter by hook: a sample for every hook, 0 for those that counted none. */
static void by_hook(FILE *f, enum metrics_format fmt, const char *name, const char *help,
		    const uint64_t *n)
{
	family(f, fmt, name, "counter", NULL, help);
	for (unsigned int h = 1; h < CONTROL_HOOKS; h++) {
		const char *hook = policy_func_name(h);

		if (hook)
			fprintf(f, "%s_total{hook=\"%s\"} %llu\n", name, hook,
				(unsigned long long)n[h]);
	}
}

/* What the kernel counts, if it could be read: a missing sample, not a wrong 0. */
static void kernel_counters(FILE *f, enum metrics_format fmt, const struct control_status *st)
{
	if (st->kernel_stats) {
		by_hook(f, fmt, "bima_measurements_dropped",
			"Measurements the kernel could not put in the full ring buffer, by the "
			"hook "
			"that measured, since the BPF programs were loaded; the log records each "
			"loss once the daemon reads the count (bima_measurements_lost).",
			st->dropped_by_hook);
		by_hook(f, fmt, "bima_measurements_denied",
			"Operations --fail-closed denied because their measurement could not be "
			"recorded (ring buffer full, no daemon, or the TPM too far behind), by the "
			"hook, since the BPF programs were loaded.",
			st->denied_by_hook);
		counter(f, fmt, "bima_violations",
			"ToMToU and open_writers violations the hooks saw, since the BPF programs "
			"were loaded; each is logged as an entry with a zero digest.",
			st->violations);
		counter(f, fmt, "bima_hash_errors",
			"Measurements the kernel could not hash (bpf_ima_file_hash failed), since "
			"the BPF programs were loaded.",
			st->hash_errors);
		counter(f, fmt, "bima_protect_denied",
			"Operations self-protection refused (writes to the log or the pins, to "
			"bima's BPF objects, signals, ptrace), since the BPF programs were loaded.",
			st->protect_denied);
	}
	if (st->cpu_stats)
		counter(f, fmt, "bima_cache_hits",
			"Measurements the re-measurement cache spared (the file is unchanged "
			"since it was measured), since the BPF programs were loaded.",
			st->cache_hits);
}

static void ringbuf_gauges(FILE *f, enum metrics_format fmt, const struct control_status *st)
{
	gauge(f, fmt, "bima_ringbuf_size_bytes", "bytes", "Size of the ring buffer.",
	      st->ringbuf_size);
	gauge(f, fmt, "bima_ringbuf_queued_bytes", "bytes",
	      "Bytes of records in the ring buffer that the daemon has not logged yet.",
	      st->queued);
	gauge(f, fmt, "bima_ringbuf_held_bytes", "bytes",
	      "Bytes of records logged but still held in the ring buffer until a bima_seq "
	      "entry covers them.",
	      st->held);
	gauge(f, fmt, "bima_ringbuf_held_records", NULL,
	      "Records logged but still held in the ring buffer until a bima_seq entry covers "
	      "them.",
	      st->uncovered);
}

static void extend_gauges(FILE *f, enum metrics_format fmt, const struct control_status *st)
{
	family(f, fmt, "bima_extend_lag_seconds", "gauge", "seconds",
	       "How long the oldest durable entry not yet extended into the TPM has waited; 0 "
	       "when none waits.");
	fprintf(f, "bima_extend_lag_seconds %llu.%03u\n",
		(unsigned long long)(st->extend_lag_ms / 1000),
		(unsigned)(st->extend_lag_ms % 1000));
	gauge(f, fmt, "bima_extend_lag_entries", NULL,
	      "Durable entries that wait to be extended into the TPM.", st->unextended_entries);
	gauge(f, fmt, "bima_extend_lag_bytes", "bytes",
	      "Bytes of durable entries that wait to be extended into the TPM.", st->unextended);
	gauge(f, fmt, "bima_tpm_up", NULL,
	      "1 when the TPM answered the last extend (or none failed yet), 0 while extends "
	      "are retried with backoff.",
	      st->tpm_ok);
}

/* The last snapshot: its id, and when its anchor was written, if that is known. */
static void snapshot_gauges(FILE *f, enum metrics_format fmt, const struct control_status *st,
			    time_t now)
{
	gauge(f, fmt, "bima_last_snapshot_id", NULL,
	      "The id of the log's last snapshot_aggregate entry; 0 when the epoch has none.",
	      st->last_snapshot);
	if (!st->last_snapshot || st->snapshot_time <= 0)
		return;
	gauge(f, fmt, "bima_last_snapshot_timestamp_seconds", "seconds",
	      "When the last snapshot's anchor was written, in seconds since the Unix epoch.",
	      st->snapshot_time);
	gauge(f, fmt, "bima_last_snapshot_age_seconds", "seconds",
	      "How long ago the last snapshot's anchor was written, when the daemon wrote "
	      "these metrics.",
	      now > st->snapshot_time ? now - st->snapshot_time : 0);
}

void metrics_write(FILE *f, const struct control_status *st, enum metrics_format fmt, time_t now)
{
	gauge(f, fmt, "bima_start_time_seconds", "seconds",
	      "When this daemon started, in seconds since the Unix epoch: its own counters "
	      "start from 0 then.",
	      st->start_time);
	by_hook(f, fmt, "bima_measurements_logged",
		"Measurement entries this daemon wrote to the log, by the hook that measured "
		"(violations included; repeats, policy switches and bima's own marks not).",
		st->logged_by_hook);
	counter(f, fmt, "bima_measurements_repeated",
		"Records this daemon did not log again because the epoch's log has their "
		"entry already.",
		st->repeated);
	counter(f, fmt, "bima_measurements_lost",
		"Measurements the log records as lost (the ring buffer was full), since the BPF "
		"programs were loaded; bima_measurements_dropped has them by hook.",
		st->lost);
	kernel_counters(f, fmt, st);
	counter(f, fmt, "bima_tpm_errors",
		"TPM extends, reconnections and snapshot quotes that failed, since this daemon "
		"started.",
		st->tpm_errors);
	gauge(f, fmt, "bima_log_entries", NULL, "Entries in the TPM epoch's log.", st->entries);
	gauge(f, fmt, "bima_log_bytes", "bytes",
	      "Bytes of the TPM epoch's segment files on disk (compressed ones as stored).",
	      st->log_bytes);
	ringbuf_gauges(f, fmt, st);
	extend_gauges(f, fmt, st);
	snapshot_gauges(f, fmt, st, now);
	if (fmt == METRICS_OPENMETRICS)
		fputs("# EOF\n", f);
}

int metrics_file_write(const char *path, const struct control_status *st, time_t now)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	int err;

	if (!f)
		return -errno;
	metrics_write(f, st, METRICS_PROMETHEUS, now);
	err = fclose(f) ? -errno : 0;
	/* Not NAME.prom while written: node_exporter runs as its own user, and reads only *.prom.
	 */
	err = err ?: file_replace(path, text, len, 0644);
	free(text);
	return err;
}

void metrics_file_update(struct metrics_file *mf, control_status_fn fn, void *arg, bool force)
{
	struct control_status st = {};
	time_t now = time(NULL);
	int err;

	if (!mf->path || (!force && now < mf->next))
		return;
	mf->next = now + METRICS_FILE_INTERVAL_S;
	fn(arg, &st);
	err = metrics_file_write(mf->path, &st, now);
	/* One message for a failure that lasts, not one every interval. */
	if (err && !mf->failed)
		pr_err("--metrics-file %s: cannot write it: %s; retrying every %d s", mf->path,
		       strerror(-err), METRICS_FILE_INTERVAL_S);
	else if (!err && mf->failed)
		pr_notice("--metrics-file %s: written again", mf->path);
	mf->failed = err != 0;
}
