/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The start of a TPM epoch's log. A fresh epoch begins with an aggregate
 * entry: on PCR 10 the kernel's own IMA list (boot_aggregate) is imported,
 * so the log replays PCR 10 exactly; on any other PCR, or without kernel
 * IMA, bima writes its own boot_aggregate over PCRs 0-9. An epoch that
 * already has a log is continued only if the log replays to the TPM.
 */
#ifndef BIMA_EPOCH_H
#define BIMA_EPOCH_H

#include <stdbool.h>

#include "ascii.h"
#include "digestset.h"
#include "log.h"
#include "replay.h"
#include "tpm.h"

struct epoch {
	char dir[LOG_PATH_MAX];
	uint32_t pcr;		   /* the PCR bima extends */
	struct replay replay;	   /* the PCRs as the log has them */
	uint64_t entries;	   /* entries in the epoch's log */
	uint32_t reset, restart;   /* the TPM's counters: which epoch this is */
	bool kernel_ima;	   /* the kernel has IMA */
	uint64_t kernel_ima_count; /* its entries when bima started, for the PCR 10 check */
	struct digestset logged;   /* template digests the log holds, read at recovery */
	uint64_t last_snapshot;	   /* the id of the log's last snapshot_aggregate entry, or 0 */
	struct ascii *ascii;	   /* the live ASCII list, or NULL (ascii.h) */
};

/*
 * Find the TPM's epoch under log_dir, check or start its log, and open a
 * new segment in *log for what follows. With ascii_link, also keep the
 * epoch's ASCII list, linked there (ascii.h). Errors are logged here.
 */
int epoch_begin(struct epoch *ep, struct tpm *tpm, const char *log_dir, uint32_t pcr,
		const char *ascii_link, struct log **log);
/* Close what epoch_begin() opened but the log. */
void epoch_end(struct epoch *ep);

/*
 * Compare the replay with the TPM for every PCR the log touched, settling
 * which banks are zero-padded SHA-1 (replay.h); logs each difference.
 */
int epoch_check_tpm(struct replay *r, struct tpm *tpm, uint32_t *bad_pcr);

/*
 * Append entries (an encoded list) to the ASCII list, if any, and then to
 * log, and make them durable; errors are logged.
 */
int epoch_write(struct epoch *ep, struct log *log, const struct buf *entries);
/*
 * Extend durable entries into the TPM, from byte *done on, at most max of
 * them (0: all); *done moves past each entry extended, so a failed call can
 * be repeated.
 */
int epoch_extend(struct epoch *ep, struct tpm *tpm, const struct buf *entries, size_t *done,
		 unsigned int max);
/* epoch_write(), then epoch_extend(): the log always before the TPM. */
int epoch_commit(struct epoch *ep, struct tpm *tpm, struct log *log, const struct buf *entries);

#endif
