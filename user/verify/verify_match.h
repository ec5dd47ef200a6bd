/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Where the log agrees with the reference (verify_ref.h): after which
 * entry each PCR held the TPM's values, in every bank it has, or the
 * values a quote signs. The banks' threads (preplay.h) note the
 * candidates as they replay; the match is found at the end.
 */
#ifndef BIMA_VERIFY_MATCH_H
#define BIMA_VERIFY_MATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "replay.h"
#include "verify_ref.h"

/* Where the log last agreed with the reference for a PCR. */
struct position {
	bool valid;
	unsigned int segment, index;
	uint64_t entry;
	uint64_t clock; /* of the last snapshot quote before it */
};

/*
 * Where a quote may match. A quote's PCR digest is a hash of the PCR's
 * values after some entry; a hash chain never comes back to a value, so at
 * most one entry of the log matches it, and it is most often the last: the
 * log is copied after the quote, a little ahead of it at most. The digest,
 * one per way a bank may be extended (up to 8), costs more than replaying
 * the entry, so it is taken only at the end: at the most recent entries of
 * the quoted PCR, newest first, kept here with where they are; and only if
 * none of them matches, at every older entry, the log read again.
 */
#define RECENT_MAX 256

struct recent {
	uint32_t pcr;	/* the quoted PCR, TPM_PCR_COUNT if the quote covers not one */
	uint64_t count; /* entries of the PCR kept so far; the last RECENT_MAX are here */
	struct position pos[RECENT_MAX];
	/*
	 * The values after pos[k], by bank: each bank's thread writes its own
	 * row after every entry, which keeps it off the cache lines the other
	 * threads write (a struct replay_point a slot, each bank's value
	 * sharing lines with its neighbours', cost about 1 % of a run).
	 */
	uint8_t value[TPM_BANKS_MAX][RECENT_MAX][HASHALG_MAX_SIZE];
	uint8_t value_padded[TPM_BANKS_MAX][RECENT_MAX][HASHALG_MAX_SIZE];
	struct clock_mark {
		uint64_t entry, clock; /* from entry on, the last snapshot quote's clock */
	} * marks;
	size_t nmarks;
};

void recent_init(struct recent *q, const struct tpm_quote_info *qi);
/* An entry of pcr is pushed at pos: the slot its values go to (-1 for none). */
int recent_slot(struct recent *q, uint32_t pcr, const struct position *pos);
/* After entry, the last snapshot quote's clock is clock. */
int recent_mark(struct recent *q, uint64_t entry, uint64_t clock);
void recent_free(struct recent *q);

/*
 * What each bank's thread looks at after an entry (preplay.h): against the
 * TPM, where the bank last held the TPM's value, either way; for a quote,
 * the bank's values for the recent entries of the quoted PCR.
 */
struct watch {
	const struct replay *r;
	const struct reference *ref;
	struct recent *recent;
	struct position normal[TPM_PCR_COUNT][TPM_BANKS_MAX], padded[TPM_PCR_COUNT][TPM_BANKS_MAX];
	uint64_t last[TPM_PCR_COUNT][TPM_BANKS_MAX]; /* the last entry of each PCR */
};

/* What is pushed with an entry: where it is, and its slot in recent (-1: none). */
struct pushed {
	struct position pos; /* its clock is filled in at the end (clock_at) */
	int slot;
};

/* preplay's callback: what bank b of the replay holds after the entry. */
void watch_entry(void *ctx, size_t b, const struct template_entry *e, const void *user);
/*
 * The last entry after which every bank of pcr the TPM has held the TPM's
 * value, either way (a hash chain never comes back to a value: one entry
 * at most); a bank that held it only the zero-padded SHA-1 way is settled
 * so (replay.h).
 */
void match_tpm(const struct watch *w, struct replay *r, uint32_t pcr, struct position *match);
/*
 * Whether every bank the TPM has of pcr held the TPM's value its own way
 * after the PCR's last entry: then match_tpm finds that entry, whatever
 * the padded way holds, and the lazy replay needs nothing more.
 */
bool own_way_at_end(const struct watch *w, uint32_t pcr);
/*
 * Replay the log again, every way, for where each bank held the TPM's
 * value (w), as a replay that is not lazy finds them on the way; r takes
 * the padded values.
 */
int rescan_tpm(struct watch *w, struct replay *r, uint64_t first);
/*
 * Where the log matches the quote, if it does: match[q->pcr]. first is the
 * number of the entry the log starts after (its anchor's, or 0).
 */
int match_quote(struct reference *ref, const struct recent *q, const struct replay *r,
		uint64_t first, struct position *match);

#endif
