/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The chain of snapshots, as `bima verify` reads the log (snapshot.h):
 * each snapshot_aggregate entry checked against the log before it, its
 * quote against the attestation key, and, for the running daemon's log,
 * against the kernel's anchor of it. A check that fails returns -EBADMSG
 * with why (WHY_LEN bytes); -ENOKEY when it cannot be checked without the
 * attestation key.
 */
#ifndef BIMA_VERIFY_CHAIN_H
#define BIMA_VERIFY_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/bima.h"
#include "log.h"
#include "template.h"
#include "verify_ref.h"

#define WHY_LEN (AK_WHY_LEN + 512) /* room for a reason, and what caused it (a file) */
/* Say why into why, a WHY_LEN buffer in scope. */
#define WHY(...) snprintf(why, WHY_LEN, __VA_ARGS__)

/* Where the chain of snapshots is, while the log is read (snapshot.h). */
struct chain {
	uint64_t last_id, count, quoted;
	uint32_t reset, restart; /* the epoch of the directory */
	bool quote_due;		 /* the last snapshot's quote is checked after its entry */
	bool anchor;		 /* the last snapshot is the anchor the log starts from */
	uint8_t nonce[32];	 /* its text's sha256 */
	uint32_t pcr;
	uint64_t clock;				  /* the TPM's clock in the last snapshot's quote */
	unsigned int segment;			  /* the segment being read */
	uint8_t hashes_xor[TEMPLATE_DIGEST_SIZE]; /* of its template hashes so far */
};

/* Follow the segments, for the digests a snapshot holds of the segment it closes. */
void chain_follow(struct chain *ch, struct log_cursor *c);
/*
 * Check a snapshot_aggregate entry against the log before it: the id above
 * the last, prev naming it, the epoch, the entry count, the segment's
 * digests, and the PCR values the replay has (r, before this entry). The
 * entry the log starts from (an anchor) is the start of the chain, taken as
 * it is: its quote vouches for it. Any other entry passes.
 */
int check_snapshot(struct chain *ch, const struct template_entry *e,
		   const struct template_fields *f, struct log_cursor *c,
		   const struct reference *ref, struct replay *r, uint64_t entries, char *why);
/*
 * Check the quote of the snapshot just replayed (quote-ID.attest and .sig
 * in the epoch directory): the AK's signature, the nonce (the snapshot
 * text's sha256), the TPM's epoch, its clock after the last one, and the
 * PCR values after the snapshot entry. A snapshot without a quote is
 * noted, but the anchor the log starts from must have one.
 */
int check_quote(struct chain *ch, struct reference *ref, struct replay *r, const char *epoch_dir,
		char *why);

/* The kernel's anchors (bima_anchors), when the log is the running daemon's. */
struct kernel_anchors {
	struct bima_anchor slot[BIMA_ANCHORS_MAX];
	bool seen[BIMA_ANCHORS_MAX];
	bool have;
	uint64_t first, agreed; /* the log's first snapshot id; anchors that agree with it */
};

/*
 * The snapshot just checked against the kernel's anchor of the same id, if
 * the kernel still holds it: the entries up to it, its segment and PCR, the
 * PCR values after it, and its quote's digest.
 */
int check_kernel_anchor(struct kernel_anchors *ka, const struct chain *ch,
			const struct reference *ref, struct replay *r, uint64_t entries,
			const char *epoch_dir, char *why);
/* An anchor the kernel holds within the log's chain that the log lacks. */
const struct bima_anchor *missing_anchor(const struct kernel_anchors *ka, const struct chain *ch);

#endif
