// SPDX-License-Identifier: GPL-2.0-only
/*
 * Replay an epoch's log for every bank, from its start or from an anchor;
 * check each entry's SHA-1 template hash against its data, each snapshot
 * against the log before it and its quote against the attestation key;
 * then compare the replay with the TPM's PCRs, or with a quote's PCR
 * digest. The first problem is named by segment and entry, and its cause
 * where the log tells it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ak.h"
#include "digestset.h"
#include "loader.h"
#include "log.h"
#include "msg.h"
#include "preplay.h"
#include "replay.h"
#include "runtime_policy.h"
#include "seqset.h"
#include "snapshot.h"
#include "uhash.h"
#include "verify.h"
#include "views.h"

/* Every bank a TPM may have; verify compares those the TPM allocates. */
static const char *const bank_names[] = { "sha1", "sha256", "sha384", "sha512" };

struct tpm_values {
	uint32_t nbanks[TPM_PCR_COUNT];
	int index[TPM_PCR_COUNT][TPM_BANKS_MAX]; /* into replay.banks */
	uint8_t value[TPM_PCR_COUNT][TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint32_t read; /* bit n: PCR n read */
};

/* What the log is compared with: the TPM's PCRs, or a quote of them. */
struct reference {
	struct tpm *tpm; /* NULL with a quote */
	struct tpm_values t;
	struct tpm_quote_info qi; /* the quote's, when tpm is NULL */
	EVP_PKEY *ak;		  /* checks the quotes, the snapshots' too; may be NULL */
	int way; /* bit b: bank b of the replay takes padded SHA-1 (replay.h); -1: unknown */
};

/* The TPM's values of pcr in every bank both it and the replay have. */
static int read_pcr(struct tpm *tpm, const struct replay *r, struct tpm_values *t, uint32_t pcr)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	size_t n;
	int err;

	if (pcr >= TPM_PCR_COUNT)
		return -ERANGE;
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

/*
 * Whether a quote's PCR digest is that of the replayed values. While it is
 * not known which banks the kernel extends with padded SHA-1, every way is
 * tried; the first quote that matches settles it (*way).
 */
static bool pcr_digest_matches(const struct replay *r, uint32_t pcr,
			       const struct tpm_quote_info *qi, int *way)
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

		if ((w & ~paddable) || (*way >= 0 && w != (unsigned int)*way))
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

/* Where the log last agreed with the reference for a PCR. */
struct position {
	bool valid;
	unsigned int segment, index;
	uint64_t entry;
	uint64_t clock; /* of the last snapshot quote before it */
};

/*
 * Where a quote may match. A quote's PCR digest is a hash of the PCR's
 * values after some entry; a hash chain never comes back to a value, so at
 * most one entry of the log matches it, and it is most often the last: the
 * log is copied after the quote, a little ahead of it at most. The digest,
 * one per way a bank may be extended (up to 8), costs more than replaying
 * the entry, so it is taken only at the end: at the most recent entries of
 * the quoted PCR, newest first, kept here with where they are; and only if
 * none of them matches, at every older entry, the log read again.
 */
#define RECENT_MAX 256

struct recent {
	uint32_t pcr;	/* the quoted PCR, TPM_PCR_COUNT if the quote covers not one */
	uint64_t count; /* entries of the PCR kept so far; the last RECENT_MAX are here */
	struct position pos[RECENT_MAX];
	struct replay_point point[RECENT_MAX];
	struct clock_mark {
		uint64_t entry, clock; /* from entry on, the last snapshot quote's clock */
	} * marks;
	size_t nmarks;
};

static void recent_init(struct recent *q, const struct tpm_quote_info *qi)
{
	free(q->marks);
	memset(q, 0, sizeof(*q));
	q->pcr = TPM_PCR_COUNT;
	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++)
		if (qi->pcr_mask == 1u << pcr)
			q->pcr = pcr;
}

/* An entry of pcr is pushed at pos: the slot its values go to (-1 for none). */
static int recent_slot(struct recent *q, uint32_t pcr, const struct position *pos)
{
	int slot = q->count % RECENT_MAX;

	if (pcr != q->pcr)
		return -1;
	q->pos[slot] = *pos;
	q->count++;
	return slot;
}

/* After entry, the last snapshot quote's clock is clock. */
static int recent_mark(struct recent *q, uint64_t entry, uint64_t clock)
{
	struct clock_mark *m = q->nmarks ? &q->marks[q->nmarks - 1] : NULL;

	if ((m ? m->clock : 0) == clock)
		return 0;
	m = realloc(q->marks, (q->nmarks + 1) * sizeof(*m));
	if (!m)
		return -ENOMEM;
	q->marks = m;
	q->marks[q->nmarks++] = (struct clock_mark){ entry, clock };
	return 0;
}

static uint64_t clock_at(const struct recent *q, uint64_t entry)
{
	uint64_t clock = 0;

	for (size_t i = 0; i < q->nmarks && q->marks[i].entry <= entry; i++)
		clock = q->marks[i].clock;
	return clock;
}

/*
 * Replay the log again up to before entry end (counting from first, as
 * verify_run does), taking the quote's digest at every entry of its PCR;
 * the match, if any, goes to *pos. The log verified up to there already.
 */
static int rescan_quote(struct reference *ref, const struct recent *q, const struct replay *banks,
			const char *epoch_dir, uint64_t since, uint64_t first, uint64_t end,
			struct position *pos)
{
	static struct replay r;
	const struct snapshot *start;
	struct template_entry e;
	struct log_cursor *c;
	uint64_t entry = first;
	int err;

	err = log_cursor__open(epoch_dir, since, &c);
	if (err)
		return err;
	replay_init(&r, banks->banks, banks->nbanks);
	if ((start = log_cursor_start(c)))
		for (size_t b = 0; b < start->nbanks; b++)
			replay_set(&r, start->pcr, start->banks[b], start->pcr_value[b]);
	while (entry + 1 < end && (err = log_cursor_next(c, &e)) > 0) {
		err = replay_entry(&r, &e);
		if (err)
			break;
		entry++;
		if (e.pcr == q->pcr && pcr_digest_matches(&r, q->pcr, &ref->qi, &ref->way))
			*pos = (struct position){ true, log_cursor_segment(c), log_cursor_index(c),
						  entry, clock_at(q, entry) };
	}
	log_cursor__free(c);
	return err < 0 ? err : 0;
}

/* Where the log matches the quote, if it does: match[q->pcr]. */
static int quote_match(struct reference *ref, const struct recent *q, const struct replay *r,
		       const char *epoch_dir, uint64_t since, uint64_t first,
		       struct position *match)
{
	static struct replay at;
	uint64_t kept = q->count < RECENT_MAX ? q->count : RECENT_MAX;

	if (q->pcr == TPM_PCR_COUNT || !q->count)
		return 0;
	at = *r;
	for (uint64_t i = 0; i < kept; i++) {
		uint64_t k = (q->count - 1 - i) % RECENT_MAX;

		replay_restore(&at, q->pcr, &q->point[k]);
		if (pcr_digest_matches(&at, q->pcr, &ref->qi, &ref->way)) {
			match[q->pcr] = q->pos[k];
			match[q->pcr].clock = clock_at(q, q->pos[k].entry);
			return 0;
		}
	}
	if (q->count <= RECENT_MAX)
		return 0;
	return rescan_quote(ref, q, r, epoch_dir, since, first, q->pos[q->count % RECENT_MAX].entry,
			    &match[q->pcr]);
}

/*
 * What each bank's thread looks at after an entry (preplay.h): against the
 * TPM, where the bank last held the TPM's value, either way; for a quote,
 * the bank's values for the recent entries of the quoted PCR.
 */
struct watch {
	const struct replay *r;
	const struct reference *ref;
	struct recent *recent;
	struct position normal[TPM_PCR_COUNT][TPM_BANKS_MAX], padded[TPM_PCR_COUNT][TPM_BANKS_MAX];
};

/* What is pushed with an entry: where it is, and its slot in recent (-1: none). */
struct pushed {
	struct position pos; /* its clock is filled in at the end (clock_at) */
	int slot;
};

static void watch_entry(void *ctx, size_t b, const struct template_entry *e, const void *user)
{
	struct watch *w = ctx;
	const struct pushed *u = user;
	const struct tpm_values *t = &w->ref->t;
	const uint8_t *pcr = w->r->pcr[e->pcr][b], *padded = w->r->pcr_padded[e->pcr][b];
	size_t size = w->r->banks[b]->size;

	if (u->slot >= 0) {
		memcpy(w->recent->point[u->slot].pcr[b], pcr, size);
		memcpy(w->recent->point[u->slot].pcr_padded[b], padded, size);
	}
	for (uint32_t i = 0; w->ref->tpm && i < t->nbanks[e->pcr]; i++) {
		if (t->index[e->pcr][i] != (int)b)
			continue;
		if (!memcmp(pcr, t->value[e->pcr][i], size))
			w->normal[e->pcr][b] = u->pos;
		if (!memcmp(padded, t->value[e->pcr][i], size))
			w->padded[e->pcr][b] = u->pos;
	}
}

/*
 * The last entry after which every bank of pcr the TPM has held the TPM's
 * value, either way (a hash chain never comes back to a value: one entry
 * at most); a bank that held it only the zero-padded SHA-1 way is settled
 * so (replay.h).
 */
static void tpm_match(const struct watch *w, struct replay *r, const struct recent *q, uint32_t pcr,
		      struct position *match)
{
	const struct tpm_values *t = &w->ref->t;
	const int b0 = t->index[pcr][0];
	struct position best = {};

	for (int way = 0; t->nbanks[pcr] && way < 2; way++) {
		struct position at = way ? w->padded[pcr][b0] : w->normal[pcr][b0];
		bool all = at.valid;

		for (uint32_t i = 0; all && i < t->nbanks[pcr]; i++) {
			int b = t->index[pcr][i];

			all = (w->normal[pcr][b].valid && w->normal[pcr][b].entry == at.entry) ||
			      (w->padded[pcr][b].valid && w->padded[pcr][b].entry == at.entry);
		}
		if (all && (!best.valid || at.entry > best.entry))
			best = at;
	}
	if (!best.valid)
		return;
	for (uint32_t i = 0; i < t->nbanks[pcr]; i++) {
		int b = t->index[pcr][i];

		if (!w->normal[pcr][b].valid || w->normal[pcr][b].entry != best.entry)
			r->padded[b] = true;
	}
	best.clock = clock_at(q, best.entry);
	*match = best;
}

/* Where the chain of snapshots is, while the log is read (snapshot.h). */
struct chain {
	uint64_t last_id, count, quoted;
	uint32_t reset, restart; /* the epoch of the directory */
	bool quote_due;		 /* the last snapshot's quote is checked after its entry */
	bool anchor;		 /* the last snapshot is the anchor the log starts from */
	uint8_t nonce[32];	 /* its text's sha256 */
	uint32_t pcr;
	uint64_t clock;				  /* the TPM's clock in the last snapshot's quote */
	unsigned int segment;			  /* the segment being read */
	uint8_t hashes_xor[TEMPLATE_DIGEST_SIZE]; /* of its template hashes so far */
};

/* Follow the segments, for the digests a snapshot holds of the segment it closes. */
static void follow_segment(struct log_cursor *c, struct chain *ch)
{
	if (log_cursor_segment(c) != ch->segment || log_cursor_at_anchor(c)) {
		ch->segment = log_cursor_segment(c);
		memset(ch->hashes_xor, 0, sizeof(ch->hashes_xor));
	}
}

#define WHY_LEN (AK_WHY_LEN + 512) /* room for a reason, and what caused it (a file) */
#define WHY(...) snprintf(why, WHY_LEN, __VA_ARGS__)

/*
 * Check a snapshot_aggregate entry against the log before it: the id above
 * the last, prev naming it, the epoch, the entry count, the segment's
 * digests, and the PCR values the replay has (r, before this entry). The
 * entry the log starts from (an anchor) is the start of the chain, taken as
 * it is: its quote vouches for it. -EBADMSG with why.
 */
static int check_snapshot(const struct template_entry *e, const struct template_fields *f,
			  struct log_cursor *c, const struct replay *r, uint64_t entries,
			  struct chain *ch, char *why)
{
	uint8_t digest[32];
	struct snapshot s;
	int err;

	ch->anchor = log_cursor_at_anchor(c);
	if (!template_record(e, f, SNAPSHOT_NAME)) {
		if (ch->anchor)
			WHY("the anchor the log starts from is not a %s entry the PCR covers "
			    "(a violation's data, or another entry)",
			    SNAPSHOT_NAME);
		return ch->anchor ? -EBADMSG : 0;
	}
	err = snapshot_parse((const char *)f->extra, f->extra_len, &s);
	if (err == -ERANGE) {
		WHY("snapshot %llu names PCR %u, and a TPM has PCRs 0 to %u",
		    (unsigned long long)s.id, s.pcr, TPM_PCR_COUNT - 1);
		return -EBADMSG;
	}
	if (err) {
		WHY("a %s entry that cannot be read", SNAPSHOT_NAME);
		return -EBADMSG;
	}
	if (!ch->anchor && (s.id <= ch->last_id || s.prev != ch->last_id)) {
		if (s.prev > ch->last_id)
			WHY("snapshot %llu names snapshot %llu as its previous, but the chain "
			    "before "
			    "it ends at snapshot %llu: a gap in the chain of snapshots (a segment "
			    "or entries removed)",
			    (unsigned long long)s.id, (unsigned long long)s.prev,
			    (unsigned long long)ch->last_id);
		else
			WHY("snapshot %llu (previous %llu) follows snapshot %llu: the chain of "
			    "snapshots is broken (entries or a segment repeated or reordered)",
			    (unsigned long long)s.id, (unsigned long long)s.prev,
			    (unsigned long long)ch->last_id);
		return -EBADMSG;
	}
	if (ch->reset != (uint32_t)-1 && (s.reset != ch->reset || s.restart != ch->restart)) {
		WHY("snapshot %llu was taken in TPM epoch %u-%u, not in this epoch %u-%u: a "
		    "segment from another epoch spliced in",
		    (unsigned long long)s.id, s.reset, s.restart, ch->reset, ch->restart);
		return -EBADMSG;
	}
	if (!ch->anchor) {
		if (s.entries != entries) {
			WHY("snapshot %llu counts %llu entries before it, the log has %llu: %llu "
			    "entr%s %s",
			    (unsigned long long)s.id, (unsigned long long)s.entries,
			    (unsigned long long)entries,
			    (unsigned long long)(s.entries > entries ? s.entries - entries
								     : entries - s.entries),
			    s.entries - entries == 1 || entries - s.entries == 1 ? "y" : "ies",
			    s.entries > entries ? "deleted" : "added (or duplicated)");
			return -EBADMSG;
		}
		if (log_cursor_segment_sha256(c, digest)) { /* of the bytes before this entry */
			WHY("out of memory");
			return -ENOMEM;
		}
		if (s.segment != ch->segment) {
			WHY("snapshot %llu closes segment %u, but it is in segment %u",
			    (unsigned long long)s.id, s.segment, ch->segment);
			return -EBADMSG;
		}
		if (memcmp(digest, s.segment_sha256, sizeof(digest))) {
			bool same = !memcmp(ch->hashes_xor, s.segment_xor, sizeof(ch->hashes_xor));

			WHY("snapshot %llu: segment %u is not the one it took the digest of: %s",
			    (unsigned long long)s.id, ch->segment,
			    same ? "the same entries, in another order (entries reordered)"
				 : "an entry in it was replaced by another well-formed one");
			return -EBADMSG;
		}
		/* A bank not yet settled may be extended either way (replay.h). */
		for (size_t b = 0; b < s.nbanks; b++)
			for (size_t i = 0; i < r->nbanks; i++)
				if (r->banks[i] == s.banks[b] &&
				    memcmp(r->pcr[s.pcr][i], s.pcr_value[b], s.banks[b]->size) &&
				    memcmp(r->pcr_padded[s.pcr][i], s.pcr_value[b],
					   s.banks[b]->size)) {
					WHY("snapshot %llu: PCR %u in %s is not what the log "
					    "before "
					    "it replays to",
					    (unsigned long long)s.id, s.pcr, s.banks[b]->name);
					return -EBADMSG;
				}
	}
	ch->last_id = s.id;
	ch->count++;
	ch->quote_due = true;
	ch->pcr = s.pcr;
	hashalg_digest(hashalg_by_name("sha256", 6), f->extra, f->extra_len, ch->nonce);
	return 0;
}

/* A quote's signature, by the attestation key, and what it says; -EBADMSG if unsigned. */
static int read_quote(EVP_PKEY *ak, const struct tpm_quote *q, struct tpm_quote_info *qi)
{
	return ak_verify_key(ak, q) || tpm_quote_info(q->attest, q->attest_len, qi) ? -EBADMSG : 0;
}

/*
 * Check the quote of the snapshot just replayed (quote-ID.attest and .sig
 * in the epoch directory): the AK's signature, the nonce (the snapshot
 * text's sha256), the TPM's epoch, its clock after the last one, and the
 * PCR values after the snapshot entry. A snapshot without a quote is
 * noted, but the anchor the log starts from must have one.
 */
static int check_quote(struct chain *ch, struct reference *ref, const struct replay *r,
		       const char *epoch_dir, char *why)
{
	unsigned long long id = ch->last_id;
	char qwhy[AK_WHY_LEN];
	struct tpm_quote_info qi;
	struct tpm_quote q;
	uint8_t digest[32];
	int err;

	ch->quote_due = false;
	err = ref->ak ? ak_load_quote(epoch_dir, id, &q, digest, qwhy) : -ENOKEY;
	if (err == -EBADMSG) {
		WHY("snapshot %llu: %s", id, qwhy);
		return -EBADMSG;
	}
	if (err) {
		if (!ch->anchor)
			return 0;
		WHY("the log starts at anchor %llu, whose quote (quote-%llu.attest) %s: the PCR "
		    "values it starts from are not vouched for by the TPM",
		    id, id,
		    ref->ak ? "is not there" : "cannot be checked without the attestation key");
		return ref->ak ? -EBADMSG : -ENOKEY;
	}
	if (read_quote(ref->ak, &q, &qi)) {
		WHY("snapshot %llu: quote-%llu.attest is not signed by the attestation key", id,
		    id);
		return -EBADMSG;
	}
	if (qi.extra_len != 32 || memcmp(qi.extra, ch->nonce, 32)) {
		WHY("snapshot %llu: its quote is over another nonce (a quote of another snapshot, "
		    "or replayed)",
		    id);
		return -EBADMSG;
	}
	if (ch->reset != (uint32_t)-1 && (qi.reset != ch->reset || qi.restart != ch->restart)) {
		WHY("snapshot %llu: its quote was taken in TPM epoch %u-%u, not this one", id,
		    qi.reset, qi.restart);
		return -EBADMSG;
	}
	if (qi.clock < ch->clock) {
		WHY("snapshot %llu: its quote's TPM clock (%llu ms) is before the previous "
		    "snapshot's (%llu ms): a quote replayed from earlier",
		    id, (unsigned long long)qi.clock, (unsigned long long)ch->clock);
		return -EBADMSG;
	}
	if (!pcr_digest_matches(r, ch->pcr, &qi, &ref->way)) {
		WHY("snapshot %llu: the PCR values its quote signs are not what the log replays "
		    "to",
		    id);
		return -EBADMSG;
	}
	ch->clock = qi.clock;
	ch->quoted++;
	return 0;
}

/* The kernel's anchors (bima_anchors), when the log is the running daemon's. */
struct kernel_anchors {
	struct bima_anchor slot[BIMA_ANCHORS_MAX];
	bool seen[BIMA_ANCHORS_MAX];
	bool have;
	uint64_t first, agreed; /* the log's first snapshot id; anchors that agree with it */
};

/*
 * The snapshot just checked against the kernel's anchor of the same id, if
 * the kernel still holds it: the entries up to it, its segment and PCR, the
 * PCR values after it, and its quote's digest.
 */
static int check_kernel_anchor(struct kernel_anchors *ka, const struct chain *ch,
			       const struct replay *r, uint64_t entries, const char *epoch_dir,
			       char *why)
{
	const struct bima_anchor *a = NULL;
	struct tpm_quote q;
	uint8_t digest[32];
	const char *what = NULL;

	ka->first = ka->first ?: ch->last_id;
	for (int i = 0; ka->have && i < BIMA_ANCHORS_MAX; i++)
		if (ka->slot[i].id == ch->last_id) {
			a = &ka->slot[i];
			ka->seen[i] = true;
		}
	if (!a)
		return 0;
	if (a->entries != entries || a->segment != ch->segment || a->pcr != ch->pcr)
		what = "entry count, segment or PCR";
	for (int b = 0; !what && b < BIMA_ANCHOR_BANKS && a->bank_alg[b]; b++)
		for (size_t i = 0; i < r->nbanks; i++)
			if (r->banks[i]->tpm_id == a->bank_alg[b] && a->pcr < TPM_PCR_COUNT &&
			    memcmp(r->pcr[a->pcr][i], a->pcr_value[b], r->banks[i]->size) &&
			    memcmp(r->pcr_padded[a->pcr][i], a->pcr_value[b], r->banks[i]->size))
				what = "PCR values";
	if (!what && !ak_load_quote(epoch_dir, a->id, &q, digest, NULL) &&
	    memcmp(digest, a->quote_sha256, sizeof(digest)))
		what = "quote";
	if (what) {
		WHY("snapshot %llu: the kernel's anchor %llu holds another %s: the log's snapshot "
		    "or its quote was altered",
		    (unsigned long long)ch->last_id, (unsigned long long)a->id, what);
		return -EBADMSG;
	}
	ka->agreed++;
	return 0;
}

/* An anchor the kernel holds within the log's chain that the log lacks. */
static const struct bima_anchor *missing_anchor(const struct kernel_anchors *ka,
						const struct chain *ch)
{
	for (int i = 0; ka->have && ka->first && i < BIMA_ANCHORS_MAX; i++) {
		const struct bima_anchor *a = &ka->slot[i];

		if (!ka->seen[i] && a->id >= ka->first && a->id <= ch->last_id)
			return a;
	}
	return NULL;
}

static int check_entry(const struct template_entry *e, const struct template_fields *f, char *why)
{
	uint8_t sha1[TEMPLATE_DIGEST_SIZE];
	int err;

	if (template_is_violation(e))
		return 0;
	err = template_bank_digest(e, hashalg_by_name("sha1", 4), sha1);
	if (err)
		return err;
	if (memcmp(sha1, e->digest, sizeof(sha1))) {
		WHY("template hash does not match the template data (%s): the entry's digest, "
		    "name or template hash was altered",
		    f->path);
		return -EBADMSG;
	}
	return 0;
}

/*
 * What a failure may be caused by: among the first n entries of the log
 * (those read before it), the first that repeats one before it, which bima
 * never logs (an entry once an epoch). Only a failure asks, so the log is
 * read again here rather than every entry's hash kept on the way.
 */
static void print_cause(const char *epoch_dir, uint64_t since, uint64_t n)
{
	struct digestset seen = {};
	struct template_entry e;
	struct log_cursor *c;
	int added = 1;

	if (log_cursor__open(epoch_dir, since, &c))
		return;
	for (; n && added && log_cursor_next(c, &e) > 0; n--)
		added = template_is_violation(&e) || digestset_add(&seen, e.digest);
	if (!added)
		printf("cause: segment %u, entry %u repeats an entry before it (the same template "
		       "hash), which bima never logs: a duplicated entry\n",
		       log_cursor_segment(c), log_cursor_index(c));
	log_cursor__free(c);
	digestset_free(&seen);
}

#define LOADS_MAX 64

/* One load of the BPF programs: the sequence numbers logged, and the losses. */
struct load {
	char id[32];
	struct seqset seqs;
	uint64_t lost;
	uint64_t settled;   /* the highest number in its bima_seq entries but the last */
	uint64_t last;	    /* the highest number in its last bima_seq entry */
	uint64_t in_flight; /* after check_seqs: numbers missing that may be on their way */
	bool gap;	    /* after check_seqs: numbers missing, not on their way */
};

/* What the log itself records that went wrong or happened: told after the verdict. */
struct notes {
	uint64_t lost, loss_entries; /* events lost, and the bima_lost_events entries saying so */
	uint64_t unhashed;	     /* measurements whose file the kernel could not hash */
	uint64_t violations, torn, inconsistent, kexecs;
	uint64_t tails, tail_entries; /* bima_tail_extended entries, and the entries they name */
	char tail[160];		      /* the last one's range, as printed */
	uint64_t uhashed;	      /* entries hashed in userspace (UHASH_NAME marks) */
	unsigned int uhash_segment, uhash_index; /* where the first mark is */
	struct load loads[LOADS_MAX];
	size_t nloads;
	struct load *last_load; /* the load of the last bima_seq entry */
	bool bad_seq;		/* a bima_seq entry could not be read, or too many loads */
	bool from_anchor;	/* the log is read from an anchor: the numbers before are not */
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
	struct seqset one = {};
	const uint64_t *r;
	int at = 0, err = 0;
	struct load *l;

	/* The buffer is not NUL-terminated: scan a bounded copy of its head. */
	snprintf(head, sizeof(head), "%.*s", (int)len, text);
	if (sscanf(head, "load=%31s seq=%n", id, &at) != 1 || !at || !(l = find_load(n, id)) ||
	    seqset_parse(&one, text + at, len - at) || !seqset_ranges(&one)) {
		n->bad_seq = true;
		seqset_free(&one);
		return;
	}
	seqset_merge(&one);
	r = (const uint64_t *)one.ranges.p;
	for (size_t i = 0; !err && i < seqset_ranges(&one); i++)
		err = seqset_add(&l->seqs, r[2 * i], r[2 * i + 1]);
	n->bad_seq |= err != 0;
	if (l->last > l->settled)
		l->settled = l->last;
	l->last = seqset_max(&one);
	n->last_load = l;
	seqset_free(&one);
}

static void note_entry(const struct template_entry *e, const struct template_fields *fp,
		       struct notes *n)
{
	static const uint8_t zero[HASHALG_MAX_SIZE];
	const struct template_fields f = *fp;
	char text[128];
	unsigned long long count;
	char load[32];
	struct load *l;
	const char *at;

	/* A violation's data is not covered by the PCR: it counts as none of these. */
	if (!f.covered) {
		n->violations++;
		return;
	}
	if (!f.extra) {
		n->unhashed += !memcmp(f.digest, zero, f.alg->size);
		return;
	}
	if (template_record(e, fp, "bima_seq")) {
		note_seqs(n, (const char *)f.extra, f.extra_len);
		return;
	}
	snprintf(text, sizeof(text), "%.*s", (int)f.extra_len, (const char *)f.extra);
	if (template_record(e, fp, "bima_lost_events") && sscanf(text, "lost=%llu", &count) == 1) {
		n->lost += count;
		n->loss_entries++;
		at = strstr(text, " load=");
		if (at && sscanf(at, " load=%31s", load) == 1 && (l = find_load(n, load)))
			l->lost += count;
	}
	if (template_record(e, fp, "bima_tail_extended")) {
		unsigned int seg1, seg2;
		size_t bytes, b1, b2;
		char tail[256];

		snprintf(tail, sizeof(tail), "%.*s", (int)f.extra_len, (const char *)f.extra);
		n->tails++;
		if (sscanf(tail,
			   "entries=%llu bytes=%zu first_segment=%u first_byte=%zu "
			   "last_segment=%u last_byte=%zu",
			   &count, &bytes, &seg1, &b1, &seg2, &b2) == 6) {
			n->tail_entries += count;
			snprintf(n->tail, sizeof(n->tail),
				 "%llu entr%s, segment %u byte %zu to segment %u byte %zu", count,
				 count == 1 ? "y" : "ies", seg1, b1, seg2, b2);
		} else {
			snprintf(n->tail, sizeof(n->tail), "its buffer is unreadable");
		}
	}
	n->torn += template_record(e, fp, "bima_log_torn");
	n->inconsistent += template_record(e, fp, "bima_log_inconsistent");
	n->kexecs += template_record(e, fp, "kexec_execute");
	n->uhashed += template_record(e, fp, UHASH_NAME);
}

/*
 * Per load, the numbers 0..max must all be logged, but for as many as were
 * counted lost: one more is a measurement missing, a record that left the
 * ring buffer unlogged. Only at the very end of the log's last load may a
 * number be still on its way (a record that took its number before one
 * logged already, and was not yet in the ring buffer when the daemon read
 * it): above the numbers of every bima_seq entry of that load but its last.
 * Prints a FAIL line for each load with numbers missing; returns how many.
 */
static int check_seqs(struct notes *n)
{
	int bad = 0;

	for (size_t i = 0; i < n->nloads; i++) {
		struct load *l = &n->loads[i];
		const uint64_t *r;
		uint64_t low, missing = 0, tail = 0, first = 0, last = 0, lost = l->lost;
		uint64_t edge = l == n->last_load ? l->settled : UINT64_MAX;

		seqset_merge(&l->seqs);
		if (!seqset_ranges(&l->seqs))
			continue;
		r = (const uint64_t *)l->seqs.ranges.p;
		/* From an anchor, the numbers below the first one logged were logged before it. */
		low = n->from_anchor ? r[0] : 0;
		/* The holes: [low, r[0]) and between the ranges; each split at the edge. */
		for (size_t k = 0; k < seqset_ranges(&l->seqs); k++) {
			uint64_t from = k ? r[2 * k - 1] + 1 : low, to = r[2 * k]; /* [from, to) */
			uint64_t below = from < edge ? (to < edge ? to : edge) - from : 0;

			if (from >= to)
				continue;
			if (below && !missing)
				first = from;
			if (below)
				last = from + below - 1;
			missing += below;
			tail += to - from - below;
		}
		/* The losses count numbers without naming them: those settled first. */
		if (missing > lost) {
			bad++;
			l->gap = true;
			printf("FAIL: load %s: sequence numbers %llu to %llu neither logged nor "
			       "counted lost: %llu measurement(s) missing (records taken from the "
			       "ring buffer and never logged)\n",
			       l->id, (unsigned long long)first, (unsigned long long)last,
			       (unsigned long long)(missing - lost));
			lost = 0;
		} else {
			lost -= missing;
		}
		l->in_flight = tail > lost ? tail - lost : 0;
	}
	return bad;
}

static void print_seq_notes(struct notes *n)
{
	uint64_t records = 0;
	bool whole = !n->bad_seq;

	if (n->bad_seq)
		printf("note: a bima_seq entry could not be read; sequence numbers are not "
		       "checked in full\n");
	for (size_t i = 0; i < n->nloads; i++) {
		struct load *l = &n->loads[i];

		if (!seqset_ranges(&l->seqs))
			continue;
		records += l->seqs.covered;
		whole &= !l->gap;
		if (l->in_flight) {
			whole = false;
			printf("note: load %s: %llu sequence number(s) below %llu, above those of "
			       "its earlier bima_seq entries, not yet logged: records still on "
			       "their way at the end of the log\n",
			       l->id, (unsigned long long)l->in_flight,
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
		printf("note: %llu violation entr%s (zero template hash: the PCR does not cover "
		       "their data, which verify reads nothing of)\n",
		       (unsigned long long)n->violations, n->violations == 1 ? "y" : "ies");
	if (n->torn)
		printf("note: %llu torn entr%s cut at a daemon start (bima_log_torn)\n",
		       (unsigned long long)n->torn, n->torn == 1 ? "y" : "ies");
	if (n->tails)
		printf("note: %llu entr%s extended from the log alone (at a daemon start, or when "
		       "the TPM came back), not from records a daemon read, in %llu "
		       "bima_tail_extended entr%s (the last: %s); "
		       "the TPM covers them but does not say bima wrote them\n",
		       (unsigned long long)n->tail_entries, n->tail_entries == 1 ? "y" : "ies",
		       (unsigned long long)n->tails, n->tails == 1 ? "y" : "ies", n->tail);
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

#define POLICY_FAILS_SHOWN 20

/* The entries checked against a runtime policy. */
struct policy_count {
	uint64_t allowed, excluded, failed;
};

/* Check an entry against the runtime policy; the first failures are printed. */
static void check_policy(const struct runtime_policy *p, const struct template_entry *e,
			 const struct template_fields *f, struct log_cursor *c,
			 struct policy_count *n)
{
	enum runtime_verdict v = runtime_policy_check(p, e, f);
	char hex[2 * HASHALG_MAX_SIZE + 1];

	n->allowed += v == RUNTIME_ALLOWED;
	n->excluded += v == RUNTIME_EXCLUDED;
	if (v == RUNTIME_ALLOWED || v == RUNTIME_EXCLUDED || n->failed++ >= POLICY_FAILS_SHOWN)
		return;
	if (v == RUNTIME_VIOLATION) {
		printf("FAIL: segment %u, entry %u: a violation (zero template hash; it says "
		       "\"%s\", but the PCR does not cover its name or digest): a runtime policy "
		       "allows no violation\n",
		       log_cursor_segment(c), log_cursor_index(c), f->path);
		return;
	}
	hex_encode(f->digest, f->alg->size, hex);
	printf("FAIL: segment %u, entry %u: %s %s:%s: %s\n", log_cursor_segment(c),
	       log_cursor_index(c), f->path, f->alg->name, hex,
	       v == RUNTIME_UNKNOWN
		       ? "the runtime policy has no digests for this name, and no "
			 "exclude matches it"
		       : "not among the digests the runtime policy allows for this name");
}

/* The reference: the quote given, checked, or the TPM. Prints what it is. */
static int open_reference(const struct verify_opts *o, struct reference *ref, char *dir, size_t len,
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
		if (read_quote(ref->ak, &q, &ref->qi)) {
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

int verify_run(const struct verify_opts *o)
{
	const struct hashalg *banks[sizeof(bank_names) / sizeof(bank_names[0])];
	static struct reference ref;
	static struct replay r;
	struct position match[TPM_PCR_COUNT] = {};
	static struct watch watch;
	struct preplay *pre = NULL;
	struct pushed pushed;
	static struct notes notes;
	static struct kernel_anchors ka;
	static struct recent recent;
	struct runtime_policy *policy = NULL;
	struct policy_count counted = {};
	struct summary *summary = NULL;
	struct attrib_reader ar = {};
	struct attribution a;
	const struct bima_anchor *lacking;
	uint64_t snapshots;
	char dir[LOG_PATH_MAX], why[WHY_LEN];
	const char *epoch_dir = o->epoch_dir, *base;
	const struct snapshot *start = NULL;
	struct log_cursor *c = NULL;
	struct template_fields f;
	struct template_entry e;
	uint64_t entries = 0, first = 0;
	struct chain chain = { .reset = (uint32_t)-1 };
	int err, result = VERIFY_ERROR, bad = 0;

	for (size_t i = 0; i < sizeof(banks) / sizeof(banks[0]); i++)
		banks[i] = hashalg_by_name(bank_names[i], strlen(bank_names[i]));
	replay_init(&r, banks, sizeof(banks) / sizeof(banks[0]));
	memset(&ref, 0, sizeof(ref));
	memset(&notes, 0, sizeof(notes));
	memset(&ka, 0, sizeof(ka));

	if (o->runtime_policy && runtime_policy_read(o->runtime_policy, &policy))
		goto out;
	if (o->by_container && summary__new(o->allowlist, &summary))
		goto out;
	result = open_reference(o, &ref, dir, sizeof(dir), &epoch_dir);
	if (result != VERIFY_OK)
		goto out;
	result = VERIFY_ERROR;
	recent_init(&recent, &ref.qi);
	memset(&watch, 0, sizeof(watch));
	watch = (struct watch){ .r = &r, .ref = &ref, .recent = &recent };
	err = preplay__new(&r, watch_entry, &watch, &pre);
	if (err) {
		pr_err("cannot start the replay's threads: %s", strerror(-err));
		goto out;
	}
	/* The kernel's anchors are those of the running daemon's log: the TPM's epoch. */
	ka.have = ref.tpm && !o->epoch_dir && !loader_pinned_anchors(ka.slot);
	base = strrchr(epoch_dir, '/');
	if (sscanf(base ? base + 1 : epoch_dir, "epoch-%u-%u", &chain.reset, &chain.restart) != 2)
		chain.reset = (uint32_t)-1;
	if (!ref.tpm && chain.reset != (uint32_t)-1 &&
	    (chain.reset != ref.qi.reset || chain.restart != ref.qi.restart)) {
		printf("FAIL: %s: the quote was taken in TPM epoch %u-%u, not in this log's\n",
		       epoch_dir, ref.qi.reset, ref.qi.restart);
		result = VERIFY_MISMATCH;
		goto out;
	}
	err = log_cursor__open(epoch_dir, o->since, &c);
	if (err) {
		pr_err("%s: %s (no log for %s epoch?)", epoch_dir, strerror(-err),
		       ref.tpm ? "the TPM's current" : "the quote's");
		goto out;
	}
	if ((start = log_cursor_start(c))) {
		for (size_t b = 0; b < start->nbanks; b++)
			replay_set(&r, start->pcr, start->banks[b], start->pcr_value[b]);
		entries = first = start->entries;
		chain.last_id = start->prev;
		notes.from_anchor = true;
	}
	while ((err = log_cursor_next(c, &e)) > 0) {
		follow_segment(c, &chain);
		snapshots = chain.count;
		err = template_fields(&e, &f, why);
		err = err ?: check_entry(&e, &f, why);
		/* A snapshot holds the values before it: every bank's thread must be done. */
		if (!err && template_record(&e, &f, SNAPSHOT_NAME))
			err = preplay_sync(pre);
		err = err ?: check_snapshot(&e, &f, c, &r, entries, &chain, why);
		err = err ?: e.pcr < TPM_PCR_COUNT ? 0 : -ERANGE;
		/* The TPM's values before the entry goes to the threads that compare with them. */
		err = err ?: ref.tpm ? read_pcr(ref.tpm, &r, &ref.t, e.pcr) : 0;
		if (!err) {
			pushed.pos = (struct position){ .valid = true,
							.segment = log_cursor_segment(c),
							.index = log_cursor_index(c),
							.entry = entries + 1 };
			pushed.slot = recent_slot(&recent, e.pcr, &pushed.pos);
			/* check_entry checked its template hash */
			err = preplay_push(pre, &e, &pushed, sizeof(pushed));
		}
		/* A snapshot's quote and anchor hold the values after it. */
		if (!err && (chain.quote_due || chain.count != snapshots))
			err = preplay_sync(pre);
		err = err ?: chain.quote_due ? check_quote(&chain, &ref, &r, epoch_dir, why) : 0;
		if (!err && chain.count != snapshots)
			err = check_kernel_anchor(&ka, &chain, &r, entries + 1, epoch_dir, why);
		if (err == -EBADMSG || err == -ENOKEY) {
			printf("FAIL: %s %u, entry %u: %s\n",
			       log_cursor_at_anchor(c) ? "anchor of segment" : "segment",
			       log_cursor_segment(c), log_cursor_index(c), why);
			print_cause(epoch_dir, o->since, entries - first);
			result = err == -ENOKEY ? VERIFY_ERROR : VERIFY_MISMATCH;
			goto out;
		}
		if (err == -ERANGE) {
			const char *where =
				log_cursor_at_anchor(c) ? "anchor of segment" : "segment";

			printf("FAIL: %s %u, entry %u: the entry names PCR %u, and a TPM has "
			       "PCRs 0 to %u\n",
			       where, log_cursor_segment(c), log_cursor_index(c), e.pcr,
			       TPM_PCR_COUNT - 1);
			result = VERIFY_MISMATCH;
			goto out;
		}
		if (err)
			goto out;
		for (int i = 0; i < TEMPLATE_DIGEST_SIZE; i++)
			chain.hashes_xor[i] ^= e.digest[i];
		entries++;
		note_entry(&e, &f, &notes);
		if (policy)
			check_policy(policy, &e, &f, c, &counted);
		if (summary && attrib_next(&ar, log_cursor_segment(c), &e, &f, &a) > 0 &&
		    summary_add(summary, &f, &a))
			goto out;
		if (notes.uhashed == 1 && !notes.uhash_segment) {
			notes.uhash_segment = log_cursor_segment(c);
			notes.uhash_index = log_cursor_index(c);
		}
		if (recent_mark(&recent, entries, chain.clock)) {
			pr_err("out of memory");
			goto out;
		}
	}
	if (err < 0) {
		printf("FAIL: %s\n", log_cursor_error(c));
		print_cause(epoch_dir, o->since, entries - first);
		result = VERIFY_MISMATCH;
		goto out;
	}
	if (entries == first) {
		printf("FAIL: %s: the log has no entries\n", epoch_dir);
		result = VERIFY_MISMATCH;
		goto out;
	}
	err = preplay_sync(pre);
	if (err)
		goto out;
	for (uint32_t pcr = 0; ref.tpm && pcr < TPM_PCR_COUNT; pcr++)
		if (r.used & (1u << pcr))
			tpm_match(&watch, &r, &recent, pcr, &match[pcr]);
	err = ref.tpm ? 0 : quote_match(&ref, &recent, &r, epoch_dir, o->since, first, match);
	if (err) {
		pr_err("%s: cannot read the log again: %s", epoch_dir, strerror(-err));
		goto out;
	}
	if ((lacking = missing_anchor(&ka, &chain))) {
		printf("FAIL: the kernel holds anchor %llu (segment %u, %llu entries), which the "
		       "log does not have: its snapshot was removed from the log\n",
		       (unsigned long long)lacking->id, lacking->segment,
		       (unsigned long long)lacking->entries);
		result = VERIFY_MISMATCH;
		goto out;
	}

	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++) {
		const char *what = ref.tpm ? "the TPM value" : "the quote";

		if (!(r.used & (1u << pcr)))
			continue;
		if (!match[pcr].valid) {
			bad++;
			printf("FAIL: PCR %u: no prefix of the log replays to %s\n", pcr, what);
			if (ref.tpm)
				report_pcr(&r, &ref.t, pcr);
			print_cause(epoch_dir, o->since, entries - first);
			continue;
		}
		if (!ref.tpm && match[pcr].clock > ref.qi.clock) {
			bad++;
			printf("FAIL: PCR %u: the quote's TPM clock (%llu ms) is before that of a "
			       "snapshot's quote it would cover (%llu ms): a quote replayed from "
			       "earlier\n",
			       pcr, (unsigned long long)ref.qi.clock,
			       (unsigned long long)match[pcr].clock);
			continue;
		}
		if (match[pcr].entry == entries) {
			printf("PCR %u: the log replays to %s in", pcr, what);
		} else {
			printf("PCR %u: the log runs ahead of %s by %llu entr%s: up to segment %u, "
			       "entry %u (entry %llu of %llu) it replays to it; the rest was "
			       "logged "
			       "after it, and nothing vouches for it yet. Replays to it in",
			       pcr, what, (unsigned long long)(entries - match[pcr].entry),
			       entries - match[pcr].entry == 1 ? "y" : "ies", match[pcr].segment,
			       match[pcr].index, (unsigned long long)match[pcr].entry,
			       (unsigned long long)entries);
		}
		for (size_t b = 0; b < r.nbanks; b++) {
			bool quoted = false,
			     padded = ref.tpm ? r.padded[b] : ref.way >= 0 && (ref.way & (1 << b));

			for (uint32_t i = 0; ref.tpm && i < ref.t.nbanks[pcr]; i++)
				quoted |= ref.t.index[pcr][i] == (int)b;
			for (size_t i = 0; !ref.tpm && i < ref.qi.nbanks; i++)
				quoted |= ref.qi.bank_alg[i] == r.banks[b]->tpm_id;
			if (quoted)
				printf(" %s%s", r.banks[b]->name,
				       padded ? " (zero-padded SHA-1)" : "");
		}
		printf("\n");
	}
	bad += check_seqs(&notes);
	printf("%s: %llu entr%s in %u segment(s)%s: %s\n", epoch_dir,
	       (unsigned long long)(entries - first), entries - first == 1 ? "y" : "ies",
	       log_cursor_segments(c), start ? " from its anchor" : "",
	       bad ? "FAILED" : "verified");
	if (start)
		printf("note: verified from anchor %llu (entry %llu, which closed segment %u): the "
		       "%llu entries before it are not checked here; its quote vouches for the PCR "
		       "values it starts from\n",
		       (unsigned long long)start->id, (unsigned long long)start->entries,
		       start->segment, (unsigned long long)start->entries);
	print_notes(&notes);
	if (chain.count)
		printf("note: %llu snapshot(s), up to id %llu: each names the one before, counts "
		       "the entries and PCR values before it, and the digest of its segment; "
		       "%llu quote(s) verified with the attestation key\n",
		       (unsigned long long)chain.count, (unsigned long long)chain.last_id,
		       (unsigned long long)chain.quoted);
	if (ka.agreed)
		printf("note: the kernel's bima_anchors map holds %llu of these snapshots' "
		       "anchors, "
		       "and each agrees with the log\n",
		       (unsigned long long)ka.agreed);
	result = bad ? VERIFY_MISMATCH : VERIFY_OK;
	if (policy) {
		if (counted.failed > POLICY_FAILS_SHOWN)
			printf("FAIL: and %llu more entries the runtime policy does not allow\n",
			       (unsigned long long)(counted.failed - POLICY_FAILS_SHOWN));
		printf("%s: runtime policy %s: %llu entries allowed, %llu excluded, %llu not "
		       "allowed\n",
		       counted.failed ? "FAIL" : "ok", o->runtime_policy,
		       (unsigned long long)counted.allowed, (unsigned long long)counted.excluded,
		       (unsigned long long)counted.failed);
		if (counted.failed)
			result = VERIFY_MISMATCH;
	}
	if (o->reject_uhash && notes.uhashed) {
		printf("FAIL: segment %u, entry %u: the next entry was hashed in userspace, not "
		       "by the kernel (%s), and --reject-userspace-hashes refuses it\n",
		       notes.uhash_segment, notes.uhash_index, UHASH_NAME);
		result = VERIFY_MISMATCH;
	}
	if (summary && !o->json)
		summary_print(summary, stdout);
out:
	preplay__free(pre);
	if (summary && o->json)
		summary_print_json(summary, o->json, result);
	summary__free(summary);
	attrib_reader_free(&ar);
	log_cursor__free(c);
	tpm__free(ref.tpm);
	EVP_PKEY_free(ref.ak);
	runtime_policy_free(policy);
	free(recent.marks);
	recent.marks = NULL;
	return result;
}
