// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay every entry of an epoch for every bank the TPM has, check each
 * entry's SHA-1 template hash against its data, and compare the result with
 * the TPM. The first problem is named by segment and entry.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "msg.h"
#include "replay.h"
#include "seqset.h"
#include "ak.h"
#include "snapshot.h"
#include "uhash.h"
#include "verify.h"

/* Every bank a TPM may have; verify compares those the TPM allocates. */
static const char *const bank_names[] = { "sha1", "sha256", "sha384", "sha512" };

struct tpm_values {
	uint32_t nbanks[TPM_PCR_COUNT];
	int index[TPM_PCR_COUNT][TPM_BANKS_MAX]; /* into replay.banks */
	uint8_t value[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint32_t read; /* bit n: PCR n read */
};

/* The TPM's values of pcr in every bank both it and the replay have. */
static int read_pcr(struct tpm *tpm, const struct replay *r, struct tpm_values *t, uint32_t pcr)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	size_t n;
	int err;

	if (t->read & (1u << pcr))
		return 0;
	err = tpm_banks(tpm, pcr, banks, &n);
	for (size_t i = 0; !err && i < n; i++)
		for (size_t b = 0; b < r->nbanks; b++) {
			if (banks[i] != r->banks[b])
				continue;
			t->index[pcr][t->nbanks[pcr]] = b;
			err = tpm_pcr_read(tpm, pcr, banks[i], t->value[pcr][t->nbanks[pcr]++]);
		}
	if (!err && !t->nbanks[pcr]) {
		pr_err("TPM has no bank bima can replay for PCR %u", pcr);
		err = -ENOTSUP;
	}
	t->read |= 1u << pcr;
	return err;
}

static bool pcr_matches(struct replay *r, const struct tpm_values *t, uint32_t pcr)
{
	for (uint32_t i = 0; i < t->nbanks[pcr]; i++)
		if (!replay_settle(r, pcr, t->index[pcr][i], t->value[pcr][i]))
			return false;
	return true;
}

static void report_pcr(const struct replay *r, const struct tpm_values *t, uint32_t pcr)
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

/* Where the log last agreed with the TPM for a PCR. */
struct position {
	bool valid;
	unsigned int segment, index;
	uint64_t entry;
};

/* Where the chain of snapshots is, while the log is read (snapshot.h). */
struct chain {
	uint64_t last_id, count, quoted;
	bool quote_due;	   /* the last snapshot's quote is checked after its entry */
	uint8_t nonce[32]; /* its text's sha256 */
	uint32_t pcr;
	unsigned int segment; /* the segment being read, and where its bytes start */
	const uint8_t *segment_start;
};

/*
 * Check a snapshot_aggregate entry against the log before it: the id above
 * the last, prev naming it, the entry count, the segment's digest, and the
 * PCR values the replay has (r, before this entry). -EBADMSG with why.
 */
static int check_snapshot(const struct template_entry *e, struct log_cursor *c,
			  const struct replay *r, uint64_t entries, struct chain *ch, char *why)
{
	const uint8_t *raw;
	struct template_fields f;
	uint8_t digest[32];
	struct snapshot s;
	size_t len;

	if (log_cursor_segment(c) != ch->segment) {
		log_cursor_raw(c, &ch->segment_start, &len);
		ch->segment = log_cursor_segment(c);
	}
	if (template_fields(e, &f, why) || !f.extra || strcmp(f.path, SNAPSHOT_NAME))
		return 0;
	if (snapshot_parse((const char *)f.extra, f.extra_len, &s)) {
		snprintf(why, TEMPLATE_WHY_LEN, "a %s entry that cannot be read", SNAPSHOT_NAME);
		return -EBADMSG;
	}
	if (s.id <= ch->last_id || s.prev != ch->last_id) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu follows snapshot %llu but names %llu as its previous: the "
			 "chain of snapshots is broken",
			 (unsigned long long)s.id, (unsigned long long)ch->last_id,
			 (unsigned long long)s.prev);
		return -EBADMSG;
	}
	if (s.entries != entries) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu counts %llu entries before it, the log has %llu",
			 (unsigned long long)s.id, (unsigned long long)s.entries,
			 (unsigned long long)entries);
		return -EBADMSG;
	}
	log_cursor_raw(c, &raw, &len);
	hashalg_digest(hashalg_by_name("sha256", 6), ch->segment_start, raw - ch->segment_start,
		       digest);
	if (s.segment != ch->segment || memcmp(digest, s.segment_sha256, sizeof(digest))) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu: segment %u before it is not the segment %u it took the "
			 "digest of",
			 (unsigned long long)s.id, ch->segment, s.segment);
		return -EBADMSG;
	}
	/* A bank not yet settled may be extended either way (replay.h): either value will do. */
	for (size_t b = 0; b < s.nbanks; b++)
		for (size_t i = 0; i < r->nbanks && s.pcr < TPM_PCR_COUNT; i++)
			if (r->banks[i] == s.banks[b] &&
			    memcmp(r->pcr[s.pcr][i], s.pcr_value[b], s.banks[b]->size) &&
			    memcmp(r->pcr_padded[s.pcr][i], s.pcr_value[b], s.banks[b]->size)) {
				snprintf(why, TEMPLATE_WHY_LEN,
					 "snapshot %llu: PCR %u in %s is not what the log before "
					 "it replays to",
					 (unsigned long long)s.id, s.pcr, s.banks[b]->name);
				return -EBADMSG;
			}
	ch->last_id = s.id;
	ch->count++;
	ch->quote_due = true;
	ch->pcr = s.pcr;
	hashalg_digest(hashalg_by_name("sha256", 6), f.extra, f.extra_len, ch->nonce);
	return 0;
}

/* Whether the quote's PCR digest is that of the replayed values, each bank either way. */
static bool pcr_digest_matches(const struct replay *r, uint32_t pcr,
			       const struct tpm_quote_info *qi)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	size_t idx[TPM_BANKS_MAX], n = 0;
	uint8_t buf[TPM_BANKS_MAX * HASHALG_MAX_SIZE], d[32];

	for (size_t b = 0; b < qi->nbanks; b++)
		for (size_t i = 0; i < r->nbanks; i++)
			if (r->banks[i]->tpm_id == qi->bank_alg[b])
				idx[n++] = i;
	if (n != qi->nbanks || qi->pcr_mask != 1u << pcr || qi->pcr_digest_len != 32)
		return false;
	for (unsigned int way = 0; way < 1u << n; way++) {
		size_t len = 0;

		for (size_t b = 0; b < n; b++) {
			const uint8_t *v =
				way & (1u << b) ? r->pcr_padded[pcr][idx[b]] : r->pcr[pcr][idx[b]];

			memcpy(buf + len, v, r->banks[idx[b]]->size);
			len += r->banks[idx[b]]->size;
		}
		hashalg_digest(sha256, buf, len, d);
		if (!memcmp(d, qi->pcr_digest, 32))
			return true;
	}
	return false;
}

/*
 * Check the quote of the snapshot just replayed (quote-ID.attest and .sig in
 * the epoch directory, the AK in the log directory): the AK's signature,
 * the nonce (the snapshot text's sha256), the TPM's epoch, and the PCR
 * values after the snapshot entry. A snapshot without a quote is noted.
 */
static int check_quote(struct chain *ch, const struct replay *r, const char *log_dir,
		       const char *epoch_dir, char *why)
{
	struct tpm_quote_info qi;
	struct tpm_quote q;
	struct tpm_ak ak;
	uint8_t digest[32];
	unsigned int reset, restart;
	const char *base = strrchr(epoch_dir, '/');

	ch->quote_due = false;
	if (ak_load_quote(epoch_dir, ch->last_id, &q, digest) || ak_load(log_dir, &ak))
		return 0;
	if (ak_verify(&ak, &q) || tpm_quote_info(q.attest, q.attest_len, &qi)) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu: quote-%llu.attest is not signed by the attestation key",
			 (unsigned long long)ch->last_id, (unsigned long long)ch->last_id);
		return -EBADMSG;
	}
	if (qi.extra_len != 32 || memcmp(qi.extra, ch->nonce, 32)) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu: its quote is over another nonce (a quote of another "
			 "snapshot, or replayed)",
			 (unsigned long long)ch->last_id);
		return -EBADMSG;
	}
	if (sscanf(base ? base + 1 : epoch_dir, "epoch-%u-%u", &reset, &restart) == 2 &&
	    (qi.reset != reset || qi.restart != restart)) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu: its quote was taken in TPM epoch %u-%u, not this one",
			 (unsigned long long)ch->last_id, qi.reset, qi.restart);
		return -EBADMSG;
	}
	if (!pcr_digest_matches(r, ch->pcr, &qi)) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "snapshot %llu: the PCR values its quote signs are not what the log "
			 "replays to",
			 (unsigned long long)ch->last_id);
		return -EBADMSG;
	}
	ch->quoted++;
	return 0;
}

static int check_entry(const struct template_entry *e, char *why)
{
	uint8_t sha1[TEMPLATE_DIGEST_SIZE];
	struct template_fields f;
	int err;

	err = template_fields(e, &f, why);
	if (err)
		return err;
	if (template_is_violation(e))
		return 0;
	err = hashalg_digest(hashalg_by_name("sha1", 4), e->data, e->data_len, sha1);
	if (err)
		return err;
	if (memcmp(sha1, e->digest, sizeof(sha1))) {
		snprintf(why, TEMPLATE_WHY_LEN,
			 "template hash does not match the template data (%s)", f.path);
		return -EBADMSG;
	}
	return 0;
}

#define LOADS_MAX 64

/* One load of the BPF programs: the sequence numbers logged, and the losses. */
struct load {
	char id[32];
	struct seqset seqs;
	uint64_t lost;
};

/* What the log itself records that went wrong or happened: told after the verdict. */
struct notes {
	uint64_t lost, loss_entries; /* events lost, and the bima_lost_events entries saying so */
	uint64_t unhashed;	     /* measurements whose file the kernel could not hash */
	uint64_t violations, torn, inconsistent, kexecs;
	uint64_t uhashed; /* entries hashed in userspace (UHASH_NAME marks) */
	unsigned int uhash_segment, uhash_index; /* where the first mark is */
	struct load loads[LOADS_MAX];
	size_t nloads;
	bool bad_seq; /* a bima_seq entry could not be read, or too many loads */
};

static struct load *find_load(struct notes *n, const char *id)
{
	for (size_t i = 0; i < n->nloads; i++)
		if (!strcmp(n->loads[i].id, id))
			return &n->loads[i];
	if (n->nloads == LOADS_MAX) {
		n->bad_seq = true;
		return NULL;
	}
	snprintf(n->loads[n->nloads].id, sizeof(n->loads[0].id), "%s", id);
	return &n->loads[n->nloads++];
}

/* "load=L seq=RANGES" */
static void note_seqs(struct notes *n, const char *text, size_t len)
{
	char head[64], id[32];
	int at = 0;
	struct load *l;

	/* The buffer is not NUL-terminated: scan a bounded copy of its head. */
	snprintf(head, sizeof(head), "%.*s", (int)len, text);
	if (sscanf(head, "load=%31s seq=%n", id, &at) != 1 || !at || !(l = find_load(n, id)) ||
	    seqset_parse(&l->seqs, text + at, len - at))
		n->bad_seq = true;
}

static void note_entry(const struct template_entry *e, struct notes *n)
{
	static const uint8_t zero[HASHALG_MAX_SIZE];
	char why[TEMPLATE_WHY_LEN], text[128];
	struct template_fields f;
	unsigned long long count;
	char load[32];
	struct load *l;
	const char *at;

	if (template_is_violation(e)) {
		n->violations++;
		return;
	}
	if (template_fields(e, &f, why))
		return;
	if (!f.extra) {
		n->unhashed += !memcmp(f.digest, zero, f.alg->size);
		return;
	}
	if (!strcmp(f.path, "bima_seq")) {
		note_seqs(n, (const char *)f.extra, f.extra_len);
		return;
	}
	snprintf(text, sizeof(text), "%.*s", (int)f.extra_len, (const char *)f.extra);
	if (!strcmp(f.path, "bima_lost_events") && sscanf(text, "lost=%llu", &count) == 1) {
		n->lost += count;
		n->loss_entries++;
		at = strstr(text, " load=");
		if (at && sscanf(at, " load=%31s", load) == 1 && (l = find_load(n, load)))
			l->lost += count;
	}
	n->torn += !strcmp(f.path, "bima_log_torn");
	n->inconsistent += !strcmp(f.path, "bima_log_inconsistent");
	n->kexecs += !strcmp(f.path, "kexec_execute");
	n->uhashed += !strcmp(f.path, UHASH_NAME);
}

/*
 * Per load, the numbers 0..max must all be logged, but for as many as were
 * counted lost: one more is a record that left the ring buffer unlogged (or
 * is still on its way, on a live system).
 */
static void print_seq_notes(struct notes *n)
{
	uint64_t records = 0;
	bool whole = !n->bad_seq;

	if (n->bad_seq)
		printf("note: a bima_seq entry could not be read; sequence numbers are not "
		       "checked in full\n");
	for (size_t i = 0; i < n->nloads; i++) {
		struct load *l = &n->loads[i];
		uint64_t missing;

		seqset_merge(&l->seqs);
		if (!seqset_ranges(&l->seqs))
			continue;
		missing = seqset_max(&l->seqs) + 1 - l->seqs.covered;
		records += l->seqs.covered;
		if (missing > l->lost) {
			whole = false;
			printf("note: load %s: %llu sequence number(s) up to %llu neither logged "
			       "nor counted lost (taken from the ring buffer by something else, or "
			       "still on their way)\n",
			       l->id, (unsigned long long)(missing - l->lost),
			       (unsigned long long)seqset_max(&l->seqs));
		}
		if (l->seqs.repeated)
			printf("note: load %s: %llu record(s) logged twice (a daemon stopped after "
			       "writing them, before it freed them)\n",
			       l->id, (unsigned long long)l->seqs.repeated);
	}
	if (n->nloads && whole)
		printf("note: %llu kernel record(s) in %zu load(s): every sequence number logged "
		       "or counted lost\n",
		       (unsigned long long)records, n->nloads);
	for (size_t i = 0; i < n->nloads; i++)
		seqset_free(&n->loads[i].seqs);
}

static void print_notes(struct notes *n)
{
	if (n->lost)
		printf("note: %llu measurement(s) lost, recorded in %llu bima_lost_events "
		       "entr%s\n",
		       (unsigned long long)n->lost, (unsigned long long)n->loss_entries,
		       n->loss_entries == 1 ? "y" : "ies");
	if (n->unhashed)
		printf("note: %llu file(s) the kernel could not hash, logged with an all-zero "
		       "digest\n",
		       (unsigned long long)n->unhashed);
	if (n->uhashed)
		printf("note: %llu file(s) hashed in userspace, not by the kernel (each after a "
		       "%s entry)\n",
		       (unsigned long long)n->uhashed, UHASH_NAME);
	if (n->violations)
		printf("note: %llu violation entr%s (zero template hash)\n",
		       (unsigned long long)n->violations, n->violations == 1 ? "y" : "ies");
	if (n->torn)
		printf("note: %llu torn entr%s cut at a daemon start (bima_log_torn)\n",
		       (unsigned long long)n->torn, n->torn == 1 ? "y" : "ies");
	if (n->inconsistent)
		printf("note: %llu bima_log_inconsistent entr%s: a daemon found the TPM and the "
		       "log apart\n",
		       (unsigned long long)n->inconsistent, n->inconsistent == 1 ? "y" : "ies");
	if (n->kexecs)
		printf("note: %llu kexec%s into a kernel that continued this epoch "
		       "(kexec_execute)\n",
		       (unsigned long long)n->kexecs, n->kexecs == 1 ? "" : "s");
	print_seq_notes(n);
}

int verify_run(const char *log_dir, const char *epoch_dir, const char *tcti, bool reject_uhash)
{
	const struct hashalg *banks[sizeof(bank_names) / sizeof(bank_names[0])];
	static struct tpm_values t;
	static struct replay r;
	struct position match[TPM_PCR_COUNT] = {};
	static struct notes notes;
	char dir[LOG_PATH_MAX], why[TEMPLATE_WHY_LEN];
	struct log_cursor *c = NULL;
	struct template_entry e;
	struct tpm *tpm = NULL;
	uint32_t reset, restart;
	uint64_t entries = 0;
	struct chain chain = {};
	int err, result = VERIFY_ERROR, bad = 0;

	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		banks[i] = hashalg_by_name(bank_names[i], strlen(bank_names[i]));
	replay_init(&r, banks, sizeof(banks) / sizeof(banks[0]));
	memset(&t, 0, sizeof(t));
	memset(&notes, 0, sizeof(notes));

	err = tpm__open(tcti, &tpm);
	if (err)
		goto out;
	if (!epoch_dir) {
		err = tpm_epoch(tpm, &reset, &restart);
		if (err)
			goto out;
		if (log_epoch_dir(dir, sizeof(dir), log_dir, reset, restart)) {
			pr_err("%s: log directory name too long", log_dir);
			goto out;
		}
		epoch_dir = dir;
	}
	err = log_cursor__open(epoch_dir, &c);
	if (err) {
		pr_err("%s: %s (no log for the TPM's current epoch?)", epoch_dir, strerror(-err));
		goto out;
	}
	while ((err = log_cursor_next(c, &e)) > 0) {
		err = check_entry(&e, why);
		err = err ?: check_snapshot(&e, c, &r, entries, &chain, why);
		if (err == -EBADMSG) {
			printf("FAIL: segment %u, entry %u: %s\n", log_cursor_segment(c),
			       log_cursor_index(c), why);
			result = VERIFY_MISMATCH;
			goto out;
		}
		err = err ?: replay_entry(&r, &e);
		err = err ?: chain.quote_due ? check_quote(&chain, &r, log_dir, epoch_dir, why) : 0;
		if (err == -EBADMSG) {
			printf("FAIL: segment %u, entry %u: %s\n", log_cursor_segment(c),
			       log_cursor_index(c), why);
			result = VERIFY_MISMATCH;
			goto out;
		}
		err = err ?: read_pcr(tpm, &r, &t, e.pcr);
		if (err == -ERANGE) {
			printf("FAIL: segment %u, entry %u: PCR %u does not exist\n",
			       log_cursor_segment(c), log_cursor_index(c), e.pcr);
			result = VERIFY_MISMATCH;
			goto out;
		}
		if (err)
			goto out;
		entries++;
		note_entry(&e, &notes);
		if (notes.uhashed == 1 && !notes.uhash_segment) {
			notes.uhash_segment = log_cursor_segment(c);
			notes.uhash_index = log_cursor_index(c);
		}
		if (pcr_matches(&r, &t, e.pcr))
			match[e.pcr] = (struct position){ true, log_cursor_segment(c),
							  log_cursor_index(c), entries };
	}
	if (err < 0) {
		printf("FAIL: %s\n", log_cursor_error(c));
		result = VERIFY_MISMATCH;
		goto out;
	}
	if (!entries) {
		printf("FAIL: %s: the log has no entries\n", epoch_dir);
		result = VERIFY_MISMATCH;
		goto out;
	}

	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		if (!(r.used & (1u << pcr)))
			continue;
		if (pcr_matches(&r, &t, pcr)) {
			printf("PCR %u: the log replays to the TPM value in", pcr);
			for (uint32_t i = 0; i < t.nbanks[pcr]; i++)
				printf(" %s%s", r.banks[t.index[pcr][i]]->name,
				       r.padded[t.index[pcr][i]] ? " (zero-padded SHA-1)" : "");
			printf("\n");
			continue;
		}
		bad++;
		if (match[pcr].valid)
			printf("FAIL: PCR %u: the TPM matches the log only up to segment %u, entry "
			       "%u (entry %lu of %lu)\n",
			       pcr, match[pcr].segment, match[pcr].index,
			       (unsigned long)match[pcr].entry, (unsigned long)entries);
		else
			printf("FAIL: PCR %u: no prefix of the log replays to the TPM value\n",
			       pcr);
		report_pcr(&r, &t, pcr);
	}
	printf("%s: %lu entries in %u segment(s): %s\n", epoch_dir, (unsigned long)entries,
	       log_cursor_segments(c), bad ? "FAILED" : "verified");
	print_notes(&notes);
	if (chain.count)
		printf("note: %llu snapshot(s), up to id %llu: each names the one before, counts "
		       "the entries and PCR values before it, and the digest of its segment; "
		       "%llu quote(s) verified with the attestation key\n",
		       (unsigned long long)chain.count, (unsigned long long)chain.last_id,
		       (unsigned long long)chain.quoted);
	result = bad ? VERIFY_MISMATCH : VERIFY_OK;
	if (reject_uhash && notes.uhashed) {
		printf("FAIL: segment %u, entry %u: the next entry was hashed in userspace, not "
		       "by the kernel (%s), and --reject-userspace-hashes refuses it\n",
		       notes.uhash_segment, notes.uhash_index, UHASH_NAME);
		result = VERIFY_MISMATCH;
	}
out:
	log_cursor__free(c);
	tpm__free(tpm);
	return result;
}
