/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A daemon's status for the unit tests of what shows one: the control
 * socket's status lines (test_control) and the metrics (test_metrics). It
 * is a control_status_fn, so a test's own server can answer with it:
 *
 *   #include "fake_status.h"
 *   control_serve(ctl, fake_status, NULL);
 *
 * Every field has a value of its own, none 0, so that a field shown in the
 * place of another is caught; the pid is the caller's (a server's, as
 * SO_PEERCRED tells its clients), and the times are FAKE_STATUS_NOW's.
 */
#ifndef BIMA_FAKE_STATUS_H
#define BIMA_FAKE_STATUS_H

#include <unistd.h>

#include "control.h"

#define FAKE_STATUS_NOW 1800000000 /* "now" of the times below, Unix seconds */

static void fake_status(void *arg, struct control_status *st)
{
	*st = (struct control_status){ .pid = getpid(),
				       .log_dir = "/var/lib/bima",
				       .epoch_dir = "/var/lib/bima/epoch-3-1",
				       .segment = "/var/lib/bima/epoch-3-1/segment-000002.bin",
				       .load_id = "42-abcd",
				       .pcr = 10,
				       .entries = 1234,
				       .logged = 1200,
				       .lost = 5,
				       .unextended = 77,
				       .unextended_entries = 3,
				       .extend_lag_ms = 1041, /* not whole seconds */
				       .queued = 88,
				       .uncovered = 9,
				       .held = 4096,
				       .tpm_ok = true,
				       .reconciling = true,
				       .reconcile_read = 5120,
				       .reconcile_total = 9876,
				       .last_snapshot = 6,
				       .repeated = 17,
				       .tpm_errors = 2,
				       .ringbuf_size = 1 << 22,
				       .log_bytes = 987654,
				       .start_time = FAKE_STATUS_NOW - 600,
				       .snapshot_time = FAKE_STATUS_NOW - 42,
				       .kernel_stats = true,
				       .denied = 4,
				       .violations = 3,
				       .hash_errors = 1,
				       .protect_denied = 8,
				       .cpu_stats = true,
				       .cache_hits = 31337 };
	st->logged_by_hook[BIMA_HOOK_BPRM_CHECK] = 11;
	st->logged_by_hook[BIMA_HOOK_FILE_CHECK] = 22;
	st->dropped_by_hook[BIMA_HOOK_MMAP_CHECK] = 5;
	st->denied_by_hook[BIMA_HOOK_BPRM_CHECK] = 3;
	st->denied_by_hook[BIMA_HOOK_MODULE_CHECK] = 1;
}

#endif
