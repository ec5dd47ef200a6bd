/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The running daemon's settings, for the commands that act on it or on its
 * log (stop, status, snapshot, log, verify, quote, keylime check), so that
 * they need not be told again what `bima run` was told: RUNSTATE_PATH, in
 * the configuration file's syntax (config.h), with the keys log-dir, tcti,
 * pcr, template (as resolved: ima-ng or bima-ct), ascii (the link, or none)
 * and control (the socket, or none).
 *
 * `bima run` writes it, atomically, once it is the daemon: it holds the
 * control socket and the pins, and the epoch's log is open. It describes
 * the pins as much as the daemon, so it stays when the daemon stops and the
 * hooks go on measuring; `bima stop --unload` removes it with the pins, and
 * /run is emptied at boot. A command takes its settings as defaults over
 * the configuration file's; the command line has the last word.
 */
#ifndef BIMA_RUNSTATE_H
#define BIMA_RUNSTATE_H

#include <stdbool.h>
#include <stdint.h>

#define RUNSTATE_DIR "/run/bima"
#define RUNSTATE_PATH RUNSTATE_DIR "/state"

struct runstate {
	const char *log_dir, *tcti;
	uint32_t pcr;
	bool ct_template;
	const char *ascii_link; /* NULL: none */
	const char *control;	/* NULL: none */
};

/* Write path (RUNSTATE_PATH but in tests): a temporary file beside it, renamed. Logs errors. */
int runstate_write(const char *path, const struct runstate *s);
/* Remove it; nothing to remove is no error. */
void runstate_remove(const char *path);
/*
 * Whether path may be trusted as the daemon's: a regular file that root
 * owns and no one else may write, in a directory (not a symlink to one)
 * the same holds for. A file another user could have written would hand
 * `bima stop --unload` a log directory of theirs. -ENOENT if it does not
 * exist; -EPERM, said, if it may not be trusted.
 */
int runstate_check(const char *path);

#endif
