// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <string.h>

#include "epoch.h"
#include "kernel_ima.h"
#include "msg.h"
#include "recover.h"

#define AGGREGATE_NAME "boot_aggregate"

int epoch_check_tpm(struct replay *r, struct tpm *tpm, uint32_t *bad_pcr)
{
	uint8_t value[HASHALG_MAX_SIZE];
	char want[2 * HASHALG_MAX_SIZE + 1], have[2 * HASHALG_MAX_SIZE + 1];
	int err, mismatches = 0;

	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		if (!(r->used & (1u << pcr)))
			continue;
		for (size_t b = 0; b < r->nbanks; b++) {
			err = tpm_pcr_read(tpm, pcr, r->banks[b], value);
			if (err)
				return err;
			if (replay_settle(r, pcr, b, value))
				continue;
			hex_encode(replay_value(r, pcr, b), r->banks[b]->size, want);
			hex_encode(value, r->banks[b]->size, have);
			pr_err("PCR %u %s: log replays to %s, TPM has %s", pcr, r->banks[b]->name,
			       want, have);
			if (!mismatches++)
				*bad_pcr = pcr;
		}
	}
	return mismatches ? -EBADMSG : 0;
}

/* Replay an encoded list into r, counting entries; the list came from a trusted writer. */
static int replay_buf(struct replay *r, const struct buf *entries, uint64_t *count, char *why)
{
	struct template_entry e;
	size_t off = 0, used;
	int err;

	while (off < entries->len) {
		err = template_decode(entries->p + off, entries->len - off, &e, &used, why);
		if (err)
			return err;
		err = replay_entry(r, &e);
		if (err)
			return err;
		off += used;
		(*count)++;
	}
	return 0;
}

int epoch_write(struct epoch *ep, struct log *log, const struct buf *entries)
{
	off_t lines = ep->ascii ? ascii_size(ep->ascii) : 0;
	int err;

	if (!entries->len)
		return 0;
	if (ep->ascii) {
		err = ascii_append(ep->ascii, entries);
		if (err) {
			pr_err("%s: cannot write: %s", ascii_path(ep->ascii), strerror(-err));
			return err;
		}
	}
	err = log_append(log, entries->p, entries->len);
	err = err ?: log_sync(log);
	/* Their lines go too: the entries are written again, or never. */
	if (err && ep->ascii && ascii_cut_back(ep->ascii, lines))
		pr_err("%s: cannot cut back the lines of entries the log could not take",
		       ascii_path(ep->ascii));
	if (err)
		pr_err("%s: cannot write log: %s", log_path(log), strerror(-err));
	return err;
}

int epoch_extend(struct epoch *ep, struct tpm *tpm, const struct buf *entries, size_t *done,
		 unsigned int max)
{
	struct tpm_digest d[TPM_BANKS_MAX], own[TPM_BANKS_MAX];
	struct template_entry e;
	char why[TEMPLATE_WHY_LEN];
	size_t used;
	int err;

	/* The template data hashed once a bank, for the TPM and the replay. */
	for (unsigned int n = 0; *done < entries->len && (!max || n < max); n++) {
		err = template_decode(entries->p + *done, entries->len - *done, &e, &used, why);
		err = err ?: replay_digests_own(&ep->replay, &e, d, own);
		err = err ?: tpm_pcr_extend(tpm, e.pcr, d, ep->replay.nbanks);
		err = err ?: replay_entry_own(&ep->replay, &e, own);
		if (err)
			return err;
		*done += used;
		ep->entries++;
	}
	return 0;
}

int epoch_commit(struct epoch *ep, struct tpm *tpm, struct log *log, const struct buf *entries)
{
	size_t done = 0;

	return epoch_write(ep, log, entries) ?: epoch_extend(ep, tpm, entries, &done, 0);
}

/* Continue an epoch that has a log: extend its durable tail, record what recovery found. */
static int resume(struct epoch *ep, struct tpm *tpm, struct recovery *rec, struct log **log)
{
	int err;

	err = log__open(ep->dir, log);
	if (err)
		return err;
	err = recover_extend_tail(ep, tpm, rec);
	if (err) {
		pr_err("%s: cannot extend the durable tail of the log: %s", ep->dir,
		       strerror(-err));
		return err;
	}
	/* The kernel's entries recovery found in the TPM after the log: write, no extend. */
	err = epoch_write(ep, *log, &rec->imported);
	err = err ?: epoch_commit(ep, tpm, *log, &rec->marks);
	if (!err)
		pr_info("continuing epoch %s: %lu entries, the TPM agrees with the log%s", ep->dir,
			(unsigned long)ep->entries,
			rec->marks.len ? " (with the recovery entries just written)" : "");
	return err;
}

/* The kernel's boot_aggregate over PCRs 0-9, in the sha256 bank or else sha1. */
static int own_aggregate(struct epoch *ep, struct tpm *tpm, struct buf *out)
{
	const struct hashalg *alg = NULL;
	uint8_t pcrs[10][HASHALG_MAX_SIZE], digest[HASHALG_MAX_SIZE];
	struct buf data = {};
	int err;

	for (size_t b = 0; b < ep->replay.nbanks; b++)
		if (!strcmp(ep->replay.banks[b]->name, "sha256") ||
		    (!alg && !strcmp(ep->replay.banks[b]->name, "sha1")))
			alg = ep->replay.banks[b];
	if (!alg) {
		pr_err("TPM has neither a sha256 nor a sha1 bank for the boot aggregate");
		return -ENOTSUP;
	}
	for (uint32_t i = 0; i < 10; i++) {
		err = tpm_pcr_read(tpm, i, alg, pcrs[i]);
		if (err)
			return err;
	}
	for (uint32_t i = 1; i < 10; i++)
		memmove(pcrs[0] + i * alg->size, pcrs[i], alg->size);
	err = hashalg_digest(alg, pcrs[0], 10 * alg->size, digest);
	err = err ?: template_data_ng(&data, alg, digest, AGGREGATE_NAME, NULL, 0);
	err = err ?: template_encode(out, ep->pcr, "ima-ng", data.p, data.len, false);
	buf_free(&data);
	return err;
}

/* Import the kernel's list, which must hold only its boot_aggregate and replay to the TPM. */
static int import_kernel_list(struct epoch *ep, struct tpm *tpm, struct buf *out)
{
	struct replay r = ep->replay;
	char why[TEMPLATE_WHY_LEN];
	uint64_t count = 0;
	uint32_t bad_pcr;
	int err;

	err = kernel_ima_read(out);
	if (err) {
		pr_err("%s/binary_runtime_measurements: %s", KERNEL_IMA_DIR, strerror(-err));
		return err;
	}
	err = replay_buf(&r, out, &count, why);
	if (err) {
		pr_err("%s/binary_runtime_measurements: cannot replay: %s", KERNEL_IMA_DIR,
		       err == -EBADMSG ? why : strerror(-err));
		return err;
	}
	if (count != 1) {
		pr_err("kernel IMA has %lu entries in PCR 10, not only boot_aggregate: an IMA "
		       "policy is measuring there, so a log of bima's cannot replay PCR 10; "
		       "run bima on another PCR (--pcr 11) or load no IMA measure policy",
		       (unsigned long)count);
		return -EBUSY;
	}
	err = epoch_check_tpm(&r, tpm, &bad_pcr);
	if (err == -EBADMSG)
		pr_err("PCR 10 was extended by something other than kernel IMA; run bima on "
		       "another PCR (--pcr)");
	memcpy(ep->replay.padded, r.padded, sizeof(r.padded));
	return err;
}

void epoch_end(struct epoch *ep)
{
	ascii__close(ep->ascii);
	ep->ascii = NULL;
}

/* The PCR's banks, the TPM's epoch, and its directory under log_dir. */
static int epoch_of_tpm(struct epoch *ep, struct tpm *tpm, const char *log_dir, uint32_t pcr)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	size_t nbanks;
	int err;

	memset(ep, 0, sizeof(*ep));
	ep->pcr = pcr;
	ep->logged.max = DIGESTSET_EPOCH_MAX; /* bounded: anyone can make new entries */
	err = tpm_banks(tpm, pcr, banks, &nbanks);
	if (err)
		return err;
	if (!nbanks) {
		pr_err("TPM has no bank bima can use for PCR %u", pcr);
		return -ENOTSUP;
	}
	replay_init(&ep->replay, banks, nbanks);
	err = tpm_epoch(tpm, &ep->reset, &ep->restart);
	if (err)
		return err;
	err = log_epoch_dir(ep->dir, sizeof(ep->dir), log_dir, ep->reset, ep->restart);
	if (err)
		pr_err("%s: log directory name too long", log_dir);
	return err;
}

/*
 * A new epoch's first entries, into head: the kernel's list up to its
 * boot_aggregate on PCR 10 under kernel IMA, else bima's own aggregate of
 * PCRs 0-9, in a PCR nothing else extended yet.
 */
static int epoch_head(struct epoch *ep, struct tpm *tpm, struct buf *head)
{
	uint8_t value[HASHALG_MAX_SIZE], zero[HASHALG_MAX_SIZE] = {};
	const struct replay *r = &ep->replay;
	int err = 0;

	if (ep->pcr == 10 && ep->kernel_ima)
		return import_kernel_list(ep, tpm, head);
	for (size_t b = 0; !err && b < r->nbanks; b++) {
		err = tpm_pcr_read(tpm, ep->pcr, r->banks[b], value);
		if (!err && memcmp(value, zero, r->banks[b]->size)) {
			pr_err("PCR %u (%s) is already extended by something other than "
			       "bima in this TPM epoch; choose a PCR that is still zero",
			       ep->pcr, r->banks[b]->name);
			err = -EBUSY;
		}
	}
	return err ?: own_aggregate(ep, tpm, head);
}

/* Begin a new epoch's log with head: written, and extended unless the kernel did. */
static int epoch_start(struct epoch *ep, struct tpm *tpm, struct buf *head, struct log **log)
{
	const struct replay *r = &ep->replay;
	char why[TEMPLATE_WHY_LEN];
	int err = log__open(ep->dir, log);

	if (err)
		return err;
	for (size_t b = 0; b < r->nbanks; b++)
		if (r->padded[b])
			pr_notice("the kernel extends the %s bank with zero-padded SHA-1 digests "
				  "(its crypto lacks %s); bima does the same in this epoch",
				  r->banks[b]->name, r->banks[b]->name);
	if (ep->pcr == 10 && ep->kernel_ima) {
		/* Already in the TPM: write and replay, no extend. */
		err = epoch_write(ep, *log, head);
		err = err ?: replay_buf(&ep->replay, head, &ep->entries, why);
		if (!err)
			pr_info("new epoch %s: imported the kernel's boot_aggregate", ep->dir);
	} else {
		err = epoch_commit(ep, tpm, *log, head);
		if (!err)
			pr_info("new epoch %s: boot_aggregate of PCRs 0-9 in PCR %u", ep->dir,
				ep->pcr);
	}
	return err;
}

int epoch_begin(struct epoch *ep, struct tpm *tpm, const char *log_dir, uint32_t pcr,
		const char *ascii_link, struct log **log)
{
	struct recovery rec = {};
	struct buf head = {};
	int err;

	*log = NULL;
	err = epoch_of_tpm(ep, tpm, log_dir, pcr);
	if (err)
		return err;
	ep->kernel_ima = !kernel_ima_count(&ep->kernel_ima_count);
	if (ascii_link) {
		err = log_make_dir(ep->dir);
		err = err ?: ascii__open(ep->dir, ascii_link, &ep->ascii);
		if (err)
			return err;
	}

	err = recover_epoch(ep, tpm, &rec);
	/* The ASCII list holds what the binary log holds, before any of it is extended. */
	if (ep->ascii && (!err || err == -ENOENT)) {
		int aerr = ascii_reconcile(ep->ascii, ep->dir);

		if (aerr) {
			pr_err("%s: the ASCII list cannot be made to match the log; this run keeps "
			       "none (%s)",
			       ascii_path(ep->ascii), strerror(-aerr));
			epoch_end(ep);
		}
	}
	if (err != -ENOENT) {
		err = err ?: resume(ep, tpm, &rec, log);
		recovery_free(&rec);
	} else { /* a new epoch: it begins with an aggregate */
		err = epoch_head(ep, tpm, &head) ?: epoch_start(ep, tpm, &head, log);
		buf_free(&head);
	}
	if (err) {
		log__close(*log);
		*log = NULL;
	}
	return err;
}
