/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `bima verify` compares the log with: the TPM's PCRs, read as the
 * replay needs them, or a quote of them, checked against the attestation
 * key and the nonce. And the banks worth replaying for either: those the
 * TPM allocates, or those the quote and the log's snapshots hold.
 */
#ifndef BIMA_VERIFY_REF_H
#define BIMA_VERIFY_REF_H

#include <stdbool.h>
#include <stdint.h>

#include "ak.h"
#include "replay.h"
#include "tpm.h"
#include "verify.h"

/* The TPM's values, for each PCR read, in the banks both it and the replay have. */
struct tpm_values {
	uint32_t nbanks[TPM_PCR_COUNT];
	int index[TPM_PCR_COUNT][TPM_BANKS_MAX]; /* into replay.banks */
	/* 1 + i where index[pcr][i] is replay bank b, in of_bank[pcr][b]; 0: none */
	uint8_t of_bank[TPM_PCR_COUNT][TPM_BANKS_MAX];
	uint8_t value[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint32_t read;		     /* bit n: PCR n read */
	struct tpm_allocation alloc; /* the TPM's banks, asked once */
	bool have_alloc;
};

/*
 * The replay is lazy (replay.h): its banks are extended their own way
 * only, as a log that is not padded needs. The padded way is caught up from
 * the log, and kept from then on, the first time a comparison that the
 * own way fails needs it: a snapshot's values, its quote, a kernel anchor.
 * At the end, a PCR that does not match the reference its own way, after
 * a replay that was lazy for some part, is looked for again in a full replay
 * of the log (verify_match.h), so that every way is tried as before.
 */
struct lazy_pad {
	const char *epoch_dir;
	uint64_t since;
	uint64_t pushed; /* entries given to the replay so far */
	bool was_lazy;	 /* some of them without the padded way */
};

/* What the log is compared with: the TPM's PCRs, or a quote of them. */
struct reference {
	struct tpm *tpm; /* NULL with a quote */
	struct tpm_values t;
	struct tpm_quote_info qi; /* the quote's, when tpm is NULL */
	EVP_PKEY *ak;		  /* checks the quotes, the snapshots' too; may be NULL */
	int way; /* bit b: bank b of the replay takes padded SHA-1 (replay.h); -1: unknown */
	struct lazy_pad lazy;
};

/*
 * Open the reference: the quote given, checked against the key and the
 * nonce, or the TPM (and the log directory's key, if it is the TPM's).
 * Prints what it is; a VERIFY_* result. *epoch_dir, if NULL, becomes the
 * reference's epoch under o->log_dir, in dir.
 */
int ref_open(const struct verify_opts *o, struct reference *ref, char *dir, size_t len,
	     const char **epoch_dir);
void ref_close(struct reference *ref);

/* Replay only the banks the reference can be compared in (see verify_ref.c). */
int ref_banks(struct reference *ref, const char *epoch_dir, uint64_t since, bool tpm_epoch,
	      struct replay *r);

/*
 * The TPM's values of pcr in every bank both it and the replay have, in
 * one TPM2_PCR_Read; -ERANGE past 23.
 */
int ref_read_pcr(struct tpm *tpm, const struct replay *r, struct tpm_values *t, uint32_t pcr);
/* Print pcr in the log's and the TPM's banks, side by side. */
void ref_print_pcr(const struct replay *r, const struct tpm_values *t, uint32_t pcr);

/* A quote's signature, by the attestation key, and what it says; -EBADMSG if unsigned. */
int ref_read_quote(EVP_PKEY *ak, const struct tpm_quote *q, struct tpm_quote_info *qi);
/*
 * Whether a quote's PCR digest is that of the replayed values. While it is
 * not known which banks the kernel extends with padded SHA-1, every way is
 * tried; the first quote that matches settles it (*way).
 */
bool ref_digest_matches(const struct replay *r, uint32_t pcr, const struct tpm_quote_info *qi,
			int *way);

/* Catch up the padded way of r from the log: every entry pushed so far. */
int ref_catch_up(const struct reference *ref, struct replay *r);
/*
 * Whether bank i of pcr holds value either way (1, or 0), catching up the
 * padded way if the bank's own way does not hold it; an error below 0.
 */
int ref_holds(const struct reference *ref, struct replay *r, uint32_t pcr, size_t i,
	      const uint8_t *value);

#endif
