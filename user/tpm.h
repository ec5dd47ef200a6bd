/* SPDX-License-Identifier: GPL-2.0-only */
/* The TPM, through tpm2-tss ESYS. Only tpm.c includes tss2 headers. */
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

/* The banks that have pcr allocated, in the TPM's order; unknown algorithms are skipped. */
int tpm_banks(struct tpm *tpm, uint32_t pcr, const struct hashalg **banks, size_t *n);
int tpm_pcr_read(struct tpm *tpm, uint32_t pcr, const struct hashalg *bank, uint8_t *value);
int tpm_pcr_extend(struct tpm *tpm, uint32_t pcr, const struct tpm_digest *d, size_t n);
/* TPM2_ReadClock's reset and restart counts: the TPM epoch. */
int tpm_epoch(struct tpm *tpm, uint32_t *reset_count, uint32_t *restart_count);

#endif
