/* SPDX-License-Identifier: GPL-2.0-only */
/* PCR replay of a measurement list, for every bank at once. */
#ifndef BIMA_REPLAY_H
#define BIMA_REPLAY_H

#include <stdbool.h>

#include "template.h"
#include "tpm.h"

/*
 * A kernel whose crypto lacks a bank's hash when IMA starts (Debian's 6.1
 * and sha384/sha512, built as modules) extends that bank with the SHA-1
 * template hash, zero-padded. Both ways are replayed for every bank; which
 * one a bank uses is settled by comparing with the TPM (replay_settle), or
 * by the writer that extends it (replay_entry_own), which from then on
 * replays that way only.
 */
struct replay {
	size_t nbanks;
	const struct hashalg *banks[TPM_BANKS_MAX];
	bool padded[TPM_BANKS_MAX]; /* bank b takes the zero-padded SHA-1 template hash */
	uint8_t pcr[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE];	    /* bank's own hash */
	uint8_t pcr_padded[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE]; /* padded SHA-1 */
	uint32_t used; /* bit n set: PCR n was extended by some entry */
	/*
	 * Bit n of own_way[b]: the TPM took a digest of bank b's own hash
	 * into PCR n that is not the padded one (replay_entry_own), so no
	 * padded chain can equal it any more: pcr_padded is no longer
	 * replayed there, nor compared. replay_init and replay_set clear it,
	 * replay_restore takes it back with the values (replay_point).
	 */
	uint32_t own_way[TPM_BANKS_MAX];
	/*
	 * While set, replay_bank extends each bank its own way only and
	 * pcr_padded is left behind: a caller that rarely needs the padded
	 * way (verify) saves a third of the hashing, and catches the padded
	 * way up (replay_padded) from the log when it turns out to need it.
	 */
	bool lazy;
};

/* Start every PCR of every bank at zero. */
void replay_init(struct replay *r, const struct hashalg *const *banks, size_t nbanks);
/*
 * Start pcr of bank at value, both ways: the log is replayed from an anchor
 * (a snapshot_aggregate entry's values) instead of from zero.
 */
void replay_set(struct replay *r, uint32_t pcr, const struct hashalg *bank, const uint8_t *value);
/* Extend e into its PCR in every bank; -ERANGE for a PCR number past 23. */
int replay_entry(struct replay *r, const struct template_entry *e);
/*
 * The same, for an entry whose template hash the caller has checked to be
 * the SHA-1 of its data: the SHA-1 bank extends that hash instead of
 * hashing the data again.
 */
int replay_entry_checked(struct replay *r, const struct template_entry *e);
/*
 * Extend e into bank b alone, both ways, as replay_entry does for each bank
 * (checked: as replay_entry_checked); e->pcr must be below TPM_PCR_COUNT,
 * and the PCR is not marked used. It touches bank b's values only, so that
 * each bank may be replayed by a thread of its own (preplay.h).
 */
int replay_bank(struct replay *r, size_t b, const struct template_entry *e, bool checked);
/*
 * The same, with digest, bank b's digest of e (template_bank_digest),
 * taken by the caller: for several entries at once (preplay.c).
 */
int replay_bank_digest(struct replay *r, size_t b, const struct template_entry *e,
		       const uint8_t *digest);
/*
 * Extend e's zero-padded SHA-1 template hash (0xff... for a violation) into
 * pcr_padded of every bank: to catch up the padded way of a lazy replay.
 */
int replay_padded(struct replay *r, const struct template_entry *e);
/* The digests that extending e adds, one per bank, for TPM2_PCR_Extend. */
int replay_digests(const struct replay *r, const struct template_entry *e, struct tpm_digest *d);
/*
 * replay_digests and replay_entry for a writer that extends the TPM, with
 * the template data hashed once a bank: replay_digests_own gives the
 * digests for TPM2_PCR_Extend in d and each bank's own digest of e in own
 * (TPM_BANKS_MAX each; not taken for a padded bank, which needs none);
 * replay_entry_own extends e into r as replay_entry does, from own, once
 * the TPM took d. It replays the way the TPM took only: a padded bank its
 * padded way, and another its own way, both ways until the TPM takes a
 * digest there that is not the padded one (own_way): that skips a third of
 * the hashing, for nothing, since no padded chain can match after it.
 */
int replay_digests_own(const struct replay *r, const struct template_entry *e, struct tpm_digest *d,
		       struct tpm_digest *own);
int replay_entry_own(struct replay *r, const struct template_entry *e,
		     const struct tpm_digest *own);
/* The replayed value of pcr in bank b, the way the bank is extended. */
const uint8_t *replay_value(const struct replay *r, uint32_t pcr, size_t b);
/* Whether bank b of pcr equals the TPM's value, either way while unsettled. */
bool replay_matches(const struct replay *r, uint32_t pcr, size_t b, const uint8_t *tpm_value);
/*
 * Compare bank b of pcr with the TPM's value; if only the zero-padded SHA-1
 * way matches, mark the bank padded. Returns true on a match either way.
 */
bool replay_settle(struct replay *r, uint32_t pcr, size_t b, const uint8_t *tpm_value);

/*
 * One PCR's values in every bank, both ways, and whether each bank had
 * settled its own way there: to go back to an earlier point. The padded
 * value of a settled bank is stale, so it goes back settled, or it would be
 * compared again.
 */
struct replay_point {
	uint8_t pcr[TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint8_t pcr_padded[TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	bool own_way[TPM_BANKS_MAX];
};

void replay_save(const struct replay *r, uint32_t pcr, struct replay_point *p);
void replay_restore(struct replay *r, uint32_t pcr, const struct replay_point *p);

#endif
