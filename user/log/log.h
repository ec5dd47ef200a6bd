/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The on-disk log. A log directory holds one directory per TPM epoch
 * ("epoch-<resetCount>-<restartCount>"), and each epoch a series of segment
 * files "segment-NNNNNN.bin", numbered from 1. A segment is an IMA binary
 * measurement list (template.h), so concatenating an epoch's segments in
 * order gives the epoch's whole list. Segments are only ever appended to.
 *
 * A snapshot (snapshot.h) closes a segment with its snapshot_aggregate
 * entry, and keeps a copy of that entry as "anchor-ID.bin": the log can be
 * replayed from there, starting from the PCR values it holds, once the
 * segments before it are gone (retention) or are not sent (bima quote
 * --since). Retention may also compress a closed segment into
 * "segment-NNNNNN.bin.gz", which is read like the plain one.
 */
#ifndef BIMA_LOG_H
#define BIMA_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapshot.h"
#include "template.h"

#define LOG_PATH_MAX 4096
#define SEGMENT_FMT "segment-%06u.bin"
#define LOG_ANCHOR_FMT "anchor-%llu.bin"

struct log;
struct log_cursor;

/* "<log_dir>/epoch-<reset>-<restart>" */
int log_epoch_dir(char *out, size_t len, const char *log_dir, uint32_t reset, uint32_t restart);

/* The newest epoch under log_dir, by reset and then restart count; -ENOENT if none. */
int log_latest_epoch(char *out, size_t len, const char *log_dir);

/* mkdir -p, durably. */
int log_make_dir(const char *dir);
/* Create the epoch directory if needed and start its next segment. */
int log__open(const char *epoch_dir, struct log **out);
void log__close(struct log *l);
const char *log_path(const struct log *l);
/* The number of the segment being written. */
unsigned int log_segment(const struct log *l);
/* Its bytes made durable: where the next entry written begins in it. */
size_t log_durable(const struct log *l);
/* Close the segment for good (a snapshot): durable and read-only; log__close() it next. */
int log_seal(struct log *l);
/*
 * Append bytes to the segment (not yet durable). If the write fails (a full
 * disk, an I/O error) the segment is cut back to its durable end, so a
 * retry appends whole entries after whole entries.
 */
int log_append(struct log *l, const void *data, size_t len);
/* Make everything appended so far durable (fdatasync); on failure, cut back likewise. */
int log_sync(struct log *l);

/* "<epoch_dir>/anchor-<id>.bin" */
int log_anchor_path(char *out, size_t len, const char *epoch_dir, uint64_t id);
/*
 * Read anchor-<id>.bin into entry, and its snapshot into s: -ENOENT if there
 * is none, -EBADMSG if it is not that snapshot's entry (a violation's never
 * is: the PCR does not cover its data), -ERANGE if it names a PCR past 23.
 */
int log_anchor_read(const char *epoch_dir, uint64_t id, struct buf *entry, struct snapshot *s);

/*
 * Read an epoch's entries in order: from anchor since, or with since 0 from
 * the start of the epoch, or from the anchor that closes the segment before
 * the first one there (retention removed the ones before). From an anchor,
 * the first entry is the anchor's, and log_cursor_start() gives its
 * snapshot. log_cursor_next() returns 1 with an entry, 0 at the end, or
 * -EBADMSG (-EPIPE for a torn entry) with log_cursor_error() naming the
 * segment, the entry and the reason; a missing segment is such an error.
 * The entry stays valid until the next call. -ENOENT: no such directory.
 */
int log_cursor__open(const char *epoch_dir, uint64_t since, struct log_cursor **out);
void log_cursor__free(struct log_cursor *c);
int log_cursor_next(struct log_cursor *c, struct template_entry *e);
const char *log_cursor_error(const struct log_cursor *c);
/* Where the entry last returned lives: segment number and index in it (from 0). */
unsigned int log_cursor_segment(const struct log_cursor *c);
unsigned int log_cursor_index(const struct log_cursor *c);
/* How many segments it reads, and the number of the last one. */
unsigned int log_cursor_segments(const struct log_cursor *c);
unsigned int log_cursor_last_segment(const struct log_cursor *c);
/*
 * Go to byte off of segment seg, where an entry starts (one the daemon
 * wrote, not yet extended: collector.c reads its queue back from there);
 * the next log_cursor_next() returns that entry. log_cursor_index() then
 * counts from there, and log_cursor_segment_sha256() is not asked.
 */
int log_cursor_seek(struct log_cursor *c, unsigned int seg, size_t off);
/* The anchor the cursor starts from, or NULL from the start of the epoch. */
const struct snapshot *log_cursor_start(const struct log_cursor *c);
/* Whether the entry last returned is that anchor's (kept in its anchor file). */
bool log_cursor_at_anchor(const struct log_cursor *c);
/* The bytes of the entry last returned. */
void log_cursor_raw(const struct log_cursor *c, const uint8_t **p, size_t *len);
/*
 * After an error: the byte offset of the bad entry in its segment; after
 * an entry: the offset of the byte after it.
 */
size_t log_cursor_offset(const struct log_cursor *c);
/*
 * The bytes of the segment after the entry last returned, where the
 * segment is held whole (mapped; none for a compressed one, whose window
 * moves): the entries the cursor returns next, to look at ahead. Valid
 * until the next log_cursor_next().
 */
void log_cursor_ahead(const struct log_cursor *c, const uint8_t **p, size_t *len);
/*
 * The sha256 of the segment's bytes before the entry last returned (what
 * a snapshot_aggregate holds of the segment it closes): a compressed
 * segment, never held whole, is hashed as the cursor goes; another, held
 * whole, when this is asked.
 */
int log_cursor_segment_sha256(struct log_cursor *c, uint8_t sha256[32]);

/* Read a whole file into b. */
int log_read_file(const char *path, struct buf *b);
/* Write a small file beside the segments durably: temporary file, fsync, rename, fsync. */
int log_write_file(const char *epoch_dir, const char *name, const void *data, size_t len);
/* Remove a file of the epoch directory; -ENOENT if it is not there. */
int log_remove_file(const char *epoch_dir, const char *name);
/* The ids of the anchor files, ascending, as uint64_t in ids. */
int log_anchors(const char *epoch_dir, struct buf *ids);
/* Bytes of the epoch's segment files on disk, compressed ones as stored. */
int log_bytes(const char *epoch_dir, uint64_t *bytes);
/* Replace a closed segment with segment-N.bin.gz, durably, for retention. */
int log_compress_segment(const char *epoch_dir, unsigned int seg);

/* Cut segment seg of epoch_dir to length bytes, durably (a torn tail). */
int log_cut_segment(const char *epoch_dir, unsigned int seg, size_t length);

#endif
