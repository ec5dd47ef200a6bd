/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Files of bima's own: a small file replaced whole, so that a reader sees
 * the old one or the new one, never half of either, and after a crash it
 * is one of the two (the metrics file, metrics.h, and the daemon's
 * settings, runstate.h); and whether a file or a directory is root's
 * alone, so that what is in it may be trusted as root's (the daemon's
 * settings, and the control socket's directory, control.h).
 */
#ifndef BIMA_FILE_H
#define BIMA_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Write data into path.XXXXXX beside path, mode mode, fsync it, rename it
 * over path, and fsync the directory. The temporary name never ends as
 * path does (a reader that takes only *.prom never sees it), and is
 * removed on failure. Returns 0 or -errno.
 */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);

/* Whether st is root's alone: root owns it, and no one else may write it. */
bool file_root_only(const struct stat *st);
/*
 * Whether dir is a directory that is root's alone (a link to one is not):
 * no other user can then put a file or a socket of theirs in the place of
 * one in it. 0 if it is; -EPERM if not, *st telling what it is, for the
 * caller's message; another -errno if it cannot be looked at (lstat).
 */
int file_root_dir(const char *dir, struct stat *st);

#endif
