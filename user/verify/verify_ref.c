// SPDX-License-Identifier: GPL-2.0-only
/* What `bima verify` compares the log with (verify_ref.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "snapshot.h"
#include "verify_ref.h"

/* The TPM's allocation, asked the first time only: it changes only at a TPM reset. */
static int ref_allocation(struct tpm *tpm, struct tpm_values *t)
{
	int err = t->have_alloc ? 0 : tpm_allocation(tpm, &t->alloc);

	t->have_alloc = !err;
	return err;
}

/* The TPM's values of pcr in every bank both it and the replay have. */
int ref_read_pcr(struct tpm *tpm, const struct replay *r, struct tpm_values *t, uint32_t pcr)
{
	const struct hashalg *banks[TPM_BANKS_MAX], *both[TPM_BANKS_MAX];
	uint8_t *values[TPM_BANKS_MAX];
	size_t n;
	int err;

	if (pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	if (t->read & (1u << pcr))
		return 0;
	err = ref_allocation(tpm, t);
	if (!err)
		tpm_allocated(&t->alloc, (int)pcr, banks, &n);
	for (size_t i = 0; !err && i < n; i++)
		for (size_t b = 0; b < r->nbanks; b++) {
			if (banks[i] != r->banks[b])
				continue;
			t->index[pcr][t->nbanks[pcr]] = b;
			t->of_bank[pcr][b] = 1 + t->nbanks[pcr];
			both[t->nbanks[pcr]] = banks[i];
			values[t->nbanks[pcr]] = t->value[pcr][t->nbanks[pcr]];
			t->nbanks[pcr]++;
		}
	if (!err && !t->nbanks[pcr]) {
		pr_err("TPM has no bank bima can replay for PCR %u", pcr);
		err = -ENOTSUP;
	}
	err = err ?: tpm_pcr_read_banks(tpm, pcr, both, t->nbanks[pcr], values);
	t->read |= 1u << pcr;
	return err;
}

void ref_print_pcr(const struct replay *r, const struct tpm_values *t, uint32_t pcr)
{
	char want[2 * HASHALG_MAX_SIZE + 1], have[2 * HASHALG_MAX_SIZE + 1];

	for (uint32_t i = 0; i < t->nbanks[pcr]; i++) {
		int b = t->index[pcr][i];
		size_t size = r->banks[b]->size;

		hex_encode(replay_value(r, pcr, b), size, want);
		hex_encode(t->value[pcr][i], size, have);
		printf("  PCR %u %-6s log %s\n  PCR %u %-6s TPM %s\n", pcr, r->banks[b]->name, want,
		       pcr, r->banks[b]->name, have);
	}
}

bool ref_digest_matches(const struct replay *r, uint32_t pcr, const struct tpm_quote_info *qi,
			int *way)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	size_t idx[TPM_BANKS_MAX], n = 0;
	uint8_t buf[TPM_BANKS_MAX * HASHALG_MAX_SIZE], d[32];
	unsigned int paddable = 0;

	if (pcr >= TPM_PCR_COUNT)
		return false;
	for (size_t b = 0; b < qi->nbanks; b++)
		for (size_t i = 0; i < r->nbanks; i++)
			if (r->banks[i]->tpm_id == qi->bank_alg[b])
				idx[n++] = i;
	if (n != qi->nbanks || qi->pcr_mask != 1u << pcr || qi->pcr_digest_len != 32)
		return false;
	/* Only a bank the quote covers and wider than SHA-1 can be padded: try no other way. */
	for (size_t b = 0; b < n; b++)
		if (r->banks[idx[b]]->size > TEMPLATE_DIGEST_SIZE)
			paddable |= 1u << idx[b];
	for (unsigned int w = 0; w < 1u << r->nbanks; w++) {
		size_t len = 0;

		/* A lazy replay has no padded values to try (replay.h). */
		if ((w & ~paddable) || (*way >= 0 && w != (unsigned int)*way) || (r->lazy && w))
			continue;
		for (size_t b = 0; b < n; b++) {
			const uint8_t *v = w & (1u << idx[b]) ? r->pcr_padded[pcr][idx[b]]
							      : r->pcr[pcr][idx[b]];

			memcpy(buf + len, v, r->banks[idx[b]]->size);
			len += r->banks[idx[b]]->size;
		}
		hashalg_digest(sha256, buf, len, d);
		if (!memcmp(d, qi->pcr_digest, 32)) {
			*way = w;
			return true;
		}
	}
	return false;
}

int ref_catch_up(const struct reference *ref, struct replay *r)
{
	const struct snapshot *start;
	struct template_entry e;
	struct log_cursor *c;
	uint64_t n = 0;
	int err;

	if (!r->lazy)
		return 0;
	err = log_cursor__open(ref->lazy.epoch_dir, ref->lazy.since, &c);
	if (err)
		goto out;
	memset(r->pcr_padded, 0, sizeof(r->pcr_padded));
	if ((start = log_cursor_start(c)))
		for (size_t b = 0; b < start->nbanks; b++)
			for (size_t i = 0; i < r->nbanks && start->pcr < TPM_PCR_COUNT; i++)
				if (r->banks[i] == start->banks[b])
					memcpy(r->pcr_padded[start->pcr][i], start->pcr_value[b],
					       start->banks[b]->size);
	while (n < ref->lazy.pushed && (err = log_cursor_next(c, &e)) > 0) {
		err = replay_padded(r, &e);
		if (err)
			break;
		n++;
	}
	err = err < 0 ? err : n == ref->lazy.pushed ? 0 : -EIO;
	log_cursor__free(c);
out:
	if (err)
		pr_err("%s: cannot read the log again for the zero-padded SHA-1 way: %s",
		       ref->lazy.epoch_dir, strerror(-err));
	else
		r->lazy = false;
	return err;
}

int ref_holds(const struct reference *ref, struct replay *r, uint32_t pcr, size_t i,
	      const uint8_t *value)
{
	size_t size = r->banks[i]->size;
	int err;

	if (!memcmp(r->pcr[pcr][i], value, size))
		return 1;
	err = ref_catch_up(ref, r);
	return err ?: !memcmp(r->pcr_padded[pcr][i], value, size);
}

int ref_read_quote(EVP_PKEY *ak, const struct tpm_quote *q, struct tpm_quote_info *qi)
{
	return ak_verify_key(ak, q) || tpm_quote_info(q->attest, q->attest_len, qi) ? -EBADMSG : 0;
}

/*
 * Against the TPM, in its own epoch, replay only the banks it allocates:
 * no other can be compared, and none is in this epoch's snapshots, their
 * quotes or the kernel's anchors, which hold the banks the daemon extends
 * (the TPM's; an allocation changes only at a TPM reset, a new epoch). A
 * TPM with sha1 and sha256 spares verify the sha384 and sha512 hashing.
 */
static int only_allocated(struct tpm *tpm, struct tpm_values *t, struct replay *r)
{
	const struct hashalg *have[TPM_BANKS_MAX], *keep[TPM_BANKS_MAX];
	size_t nhave, n = 0;
	int err;

	err = ref_allocation(tpm, t);
	if (err)
		return err;
	tpm_allocated(&t->alloc, -1, have, &nhave);
	for (size_t b = 0; b < r->nbanks; b++)
		for (size_t i = 0; i < nhave; i++)
			if (r->banks[b] == have[i]) {
				keep[n++] = r->banks[b];
				break;
			}
	replay_init(r, keep, n);
	return 0;
}

/* Bit b set for each bank r->banks[b] that snapshot s holds. */
static uint32_t banks_of(const struct replay *r, const struct snapshot *s)
{
	uint32_t mask = 0;

	for (size_t b = 0; b < r->nbanks; b++)
		for (size_t i = 0; i < s->nbanks; i++)
			if (r->banks[b] == s->banks[i])
				mask |= 1u << b;
	return mask;
}

/*
 * From a quote, replay only the banks it quotes and those the log's
 * snapshots hold (a snapshot's quote is over its banks): no other is
 * compared with anything. The snapshots are read ahead, the log parsed
 * once more but nothing hashed, unless the quote holds every bank already
 * (then they would add none). If it cannot be read to its end here, or a
 * snapshot cannot be read, every bank is replayed: the replay says why, as
 * before.
 */
static void only_quoted(const struct tpm_quote_info *qi, const char *epoch_dir, uint64_t since,
			struct replay *r)
{
	const struct hashalg *keep[TPM_BANKS_MAX];
	const struct snapshot *start;
	struct template_fields f;
	struct template_entry e;
	char why[TEMPLATE_WHY_LEN];
	struct log_cursor *c;
	struct snapshot s;
	uint32_t want = 0;
	size_t n = 0;
	int err;

	for (size_t b = 0; b < r->nbanks; b++)
		for (size_t i = 0; i < qi->nbanks; i++)
			if (r->banks[b]->tpm_id == qi->bank_alg[i])
				want |= 1u << b;
	/* The quote has every bank: the snapshots can add none, and the log need not be read. */
	if (want == (1u << r->nbanks) - 1 || log_cursor__open(epoch_dir, since, &c))
		return;
	if ((start = log_cursor_start(c)))
		want |= banks_of(r, start);
	while ((err = log_cursor_next(c, &e)) > 0) {
		if (strcmp(e.name, "ima-buf") || template_fields(&e, &f, why) ||
		    !template_record(&e, &f, SNAPSHOT_NAME))
			continue;
		err = snapshot_parse((const char *)f.extra, f.extra_len, &s);
		if (err)
			break;
		want |= banks_of(r, &s);
	}
	log_cursor__free(c);
	if (err)
		return;
	for (size_t b = 0; b < r->nbanks; b++)
		if (want & (1u << b))
			keep[n++] = r->banks[b];
	replay_init(r, keep, n);
}

int ref_open(const struct verify_opts *o, struct reference *ref, char *dir, size_t len,
	     const char **epoch_dir)
{
	char why[AK_WHY_LEN];
	struct tpm_ak key;
	struct tpm_quote q;
	uint8_t digest[32];
	uint32_t reset, restart;
	int err;

	ref->way = -1;
	if (o->ak_pem) {
		ref->ak = ak_read_pem(o->ak_pem);
		if (!ref->ak) {
			pr_err("%s: not a PEM public key", o->ak_pem);
			return VERIFY_ERROR;
		}
	} else if (o->quote) {
		pr_err("--quote needs --ak FILE: a quote is checked only against a key you bring, "
		       "never one from the directory verified (`bima ak export` on the host)");
		return VERIFY_ERROR;
	}
	if (!o->quote) {
		err = tpm__open(o->tcti, &ref->tpm);
		err = err ?: tpm_epoch(ref->tpm, &reset, &restart);
		if (err)
			return VERIFY_ERROR;
		/* The log directory's key, for its snapshots' quotes, only if it is the TPM's. */
		err = ref->ak ? -EEXIST : ak_load_tpm(ref->tpm, o->log_dir, &key, why);
		if (!err) {
			ref->ak = ak_public(&key);
		} else if (err != -EEXIST && err != -ENOENT) {
			printf("FAIL: %s\n", why);
			return VERIFY_MISMATCH;
		}
	} else {
		err = ak_read_quote(o->quote, &q, digest, why);
		if (err) {
			if (err != -EBADMSG) {
				pr_err("%s", why);
				return VERIFY_ERROR;
			}
			printf("FAIL: %s\n", why);
			return VERIFY_MISMATCH;
		}
		if (ref_read_quote(ref->ak, &q, &ref->qi)) {
			printf("FAIL: %s: the quote is not signed by the attestation key%s%s (a "
			       "quote of another TPM, or altered)\n",
			       o->quote, o->ak_pem ? " in " : "", o->ak_pem ?: "");
			return VERIFY_MISMATCH;
		}
		if (ref->qi.extra_len != o->nonce_len ||
		    memcmp(ref->qi.extra, o->nonce, o->nonce_len)) {
			printf("FAIL: %s: the quote is over another nonce than the one given: an "
			       "old "
			       "quote replayed, or one made for another verifier\n",
			       o->quote);
			return VERIFY_MISMATCH;
		}
		reset = ref->qi.reset;
		restart = ref->qi.restart;
		printf("quote: signed by the attestation key, over the nonce given, TPM epoch "
		       "%u-%u, clock %llu ms\n",
		       reset, restart, (unsigned long long)ref->qi.clock);
	}
	if (!*epoch_dir) {
		if (log_epoch_dir(dir, len, o->log_dir, reset, restart)) {
			pr_err("%s: log directory name too long", o->log_dir);
			return VERIFY_ERROR;
		}
		*epoch_dir = dir;
	}
	return VERIFY_OK;
}

/*
 * Against the TPM, in its current epoch, the banks it allocates; against
 * it in another epoch, every bank; from a quote, those it and the log's
 * snapshots hold.
 */
int ref_banks(struct reference *ref, const char *epoch_dir, uint64_t since, bool tpm_epoch,
	      struct replay *r)
{
	if (!ref->tpm) {
		only_quoted(&ref->qi, epoch_dir, since, r);
		return 0;
	}
	return tpm_epoch ? only_allocated(ref->tpm, &ref->t, r) : 0;
}

void ref_close(struct reference *ref)
{
	tpm__free(ref->tpm);
	EVP_PKEY_free(ref->ak);
}
