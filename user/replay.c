// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "replay.h"

void replay_init(struct replay *r, const struct hashalg *const *banks, size_t nbanks)
{
	memset(r, 0, sizeof(*r));
	r->nbanks = nbanks < TPM_BANKS_MAX ? nbanks : TPM_BANKS_MAX;
	memcpy(r->banks, banks, r->nbanks * sizeof(banks[0]));
}

int replay_digests(const struct replay *r, const struct template_entry *e, struct tpm_digest *d)
{
	int err;

	for (size_t b = 0; b < r->nbanks; b++) {
		d[b].alg = r->banks[b];
		err = template_bank_digest(e, r->banks[b], d[b].value);
		if (err)
			return err;
	}
	return 0;
}

int replay_entry(struct replay *r, const struct template_entry *e)
{
	struct tpm_digest d[TPM_BANKS_MAX];
	int err;

	if (e->pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	err = replay_digests(r, e, d);
	for (size_t b = 0; !err && b < r->nbanks; b++)
		err = hashalg_extend(r->banks[b], r->pcr[e->pcr][b], d[b].value);
	if (!err)
		r->used |= 1u << e->pcr;
	return err;
}
