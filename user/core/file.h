/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A small file replaced whole, so that a reader sees the old one or the
 * new one, never half of either, and after a crash it is one of the two:
 * the metrics file (metrics.h) and the daemon's settings (runstate.h).
 */
#ifndef BIMA_FILE_H
#define BIMA_FILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write data into path.XXXXXX beside path, mode mode, fsync it, rename it
 * over path, and fsync the directory. The temporary name never ends as
 * path does (a reader that takes only *.prom never sees it), and is
 * removed on failure. Returns 0 or -errno.
 */
int file_replace(const char *path, const void *data, size_t len, mode_t mode);

#endif
