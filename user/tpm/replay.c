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

void replay_set(struct replay *r, uint32_t pcr, const struct hashalg *bank, const uint8_t *value)
{
	for (size_t b = 0; b < r->nbanks && pcr < TPM_PCR_COUNT; b++)
		if (r->banks[b] == bank) {
			memcpy(r->pcr[pcr][b], value, bank->size);
			memcpy(r->pcr_padded[pcr][b], value, bank->size);
			r->own_way[b] &= ~(1u << pcr);
			r->used |= 1u << pcr;
		}
}

/* The zero-padded SHA-1 template hash (0xff... for a violation). */
static void padded_digest(const struct template_entry *e, const struct hashalg *bank, uint8_t *out)
{
	if (template_is_violation(e)) {
		memset(out, 0xff, bank->size);
		return;
	}
	memset(out, 0, bank->size);
	memcpy(out, e->digest, sizeof(e->digest));
}

int replay_digests(const struct replay *r, const struct template_entry *e, struct tpm_digest *d)
{
	int err;

	for (size_t b = 0; b < r->nbanks; b++) {
		d[b].alg = r->banks[b];
		if (r->padded[b]) {
			padded_digest(e, r->banks[b], d[b].value);
			continue;
		}
		err = template_bank_digest(e, r->banks[b], d[b].value);
		if (err)
			return err;
	}
	return 0;
}

/* The digest extended into bank; H(data) is known for SHA-1 when checked. */
static int bank_digest(const struct template_entry *e, const struct hashalg *bank, bool checked,
		       uint8_t *out)
{
	if (checked && bank->size == TEMPLATE_DIGEST_SIZE && bank->kernel_id == 2 /* sha1 */ &&
	    !template_is_violation(e)) {
		memcpy(out, e->digest, TEMPLATE_DIGEST_SIZE);
		return 0;
	}
	return template_bank_digest(e, bank, out);
}

/* Both ways of bank b: digest into pcr, and padded, e's padded digest, into pcr_padded. */
static int extend_both(struct replay *r, size_t b, const struct template_entry *e,
		       const uint8_t *digest, const uint8_t *padded)
{
	const struct hashalg *bank = r->banks[b];
	uint8_t *pcr = r->pcr[e->pcr][b], *pcr_padded = r->pcr_padded[e->pcr][b];
	bool same;
	int err;

	same = !memcmp(pcr, pcr_padded, bank->size) && !memcmp(digest, padded, bank->size);
	err = hashalg_extend(bank, pcr, digest);
	/* A SHA-1 bank, or a violation: both ways extend one value by one digest. */
	if (same)
		memcpy(pcr_padded, pcr, bank->size);
	else
		err = err ?: hashalg_extend(bank, pcr_padded, padded);
	return err;
}

int replay_bank_digest(struct replay *r, size_t b, const struct template_entry *e,
		       const uint8_t *digest)
{
	uint8_t padded[HASHALG_MAX_SIZE];

	if (r->lazy || r->own_way[b] & (1u << e->pcr))
		return hashalg_extend(r->banks[b], r->pcr[e->pcr][b], digest);
	padded_digest(e, r->banks[b], padded);
	return extend_both(r, b, e, digest, padded);
}

int replay_bank(struct replay *r, size_t b, const struct template_entry *e, bool checked)
{
	uint8_t digest[HASHALG_MAX_SIZE];

	return bank_digest(e, r->banks[b], checked, digest) ?: replay_bank_digest(r, b, e, digest);
}

int replay_padded(struct replay *r, const struct template_entry *e)
{
	uint8_t padded[HASHALG_MAX_SIZE];
	int err = 0;

	if (e->pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	for (size_t b = 0; !err && b < r->nbanks; b++) {
		padded_digest(e, r->banks[b], padded);
		err = hashalg_extend(r->banks[b], r->pcr_padded[e->pcr][b], padded);
	}
	return err;
}

static int extend_entry(struct replay *r, const struct template_entry *e, bool checked)
{
	int err = 0;

	if (e->pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	for (size_t b = 0; !err && b < r->nbanks; b++)
		err = replay_bank(r, b, e, checked);
	if (!err)
		r->used |= 1u << e->pcr;
	return err;
}

int replay_digests_own(const struct replay *r, const struct template_entry *e, struct tpm_digest *d,
		       struct tpm_digest *own)
{
	int err;

	for (size_t b = 0; b < r->nbanks; b++) {
		own[b].alg = d[b].alg = r->banks[b];
		if (r->padded[b]) { /* the TPM and the replay take the padded digest only */
			padded_digest(e, r->banks[b], d[b].value);
			continue;
		}
		err = template_bank_digest(e, r->banks[b], own[b].value);
		if (err)
			return err;
		memcpy(d[b].value, own[b].value, r->banks[b]->size);
	}
	return 0;
}

/* Bank b, the way the TPM took e: a padded bank its padded way only (replay_value). */
static int replay_bank_own(struct replay *r, size_t b, const struct template_entry *e,
			   const uint8_t *own)
{
	const struct hashalg *bank = r->banks[b];
	uint8_t padded[HASHALG_MAX_SIZE];
	uint32_t bit = 1u << e->pcr;
	int err;

	if (!r->padded[b] && r->own_way[b] & bit)
		return hashalg_extend(bank, r->pcr[e->pcr][b], own);
	padded_digest(e, bank, padded);
	if (r->padded[b])
		return hashalg_extend(bank, r->pcr_padded[e->pcr][b], padded);
	err = extend_both(r, b, e, own, padded);
	/* Not a SHA-1 bank's digest, nor a violation's: no padded chain can match after it. */
	if (!err && memcmp(own, padded, bank->size))
		r->own_way[b] |= bit;
	return err;
}

int replay_entry_own(struct replay *r, const struct template_entry *e, const struct tpm_digest *own)
{
	int err = 0;

	if (e->pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	for (size_t b = 0; !err && b < r->nbanks; b++)
		err = replay_bank_own(r, b, e, own[b].value);
	if (!err)
		r->used |= 1u << e->pcr;
	return err;
}

int replay_entry(struct replay *r, const struct template_entry *e)
{
	return extend_entry(r, e, false);
}

int replay_entry_checked(struct replay *r, const struct template_entry *e)
{
	return extend_entry(r, e, true);
}

const uint8_t *replay_value(const struct replay *r, uint32_t pcr, size_t b)
{
	return r->padded[b] ? r->pcr_padded[pcr][b] : r->pcr[pcr][b];
}

bool replay_matches(const struct replay *r, uint32_t pcr, size_t b, const uint8_t *tpm_value)
{
	size_t size = r->banks[b]->size;

	return !memcmp(replay_value(r, pcr, b), tpm_value, size) ||
	       (!r->padded[b] && !(r->own_way[b] & (1u << pcr)) &&
		!memcmp(r->pcr_padded[pcr][b], tpm_value, size));
}

bool replay_settle(struct replay *r, uint32_t pcr, size_t b, const uint8_t *tpm_value)
{
	if (!replay_matches(r, pcr, b, tpm_value))
		return false;
	if (memcmp(replay_value(r, pcr, b), tpm_value, r->banks[b]->size))
		r->padded[b] = true;
	return true;
}

void replay_save(const struct replay *r, uint32_t pcr, struct replay_point *p)
{
	memcpy(p->pcr, r->pcr[pcr], sizeof(p->pcr));
	memcpy(p->pcr_padded, r->pcr_padded[pcr], sizeof(p->pcr_padded));
	for (size_t b = 0; b < TPM_BANKS_MAX; b++)
		p->own_way[b] = r->own_way[b] & (1u << pcr);
}

void replay_restore(struct replay *r, uint32_t pcr, const struct replay_point *p)
{
	memcpy(r->pcr[pcr], p->pcr, sizeof(p->pcr));
	memcpy(r->pcr_padded[pcr], p->pcr_padded, sizeof(p->pcr_padded));
	for (size_t b = 0; b < TPM_BANKS_MAX; b++)
		r->own_way[b] = (r->own_way[b] & ~(1u << pcr)) | (p->own_way[b] ? 1u << pcr : 0);
}
