/* SPDX-License-Identifier: GPL-2.0-only */
/* PCR replay of a measurement list, for every bank at once. */
#ifndef BIMA_REPLAY_H
#define BIMA_REPLAY_H

#include "template.h"
#include "tpm.h"

struct replay {
	size_t nbanks;
	const struct hashalg *banks[TPM_BANKS_MAX];
	uint8_t pcr[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint32_t used; /* bit n set: PCR n was extended by some entry */
};

/* Start every PCR of every bank at zero. */
void replay_init(struct replay *r, const struct hashalg *const *banks, size_t nbanks);
/* Extend e into its PCR in every bank; -ERANGE for a PCR number past 23. */
int replay_entry(struct replay *r, const struct template_entry *e);
/* The digests that extending e adds, one per bank, for TPM2_PCR_Extend. */
int replay_digests(const struct replay *r, const struct template_entry *e, struct tpm_digest *d);

#endif
