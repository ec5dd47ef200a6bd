/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The client's side of the running daemon, for `bima stop`, `status`,
 * `snapshot` and `policy load`: the daemon is asked through its control
 * socket (control.h); one that runs without it (--control none) is found by
 * the pid in the pinned bima_config map and signalled, as the daemon
 * expects (SIGTERM: stop; SIGUSR1: take a snapshot).
 */
#ifndef BIMA_CONTROL_CLIENT_H
#define BIMA_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stdio.h>

#include "control.h"

#define CONTROL_STATUS_MS 10000 /* how long `status` waits for an answer */
#define CONTROL_SNAPSHOT_WAIT_MS (CONTROL_SNAPSHOT_MS + 5000) /* the daemon answers within this */
#define CONTROL_STOP_MS 60000 /* how long `stop` waits for the daemon */

/* The pid of the running daemon named in the pinned config, if it is bima; or 0. */
int control_daemon_pid(void);
/* Whether the pinned config names a daemon, and that pid runs. */
bool control_daemon_alive(void);

/*
 * Ask the daemon listening on path (NULL: none is used, signal it) to stop,
 * and wait until it has exited. Returns 0 once it has, or when none runs
 * (said so); else -errno, or 1 as control_request(); each error reported.
 */
int control_stop(const char *path);

/*
 * Have the daemon take a snapshot now, and print its anchor to out: asked
 * on path, or (path NULL, or no daemon listening there) signalled and its
 * anchor read from the pinned map. Returns 0, or 1 after saying why.
 */
int control_snapshot(const char *path, FILE *out);

#endif
