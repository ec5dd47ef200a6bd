/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Reconcile the log of the TPM's current epoch with the TPM before a daemon
 * continues it (after a stop, a crash or a kexec, since the PCRs persist):
 *
 * - the log replays to the TPM: continue;
 * - the TPM equals the replay of a prefix of the log: the entries after it
 *   are durable but were never extended (the daemon died between its
 *   fdatasync and its extends); extend them, in order;
 * - anything else: append a bima_log_inconsistent entry, extended like any
 *   other, report it loudly, and continue; the log then never verifies
 *   against this TPM epoch, and says why.
 *
 * After a kexec the PCRs persist and the new kernel's IMA extends PCR 10
 * with its own boot_aggregate: on PCR 10, a TPM that holds the whole log
 * followed by the last entries of the kernel's IMA list has them imported
 * into the log (written, not extended), and the epoch goes on. A rejoin
 * does the same (an IMA policy measured while the daemon's connection was
 * down); the daemon writes them before the marks, as a start does.
 *
 * The durable tail is extended from the log alone: nothing but the log says
 * a daemon wrote it. So it is recorded right after it, in a
 * bima_tail_extended entry (its entries, bytes, and first and last byte by
 * segment), which `bima verify` reports. A daemon reads no record that
 * could take what waits for the TPM past UNEXTENDED_MAX bytes (it keeps a
 * window of them in memory and reads the rest back from the log): a tail
 * of more than RECOVER_TAIL_MAX bytes is not one a daemon left. It is not
 * extended, and is recorded as inconsistent.
 *
 * The tail is never held whole: its first RECOVER_WINDOW bytes are kept
 * in memory, and the rest is read back from the log, that many bytes at a
 * time, when its turn comes (the running daemon keeps the entries that wait
 * for the TPM the same way). A start, or a rejoin, takes no more memory for
 * a tail of RECOVER_TAIL_MAX than for one entry.
 *
 * A torn last entry (the tail of a write that never completed, so was never
 * extended) is cut off the last segment, and a bima_log_torn entry records
 * the segment, the offset and the bytes removed. Its records were never
 * freed in the ring buffer, so they are logged again.
 */
#ifndef BIMA_RECOVER_H
#define BIMA_RECOVER_H

#include "epoch.h"

#define TAIL_NAME "bima_tail_extended"
/* The most a durable tail may be at a start: more is not one a daemon left. */
#define RECOVER_TAIL_MAX (128u << 20)
/*
 * The most a daemon leaves durable and not extended: it reads no record that
 * could take it further. Below RECOVER_TAIL_MAX by room for extends that a
 * TPM which went away lost (a rejoin reads them back from the log too).
 */
#define UNEXTENDED_MAX (RECOVER_TAIL_MAX - (8u << 20))
/* The most of a tail held in memory; the rest is read back from the log. */
#define RECOVER_WINDOW (4u << 20)

/* Where an entry begins in an epoch's log: its segment, and the byte in it. */
struct log_spot {
	unsigned int segment;
	size_t offset;
};

/* A scan of the log that a rejoin began, read a slice at a time. */
struct recover_scan;

struct recovery {
	/*
	 * The durable entries the TPM lacks, to extend in order: the first
	 * RECOVER_WINDOW bytes of them in tail, and past them, rest_bytes
	 * (rest_entries entries) in the log from rest on.
	 */
	struct buf tail;
	struct log_spot rest;
	size_t rest_bytes;
	uint64_t rest_entries;
	uint64_t tail_entries; /* all of them, in memory and not */
	struct buf imported;   /* the kernel's entries the TPM has after the log, to write */
	struct buf marks;      /* entries that record what recovery found, to append */
};

/*
 * Read the epoch's log into ep->replay and ep->entries, and say in rec what
 * must follow. -ENOENT when the epoch has no log yet. Errors are logged.
 */
int recover_epoch(struct epoch *ep, struct tpm *tpm, struct recovery *rec);
/*
 * The TPM answers again after failing (a restarted TPM, a lost connection):
 * check that it is in the same epoch and holds what ep->replay says. If it
 * holds that and then the first entry of next (the entries that wait, in
 * order; NULL: none), the extend of that entry was done though its answer
 * was lost: ep takes it, and *took is its bytes. Else (extends lost with
 * the TPM, or more done), or if force is set, reconcile as at start: the
 * whole log must be read again, which on a long log takes minutes, so it
 * is only begun here, in *scan, and read by recover_scan_step() a slice at
 * a time, between which the daemon goes on logging. Returns 0 when the TPM
 * is where bima left it, 2 when it took next's first entry, 1 when *scan
 * was begun, -ESTALE when the TPM's epoch changed, another negative error
 * if the TPM failed again. ep is unchanged but for 2.
 */
int recover_rejoin(struct epoch *ep, struct tpm *tpm, bool force, const struct buf *next,
		   size_t *took, struct recover_scan **scan);
/*
 * Read on a rejoin's scan of the log for about slice_ms (0: to its end).
 * It follows the log as the caller appends to it between slices, and ends
 * at an end it finds with nothing appended since it looked: then, with no
 * append in between, ep takes the replay of the log up to where the TPM
 * stopped, and rec says what must follow, as recover_epoch() does; the
 * tail holds every entry after that, those appended during the scan too,
 * in log order. The TPM must not be extended while it runs (its PCR was
 * read at its start; a PCR that changed meanwhile fails it, -EAGAIN).
 * Returns 0 while there is more to read, 1 when done; on an error ep is
 * unchanged, and the scan is to be freed and begun anew.
 */
int recover_scan_step(struct recover_scan *scan, struct epoch *ep, struct tpm *tpm, int slice_ms,
		      struct recovery *rec);
/*
 * How far the scan is: the entries it has read, counted from the epoch's
 * start as ep->entries is (those before the anchor the log starts at, if
 * retention removed the segments before it, included).
 */
uint64_t recover_scan_read(const struct recover_scan *scan);
void recover_scan_free(struct recover_scan *scan);
/*
 * Extend the tail rec found, in order: what is in memory, then the rest,
 * read back from the log RECOVER_WINDOW bytes at a time (rec->tail is
 * reused for it). A log that no longer holds what the scan found there
 * is an error. Errors are logged.
 */
int recover_extend_tail(struct epoch *ep, struct tpm *tpm, struct recovery *rec);
void recovery_free(struct recovery *rec);

/*
 * Read the log back from *at, with the reader recovery replays it with:
 * whole entries, max bytes of them at most (but one at least), appended to
 * out, and *at moved past them. The daemon keeps only a window of the
 * durable entries that wait for the TPM in memory, and reads the rest back
 * from the log, in order, to extend them (collector.c). Errors are logged;
 * -ENODATA: the log ends at *at.
 */
int recover_read_back(const char *epoch_dir, struct log_spot *at, size_t max, struct buf *out);

#endif
