// SPDX-License-Identifier: GPL-2.0-only
/* The chain of snapshots, their quotes and the kernel's anchors (verify_chain.h). */
#include <errno.h>
#include <string.h>

#include "snapshot.h"
#include "verify_chain.h"

void chain_follow(struct chain *ch, struct log_cursor *c)
{
	if (log_cursor_segment(c) != ch->segment || log_cursor_at_anchor(c)) {
		ch->segment = log_cursor_segment(c);
		memset(ch->hashes_xor, 0, sizeof(ch->hashes_xor));
	}
}

/* Whether snapshot s follows the chain so far: its id, the one it names, its epoch. */
static int check_link(const struct chain *ch, const struct snapshot *s, char *why)
{
	if (!ch->anchor && (s->id <= ch->last_id || s->prev != ch->last_id)) {
		if (s->prev > ch->last_id)
			WHY("snapshot %llu names snapshot %llu as its previous, but the chain "
			    "before "
			    "it ends at snapshot %llu: a gap in the chain of snapshots (a segment "
			    "or entries removed)",
			    (unsigned long long)s->id, (unsigned long long)s->prev,
			    (unsigned long long)ch->last_id);
		else
			WHY("snapshot %llu (previous %llu) follows snapshot %llu: the chain of "
			    "snapshots is broken (entries or a segment repeated or reordered)",
			    (unsigned long long)s->id, (unsigned long long)s->prev,
			    (unsigned long long)ch->last_id);
		return -EBADMSG;
	}
	if (ch->reset != (uint32_t)-1 && (s->reset != ch->reset || s->restart != ch->restart)) {
		WHY("snapshot %llu was taken in TPM epoch %u-%u, not in this epoch %u-%u: a "
		    "segment from another epoch spliced in",
		    (unsigned long long)s->id, s->reset, s->restart, ch->reset, ch->restart);
		return -EBADMSG;
	}
	return 0;
}

/* Whether snapshot s counts the entries and holds the segment of the log before it. */
static int check_log_before(const struct chain *ch, const struct snapshot *s, struct log_cursor *c,
			    uint64_t entries, char *why)
{
	uint8_t digest[32];

	if (s->entries != entries) {
		WHY("snapshot %llu counts %llu entries before it, the log has %llu: %llu "
		    "entr%s %s",
		    (unsigned long long)s->id, (unsigned long long)s->entries,
		    (unsigned long long)entries,
		    (unsigned long long)(s->entries > entries ? s->entries - entries
							      : entries - s->entries),
		    s->entries - entries == 1 || entries - s->entries == 1 ? "y" : "ies",
		    s->entries > entries ? "deleted" : "added (or duplicated)");
		return -EBADMSG;
	}
	if (log_cursor_segment_sha256(c, digest)) { /* of the bytes before this entry */
		WHY("out of memory");
		return -ENOMEM;
	}
	if (s->segment != ch->segment) {
		WHY("snapshot %llu closes segment %u, but it is in segment %u",
		    (unsigned long long)s->id, s->segment, ch->segment);
		return -EBADMSG;
	}
	if (memcmp(digest, s->segment_sha256, sizeof(digest))) {
		bool same = !memcmp(ch->hashes_xor, s->segment_xor, sizeof(ch->hashes_xor));

		WHY("snapshot %llu: segment %u is not the one it took the digest of: %s",
		    (unsigned long long)s->id, ch->segment,
		    same ? "the same entries, in another order (entries reordered)"
			 : "an entry in it was replaced by another well-formed one");
		return -EBADMSG;
	}
	return 0;
}

/* Whether the replay (before the entry) holds snapshot s's PCR values. */
static int check_values(const struct snapshot *s, const struct reference *ref, struct replay *r,
			char *why)
{
	/* A bank not yet settled may be extended either way (replay.h). */
	for (size_t b = 0; b < s->nbanks; b++)
		for (size_t i = 0; i < r->nbanks; i++) {
			int err;

			if (r->banks[i] != s->banks[b])
				continue;
			err = ref_holds(ref, r, s->pcr, i, s->pcr_value[b]);
			if (err < 0)
				return err;
			if (!err) {
				WHY("snapshot %llu: PCR %u in %s is not what the log "
				    "before "
				    "it replays to",
				    (unsigned long long)s->id, s->pcr, s->banks[b]->name);
				return -EBADMSG;
			}
		}
	return 0;
}

int check_snapshot(struct chain *ch, const struct template_entry *e,
		   const struct template_fields *f, struct log_cursor *c,
		   const struct reference *ref, struct replay *r, uint64_t entries, char *why)
{
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
	err = check_link(ch, &s, why);
	if (!err && !ch->anchor)
		err = check_log_before(ch, &s, c, entries, why) ?: check_values(&s, ref, r, why);
	if (err)
		return err;
	ch->last_id = s.id;
	ch->count++;
	ch->quote_due = true;
	ch->pcr = s.pcr;
	hashalg_digest(hashalg_by_name("sha256", 6), f->extra, f->extra_len, ch->nonce);
	return 0;
}

int check_quote(struct chain *ch, struct reference *ref, struct replay *r, const char *epoch_dir,
		char *why)
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
	if (ref_read_quote(ref->ak, &q, &qi)) {
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
	if (!ref_digest_matches(r, ch->pcr, &qi, &ref->way) &&
	    (!r->lazy || ref_catch_up(ref, r) || !ref_digest_matches(r, ch->pcr, &qi, &ref->way))) {
		if (r->lazy) /* the log could not be read again: said */
			return -EIO;
		WHY("snapshot %llu: the PCR values its quote signs are not what the log replays "
		    "to",
		    id);
		return -EBADMSG;
	}
	ch->clock = qi.clock;
	ch->quoted++;
	return 0;
}

int check_kernel_anchor(struct kernel_anchors *ka, const struct chain *ch,
			const struct reference *ref, struct replay *r, uint64_t entries,
			const char *epoch_dir, char *why)
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
		for (size_t i = 0; i < r->nbanks; i++) {
			int held;

			if (r->banks[i]->tpm_id != a->bank_alg[b] || a->pcr >= TPM_PCR_COUNT)
				continue;
			held = ref_holds(ref, r, a->pcr, i, a->pcr_value[b]);
			if (held < 0)
				return held;
			if (!held)
				what = "PCR values";
		}
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

const struct bima_anchor *missing_anchor(const struct kernel_anchors *ka, const struct chain *ch)
{
	for (int i = 0; ka->have && ka->first && i < BIMA_ANCHORS_MAX; i++) {
		const struct bima_anchor *a = &ka->slot[i];

		if (!ka->seen[i] && a->id >= ka->first && a->id <= ch->last_id)
			return a;
	}
	return NULL;
}
