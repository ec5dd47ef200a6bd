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
#include "digestset.h"
#include "loader.h"
#include "log.h"
#include "lognotes.h"
#include "msg.h"
#include "preplay.h"
#include "replay.h"
#include "runtime_policy.h"
#include "snapshot.h"
#include "uhash.h"
#include "verify.h"
#include "verify_ahead.h"
#include "verify_chain.h"
#include "verify_match.h"
#include "verify_ref.h"
#include "views.h"

/* Every bank a TPM may have; verify compares those the TPM allocates. */
static const char *const bank_names[] = { "sha1", "sha256", "sha384", "sha512" };
#define NBANK_NAMES (sizeof(bank_names) / sizeof(bank_names[0]))

static int check_entry(struct ahead *ahead, const struct log_cursor *c,
		       const struct template_entry *e, const struct template_fields *f, char *why)
{
	static const struct hashalg *alg; /* looked up once, not at every entry */
	uint8_t sha1[TEMPLATE_DIGEST_SIZE];
	int err = 0;

	if (template_is_violation(e))
		return 0;
	alg = alg ?: hashalg_by_name("sha1", 4);
	if (template_digest_is_data_hash(e))
		ahead_sha1(ahead, c, e, sha1);
	else
		err = template_bank_digest(e, alg, sha1);
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

/* One run of `bima verify`: what each step finds, and leaves for the next. */
struct verifier {
	const struct verify_opts *o;
	const char *epoch_dir;	/* the log verified */
	char dir[LOG_PATH_MAX]; /* epoch_dir, when the reference names it */
	struct reference ref;
	struct replay r;
	struct preplay *pre; /* the replay's threads, one per bank */
	struct watch watch;  /* what they note after each entry */
	struct recent recent;
	struct chain chain;
	struct kernel_anchors ka;
	struct notes notes;
	struct log_cursor *c;
	struct ahead ahead;		      /* the SHA-1 of the entries ahead of c */
	const struct snapshot *start;	      /* the anchor the log starts from, or NULL */
	uint64_t first;			      /* the entries before it */
	uint64_t entries;		      /* up to the last one read */
	struct position match[TPM_PCR_COUNT]; /* where the log agrees with the reference */
	struct runtime_policy *policy;
	struct policy_count counted;
	struct summary *summary;
	struct attrib_reader ar;
	char why[WHY_LEN]; /* why the entry just read fails */
};

/* The log: its epoch (the quote's, with a quote), and where it starts. */
static int open_log(struct verifier *v)
{
	const char *base = strrchr(v->epoch_dir, '/');
	struct chain *ch = &v->chain;
	int err;

	if (sscanf(base ? base + 1 : v->epoch_dir, "epoch-%u-%u", &ch->reset, &ch->restart) != 2)
		ch->reset = (uint32_t)-1;
	if (!v->ref.tpm && ch->reset != (uint32_t)-1 &&
	    (ch->reset != v->ref.qi.reset || ch->restart != v->ref.qi.restart)) {
		printf("FAIL: %s: the quote was taken in TPM epoch %u-%u, not in this log's\n",
		       v->epoch_dir, v->ref.qi.reset, v->ref.qi.restart);
		return VERIFY_MISMATCH;
	}
	err = log_cursor__open(v->epoch_dir, v->o->since, &v->c);
	if (err) {
		pr_err("%s: %s (no log for %s epoch?)", v->epoch_dir, strerror(-err),
		       v->ref.tpm ? "the TPM's current" : "the quote's");
		return VERIFY_ERROR;
	}
	if ((v->start = log_cursor_start(v->c))) {
		for (size_t b = 0; b < v->start->nbanks; b++)
			replay_set(&v->r, v->start->pcr, v->start->banks[b],
				   v->start->pcr_value[b]);
		v->entries = v->first = v->start->entries;
		ch->last_id = v->start->prev;
		v->notes.from_anchor = true;
	}
	return VERIFY_OK;
}

/* Open what the run needs: the runtime policy, the summary, the reference, the replay, the log. */
static int verifier_open(struct verifier *v)
{
	const struct verify_opts *o = v->o;
	const struct hashalg *banks[NBANK_NAMES];
	int result, err;

	for (size_t i = 0; i < NBANK_NAMES; i++)
		banks[i] = hashalg_by_name(bank_names[i], strlen(bank_names[i]));
	replay_init(&v->r, banks, NBANK_NAMES);
	v->chain.reset = (uint32_t)-1;
	v->epoch_dir = o->epoch_dir;
	if (o->runtime_policy && runtime_policy_read(o->runtime_policy, &v->policy))
		return VERIFY_ERROR;
	if (o->by_container && summary__new(o->allowlist, &v->summary))
		return VERIFY_ERROR;
	result = ref_open(o, &v->ref, v->dir, sizeof(v->dir), &v->epoch_dir);
	if (result != VERIFY_OK)
		return result;
	if (ref_banks(&v->ref, v->epoch_dir, o->since, !o->epoch_dir, &v->r))
		return VERIFY_ERROR;
	recent_init(&v->recent, &v->ref.qi);
	v->r.lazy = true;
	v->ref.lazy =
		(struct lazy_pad){ .epoch_dir = v->epoch_dir, .since = o->since, .was_lazy = true };
	v->watch = (struct watch){ .r = &v->r, .ref = &v->ref, .recent = &v->recent };
	err = preplay__new(&v->r, watch_entry, &v->watch, &v->pre);
	if (err) {
		pr_err("cannot start the replay's threads: %s", strerror(-err));
		return VERIFY_ERROR;
	}
	/* The kernel's anchors are those of the running daemon's log: the TPM's epoch. */
	v->ka.have = v->ref.tpm && !o->epoch_dir && !loader_pinned_anchors(v->ka.slot);
	return open_log(v);
}

/*
 * Check entry e, the one after v->entries, and give it to the replay: its
 * template hash and PCR; if it is a snapshot, the chain, its quote and the
 * kernel's anchor of it. 0, or an error: -EBADMSG and -ENOKEY with v->why.
 */
static int verify_entry(struct verifier *v, const struct template_entry *e,
			struct template_fields *f)
{
	struct chain *ch = &v->chain;
	struct pushed pushed;
	char *why = v->why;
	uint64_t snapshots;
	int err;

	chain_follow(ch, v->c);
	snapshots = ch->count;
	err = template_fields(e, f, why);
	err = err ?: check_entry(&v->ahead, v->c, e, f, why);
	/* A snapshot holds the values before it: every bank's thread must be done. */
	if (!err && template_record(e, f, SNAPSHOT_NAME))
		err = preplay_sync(v->pre);
	err = err ?: check_snapshot(ch, e, f, v->c, &v->ref, &v->r, v->entries, why);
	err = err ?: e->pcr < TPM_PCR_COUNT ? 0 : -ERANGE;
	/* The TPM's values before the entry go to the threads that compare with them. */
	err = err ?: v->ref.tpm ? ref_read_pcr(v->ref.tpm, &v->r, &v->ref.t, e->pcr) : 0;
	if (err)
		return err;
	pushed.pos = (struct position){ .valid = true,
					.segment = log_cursor_segment(v->c),
					.index = log_cursor_index(v->c),
					.entry = v->entries + 1 };
	pushed.slot = recent_slot(&v->recent, e->pcr, &pushed.pos);
	/* check_entry checked its template hash */
	err = preplay_push(v->pre, e, &pushed, sizeof(pushed));
	v->ref.lazy.pushed += !err;
	/* A snapshot's quote and anchor hold the values after it. */
	if (!err && (ch->quote_due || ch->count != snapshots))
		err = preplay_sync(v->pre);
	err = err ?: ch->quote_due ? check_quote(ch, &v->ref, &v->r, v->epoch_dir, why) : 0;
	if (!err && ch->count != snapshots)
		err = check_kernel_anchor(&v->ka, ch, &v->ref, &v->r, v->entries + 1, v->epoch_dir,
					  why);
	return err;
}

/* Say why the entry just read failed (err); the result. Other errors were said already. */
static int entry_failed(struct verifier *v, const struct template_entry *e, int err)
{
	const char *where = log_cursor_at_anchor(v->c) ? "anchor of segment" : "segment";

	if (err == -EBADMSG || err == -ENOKEY) {
		printf("FAIL: %s %u, entry %u: %s\n", where, log_cursor_segment(v->c),
		       log_cursor_index(v->c), v->why);
		print_cause(v->epoch_dir, v->o->since, v->entries - v->first);
		return err == -ENOKEY ? VERIFY_ERROR : VERIFY_MISMATCH;
	}
	if (err == -ERANGE) {
		printf("FAIL: %s %u, entry %u: the entry names PCR %u, and a TPM has PCRs 0 to "
		       "%u\n",
		       where, log_cursor_segment(v->c), log_cursor_index(v->c), e->pcr,
		       TPM_PCR_COUNT - 1);
		return VERIFY_MISMATCH;
	}
	return VERIFY_ERROR;
}

/* Take a checked entry: its segment's digests, the notes, the runtime policy, the summary. */
static int take_entry(struct verifier *v, const struct template_entry *e,
		      const struct template_fields *f)
{
	struct attribution a;

	for (int i = 0; i < TEMPLATE_DIGEST_SIZE; i++)
		v->chain.hashes_xor[i] ^= e->digest[i];
	v->entries++;
	note_entry(e, f, &v->notes);
	if (v->policy)
		check_policy(v->policy, e, f, v->c, &v->counted);
	if (v->summary && attrib_next(&v->ar, log_cursor_segment(v->c), e, f, &a) > 0 &&
	    summary_add(v->summary, f, &a))
		return VERIFY_ERROR;
	if (v->notes.uhashed == 1 && !v->notes.uhash_segment) {
		v->notes.uhash_segment = log_cursor_segment(v->c);
		v->notes.uhash_index = log_cursor_index(v->c);
	}
	if (recent_mark(&v->recent, v->entries, v->chain.clock)) {
		pr_err("out of memory");
		return VERIFY_ERROR;
	}
	return VERIFY_OK;
}

/* Read, check and replay the log to its end; stop at the first entry that fails. */
static int read_log(struct verifier *v)
{
	struct template_fields f;
	struct template_entry e;
	int err = 0, result = VERIFY_OK;

	while (result == VERIFY_OK && (err = log_cursor_next(v->c, &e)) > 0) {
		err = verify_entry(v, &e, &f);
		result = err ? entry_failed(v, &e, err) : take_entry(v, &e, &f);
	}
	if (result != VERIFY_OK)
		return result;
	if (err < 0) {
		printf("FAIL: %s\n", log_cursor_error(v->c));
		print_cause(v->epoch_dir, v->o->since, v->entries - v->first);
		return VERIFY_MISMATCH;
	}
	if (v->entries == v->first) {
		printf("FAIL: %s: the log has no entries\n", v->epoch_dir);
		return VERIFY_MISMATCH;
	}
	return VERIFY_OK;
}

/* Where the log agrees with the reference, PCR by PCR; and that it has every kernel anchor. */
static int find_matches(struct verifier *v)
{
	const struct bima_anchor *lacking;
	int err = preplay_sync(v->pre);

	if (err)
		return VERIFY_ERROR;
	/* A PCR that does not match its own way is looked for every way. */
	for (uint32_t pcr = 0; v->ref.tpm && v->ref.lazy.was_lazy && pcr < TPM_PCR_COUNT; pcr++)
		if ((v->r.used & (1u << pcr)) && !own_way_at_end(&v->watch, pcr)) {
			err = rescan_tpm(&v->watch, &v->r, v->first);
			break;
		}
	for (uint32_t pcr = 0; !err && v->ref.tpm && pcr < TPM_PCR_COUNT; pcr++)
		if (v->r.used & (1u << pcr))
			match_tpm(&v->watch, &v->r, pcr, &v->match[pcr]);
	err = err ?: v->ref.tpm ? 0 : match_quote(&v->ref, &v->recent, &v->r, v->first, v->match);
	if (err) {
		pr_err("%s: cannot read the log again: %s", v->epoch_dir, strerror(-err));
		return VERIFY_ERROR;
	}
	if ((lacking = missing_anchor(&v->ka, &v->chain))) {
		printf("FAIL: the kernel holds anchor %llu (segment %u, %llu entries), which the "
		       "log does not have: its snapshot was removed from the log\n",
		       (unsigned long long)lacking->id, lacking->segment,
		       (unsigned long long)lacking->entries);
		return VERIFY_MISMATCH;
	}
	return VERIFY_OK;
}

/* The banks a PCR matched in, and the way each is extended. */
static void print_banks(const struct verifier *v, uint32_t pcr)
{
	const struct reference *ref = &v->ref;
	const struct replay *r = &v->r;

	for (size_t b = 0; b < r->nbanks; b++) {
		bool quoted = false,
		     padded = ref->tpm ? r->padded[b] : ref->way >= 0 && (ref->way & (1 << b));

		for (uint32_t i = 0; ref->tpm && i < ref->t.nbanks[pcr]; i++)
			quoted |= ref->t.index[pcr][i] == (int)b;
		for (size_t i = 0; !ref->tpm && i < ref->qi.nbanks; i++)
			quoted |= ref->qi.bank_alg[i] == r->banks[b]->tpm_id;
		if (quoted)
			printf(" %s%s", r->banks[b]->name, padded ? " (zero-padded SHA-1)" : "");
	}
	printf("\n");
}

/* How PCR pcr compares with the reference; whether it fails. */
static bool report_pcr(const struct verifier *v, uint32_t pcr)
{
	const struct reference *ref = &v->ref;
	const struct position *m = &v->match[pcr];
	const char *what = ref->tpm ? "the TPM value" : "the quote";
	uint64_t entries = v->entries;

	if (!m->valid) {
		printf("FAIL: PCR %u: no prefix of the log replays to %s\n", pcr, what);
		if (ref->tpm)
			ref_print_pcr(&v->r, &ref->t, pcr);
		print_cause(v->epoch_dir, v->o->since, entries - v->first);
		return true;
	}
	if (!ref->tpm && m->clock > ref->qi.clock) {
		printf("FAIL: PCR %u: the quote's TPM clock (%llu ms) is before that of a "
		       "snapshot's quote it would cover (%llu ms): a quote replayed from "
		       "earlier\n",
		       pcr, (unsigned long long)ref->qi.clock, (unsigned long long)m->clock);
		return true;
	}
	if (m->entry == entries) {
		printf("PCR %u: the log replays to %s in", pcr, what);
	} else {
		printf("PCR %u: the log runs ahead of %s by %llu entr%s: up to segment %u, "
		       "entry %u (entry %llu of %llu) it replays to it; the rest was "
		       "logged "
		       "after it, and nothing vouches for it yet. Replays to it in",
		       pcr, what, (unsigned long long)(entries - m->entry),
		       entries - m->entry == 1 ? "y" : "ies", m->segment, m->index,
		       (unsigned long long)m->entry, (unsigned long long)entries);
	}
	print_banks(v, pcr);
	return false;
}

/* What the log says of itself, after the verdict. */
static void report_notes(struct verifier *v)
{
	const struct snapshot *start = v->start;

	if (start)
		printf("note: verified from anchor %llu (entry %llu, which closed segment %u): the "
		       "%llu entries before it are not checked here; its quote vouches for the PCR "
		       "values it starts from\n",
		       (unsigned long long)start->id, (unsigned long long)start->entries,
		       start->segment, (unsigned long long)start->entries);
	print_notes(&v->notes);
	if (v->chain.count)
		printf("note: %llu snapshot(s), up to id %llu: each names the one before, counts "
		       "the entries and PCR values before it, and the digest of its segment; "
		       "%llu quote(s) verified with the attestation key\n",
		       (unsigned long long)v->chain.count, (unsigned long long)v->chain.last_id,
		       (unsigned long long)v->chain.quoted);
	if (v->ka.agreed)
		printf("note: the kernel's bima_anchors map holds %llu of these snapshots' "
		       "anchors, "
		       "and each agrees with the log\n",
		       (unsigned long long)v->ka.agreed);
}

/* The runtime policy's verdict; whether it fails. */
static bool report_policy(const struct verifier *v)
{
	const struct policy_count *n = &v->counted;

	if (n->failed > POLICY_FAILS_SHOWN)
		printf("FAIL: and %llu more entries the runtime policy does not allow\n",
		       (unsigned long long)(n->failed - POLICY_FAILS_SHOWN));
	printf("%s: runtime policy %s: %llu entries allowed, %llu excluded, %llu not "
	       "allowed\n",
	       n->failed ? "FAIL" : "ok", v->o->runtime_policy, (unsigned long long)n->allowed,
	       (unsigned long long)n->excluded, (unsigned long long)n->failed);
	return n->failed;
}

/*
 * The one reporter: each PCR against the reference, the log's sequence
 * numbers, the verdict, the notes, the runtime policy and userspace
 * hashes. Returns the result.
 */
static int report(struct verifier *v)
{
	uint64_t n = v->entries - v->first;
	int bad = 0, result;

	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++)
		if (v->r.used & (1u << pcr))
			bad += report_pcr(v, pcr);
	bad += check_seqs(&v->notes);
	printf("%s: %llu entr%s in %u segment(s)%s: %s\n", v->epoch_dir, (unsigned long long)n,
	       n == 1 ? "y" : "ies", log_cursor_segments(v->c), v->start ? " from its anchor" : "",
	       bad ? "FAILED" : "verified");
	report_notes(v);
	result = bad ? VERIFY_MISMATCH : VERIFY_OK;
	if (v->policy && report_policy(v))
		result = VERIFY_MISMATCH;
	if (v->o->reject_uhash && v->notes.uhashed) {
		printf("FAIL: segment %u, entry %u: the next entry was hashed in userspace, not "
		       "by the kernel (%s), and --reject-userspace-hashes refuses it\n",
		       v->notes.uhash_segment, v->notes.uhash_index, UHASH_NAME);
		result = VERIFY_MISMATCH;
	}
	if (v->summary && !v->o->json)
		summary_print(v->summary, stdout);
	return result;
}

static void verifier_close(struct verifier *v, int result)
{
	preplay__free(v->pre);
	if (v->summary && v->o->json)
		summary_print_json(v->summary, v->o->json, result);
	summary__free(v->summary);
	attrib_reader_free(&v->ar);
	log_cursor__free(v->c);
	ref_close(&v->ref);
	runtime_policy_free(v->policy);
	recent_free(&v->recent);
	free(v);
}

int verify_run(const struct verify_opts *o)
{
	struct verifier *v = calloc(1, sizeof(*v));
	int result;

	if (!v) {
		pr_err("out of memory");
		return VERIFY_ERROR;
	}
	v->o = o;
	result = verifier_open(v);
	if (result == VERIFY_OK)
		result = read_log(v);
	if (result == VERIFY_OK)
		result = find_matches(v);
	if (result == VERIFY_OK)
		result = report(v);
	verifier_close(v, result);
	return result;
}
