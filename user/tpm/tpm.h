/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The TPM, through tpm2-tss ESYS, but for TPM2_PCR_Extend, which tpm.c
 * marshals itself. Only tpm.c includes tss2 headers.
 */
#ifndef BIMA_TPM_H
#define BIMA_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "hashalg.h"

#define TPM_PCR_COUNT 24
#define TPM_BANKS_MAX 8

struct tpm;

/* One digest for one bank, as TPM2_PCR_Extend takes it. */
struct tpm_digest {
	const struct hashalg *alg;
	uint8_t value[HASHALG_MAX_SIZE];
};

/* Open the TPM through a TCTI string such as "device:/dev/tpmrm0" or "swtpm:port=2321". */
int tpm__open(const char *tcti, struct tpm **out);
void tpm__free(struct tpm *tpm);

/* The TPM's PCR allocation: each bank bima knows, and the PCRs it has (bit n: PCR n). */
#define TPM_ALLOC_HIGH (1u << 31) /* a PCR past 23 */
struct tpm_allocation {
	const struct hashalg *banks[TPM_BANKS_MAX];
	uint32_t pcrs[TPM_BANKS_MAX];
	size_t nbanks;
};

/* One TPM2_GetCapability: the banks with some PCR allocated, in the TPM's order. */
int tpm_allocation(struct tpm *tpm, struct tpm_allocation *a);
/* Those of a that have pcr allocated, or (pcr below 0) any PCR. */
void tpm_allocated(const struct tpm_allocation *a, int pcr, const struct hashalg **banks,
		   size_t *n);
/* The banks that have pcr allocated, in the TPM's order; unknown algorithms are skipped. */
int tpm_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg **banks, size_t *n);
/* The banks that have some PCR allocated, in the TPM's order. */
int tpm_banks_any(struct tpm *tpm, const struct hashalg **banks, size_t *n);
int tpm_pcr_read(struct tpm *tpm, uint32_t pcr, const struct hashalg *bank, uint8_t *value);
/* pcr in n banks (at most TPM_BANKS_MAX), values[i] bank i's: one TPM2_PCR_Read if the TPM can. */
int tpm_pcr_read_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg *const *banks, size_t n,
		       uint8_t *const *values);
int tpm_pcr_extend(struct tpm *tpm, uint32_t pcr, const struct tpm_digest *d, size_t n);
/* TPM2_ReadClock's reset and restart counts: the TPM epoch. */
int tpm_epoch(struct tpm *tpm, uint32_t *reset_count, uint32_t *restart_count);

/*
 * The attestation key: ECC P-256, ECDSA with SHA-256, restricted signing,
 * a child of a storage primary in the endorsement hierarchy (ECC P-256,
 * made anew from the same template each time, so the same key; see srk()
 * for why not the owner's). Kept as its public and private blobs
 * (TPM2B_PUBLIC and TPM2B_PRIVATE, marshaled).
 */
#define TPM_BLOB_MAX 1024
struct tpm_ak {
	uint8_t pub[TPM_BLOB_MAX], priv[TPM_BLOB_MAX];
	size_t pub_len, priv_len;
};

/* A TPM2_Quote: the TPMS_ATTEST it signed (marshaled) and the ECDSA signature. */
struct tpm_quote {
	uint8_t attest[TPM_BLOB_MAX];
	size_t attest_len;
	uint8_t r[32], s[32];
};

/* What a quote's TPMS_ATTEST says. */
struct tpm_quote_info {
	uint8_t extra[64]; /* the nonce */
	size_t extra_len;
	uint32_t reset, restart;	  /* the TPM's counters: its epoch */
	uint64_t clock;			  /* the TPM's clock, ms: only goes up in an epoch */
	uint16_t bank_alg[TPM_BANKS_MAX]; /* the banks quoted, in order */
	size_t nbanks;
	uint32_t pcr_mask;	/* the PCRs quoted (the same in every bank) */
	uint8_t pcr_digest[64]; /* the hash of their values */
	size_t pcr_digest_len;
};

/* Read a quote's TPMS_ATTEST; -EBADMSG if it is not one. */
int tpm_quote_info(const uint8_t *attest, size_t len, struct tpm_quote_info *qi);
int tpm_ak_create(struct tpm *tpm, struct tpm_ak *ak);
/* The AK's public point, from its blob. */
int tpm_ak_point(const struct tpm_ak *ak, uint8_t x[32], uint8_t y[32]);
/* Quote pcr in the given banks with the AK, over nonce (at most 64 bytes). */
int tpm_quote(struct tpm *tpm, const struct tpm_ak *ak, const uint8_t *nonce, size_t nonce_len,
	      uint32_t pcr, const struct hashalg *const *banks, size_t nbanks, struct tpm_quote *q);

#endif
