/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files of an epoch's directory, for the writer (log.c) and the reader
 * (log_cursor.c) of the log; not for other modules, which have log.h.
 */
#ifndef BIMA_LOG_FILES_H
#define BIMA_LOG_FILES_H

#include <stdint.h>

/*
 * Segment numbers present in dir, sorted; *n of them. gz, when not NULL,
 * gets a bit per segment: only its compressed form is there (a segment in
 * both forms is being compressed: the plain one counts).
 */
int list_segments(const char *dir, unsigned int **out, unsigned int *n, uint8_t **gz);
/* Every anchor file's id under dir, calling fn until it returns non-zero. */
int each_anchor(const char *dir, int (*fn)(uint64_t id, void *arg), void *arg);

#endif
