/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state as metrics for Prometheus, from a struct
 * control_status: the names carry the bima_ prefix, counters the _total
 * suffix, quantities their base unit (_seconds, _bytes); every family has
 * its # HELP and # TYPE lines.
 *
 * Two encodings of the same samples:
 * - METRICS_OPENMETRICS, OpenMetrics 1.0 text (`bima status --format
 *   openmetrics`): a counter's family is named without _total and its
 *   sample with it, families with a unit have a # UNIT line, and the text
 *   ends with "# EOF".
 * - METRICS_PROMETHEUS, the Prometheus text format 0.0.4, which
 *   node_exporter's textfile collector reads (`bima run --metrics-file`):
 *   the family is named as its sample, no # UNIT, no # EOF.
 * No sample carries a timestamp (the textfile collector refuses them).
 *
 * The file is rewritten atomically (a temporary file in the same
 * directory, written, fsync'd, renamed over it) every
 * METRICS_FILE_INTERVAL_S seconds and when the daemon stops.
 */
#ifndef BIMA_METRICS_H
#define BIMA_METRICS_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "control.h"

#define METRICS_FILE_INTERVAL_S 5
#define METRICS_FILE_INTERVAL_STR "5" /* the same, for --help */
#define METRICS_TEXT_MAX 12288	      /* bytes of the text at most, every sample at its largest */

enum metrics_format {
	METRICS_OPENMETRICS,
	METRICS_PROMETHEUS,
};

/* "openmetrics" or "prometheus"; -EINVAL for anything else. */
int metrics_parse_format(const char *s, enum metrics_format *fmt);

/* Write st's metrics to f; now (Unix seconds) gives the last snapshot's age. */
void metrics_write(FILE *f, const struct control_status *st, enum metrics_format fmt, time_t now);

/* The file for the textfile collector: where, when next, whether the last write failed. */
struct metrics_file {
	const char *path; /* NULL: none */
	time_t next;	  /* no write before this time, unless forced */
	bool failed;	  /* the last write failed (and said so) */
};

/*
 * Rewrite mf->path with what fn reports, if it is due or force is set.
 * A failure is logged once, and retried at the next interval; the
 * daemon goes on either way.
 */
void metrics_file_update(struct metrics_file *mf, control_status_fn fn, void *arg, bool force);

/* Write st into path atomically, in the Prometheus text format. Returns 0 or -errno, not logged. */
int metrics_file_write(const char *path, const struct control_status *st, time_t now);

#endif
