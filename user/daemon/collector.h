/* SPDX-License-Identifier: GPL-2.0-only */
/* `bima run`: ring buffer -> log entry -> durable log -> TPM extend. */
#ifndef BIMA_COLLECTOR_H
#define BIMA_COLLECTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bpf/bima.h"
#include "anchor.h"
#include "protect.h"

struct collector_opts {
	const char *log_dir;
	const char *tcti;
	uint32_t pcr;
	uint32_t ringbuf_size;
	bool fail_closed;    /* the hooks deny what cannot be recorded */
	uint32_t grace_ms;   /* with fail_closed: how long the daemon may be absent */
	uint32_t max_lag_ms; /* with fail_closed: how long an entry may wait for the TPM; 0: ever */
	bool unload;	     /* adopt the pins, detach, log what is queued, remove the pins */
	/* The policy for a new load; with policy_given, also put in force over adopted pins. */
	const struct bima_policy *policy;
	bool policy_given;
	uint64_t snapshot_entries;	/* take a snapshot every this many entries; 0: never */
	uint32_t snapshot_interval;	/* and every this many seconds; 0: never */
	enum retention retention;	/* segments before a quoted anchor: anchor.h */
	unsigned int retention_anchors; /* the newest quoted anchors whose segments stay */
	const char *ascii_link;		/* keep the epoch's ASCII list, linked here; or NULL */
	bool ct_template;    /* file entries in bima-ct (template.h); else ima-ng with marks */
	const char *control; /* listen on this control socket (control.h); or NULL */
	enum protect_mode protect; /* self-protection: --protect, or where it is safe */
	const char *metrics_file;  /* rewrite metrics for node_exporter here (metrics.h); or NULL */
};

/*
 * Run until SIGINT or SIGTERM, or `stop` on the control socket, leaving the
 * hooks pinned and measuring; or, with unload, empty and remove them.
 * Returns 0 after a clean stop.
 */
int collector_run(const struct collector_opts *opts);

/*
 * For tools/bench/collector only: the daemon's rounds without its hooks.
 * Records in the ring buffer map_fd become entries made durable in log, as
 * in `bima run`, until the ring buffer is empty; with tpm, they are also
 * extended, in the loop's slices, until the TPM holds them all; without,
 * they leave the queue once durable. No loss counters are read (there are
 * no hooks). window is the bytes of the queue kept in memory (0: the
 * daemon's), the rest read back from the log; *window_peak, the memory
 * the queue took at most. *records counts the records taken, *durable_ns
 * is when the ring buffer was empty, from the call. Returns 0 or a negative error; a
 * failed extend has freed tpm, as the loop does before it reconnects.
 */
struct epoch;
struct log;
struct tpm;
int collector_bench(struct epoch *ep, struct log *log, struct tpm *tpm, int map_fd,
		    bool ct_template, size_t window, uint64_t *records, uint64_t *durable_ns,
		    size_t *window_peak);

#endif
