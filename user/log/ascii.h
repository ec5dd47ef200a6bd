/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live ASCII measurement list of an epoch, for readers of IMA's
 * ascii_runtime_measurements (a Keylime agent: its ima_ml_path). The epoch
 * directory holds it as "ascii_runtime_measurements": one line per log
 * entry, as template_format_ascii() renders it (what the kernel prints for
 * the same entry), in the log's order, and a stable path (a symlink, by
 * default /run/bima/ascii_runtime_measurements) points at the current
 * epoch's.
 *
 * Lines are appended on an O_APPEND descriptor, each batch with one
 * write(), and made durable before the same entries are written to the
 * binary log (so before they are extended): the ASCII list holds every
 * durable entry. The file is never truncated or renamed within an epoch,
 * but for what a failed write or a crash left after the last line whose
 * entry is durable in the binary log, which was never extended.
 */
#ifndef BIMA_ASCII_H
#define BIMA_ASCII_H

#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

#define ASCII_NAME "ascii_runtime_measurements"
#define ASCII_DEFAULT_LINK "/run/bima/" ASCII_NAME

struct ascii;

/*
 * Open (create) epoch_dir's list and point link at it. The list must then
 * be made to hold the log's entries: ascii_reconcile(). Errors are logged.
 */
int ascii__open(const char *epoch_dir, const char *link, struct ascii **out);
void ascii__close(struct ascii *a);
const char *ascii_path(const struct ascii *a);
/*
 * Make the list hold exactly the epoch's binary log, at a daemon start:
 * cut lines past its entries (and a torn last line), append the lines it
 * lacks, rendered from the log. Errors are logged.
 */
int ascii_reconcile(struct ascii *a, const char *epoch_dir);
/*
 * Append the lines of entries (an encoded list) with one write() and make
 * them durable; on failure, cut the list back to its durable end.
 */
int ascii_append(struct ascii *a, const struct buf *entries);
/* Its durable size; and cut it back to such a size: lines whose entries the log could not take. */
off_t ascii_size(const struct ascii *a);
int ascii_cut_back(struct ascii *a, off_t length);

#endif
