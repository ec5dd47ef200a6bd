// SPDX-License-Identifier: GPL-2.0-only
/* Where `bima verify`'s replay agrees with the reference (verify_match.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "verify_match.h"

void recent_init(struct recent *q, const struct tpm_quote_info *qi)
{
	free(q->marks);
	memset(q, 0, sizeof(*q));
	q->pcr = TPM_PCR_COUNT;
	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++)
		if (qi->pcr_mask == 1u << pcr)
			q->pcr = pcr;
}

int recent_slot(struct recent *q, uint32_t pcr, const struct position *pos)
{
	int slot = q->count % RECENT_MAX;

	if (pcr != q->pcr)
		return -1;
	q->pos[slot] = *pos;
	q->count++;
	return slot;
}

int recent_mark(struct recent *q, uint64_t entry, uint64_t clock)
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
			uint64_t first, uint64_t end, struct position *pos)
{
	static struct replay r;
	const struct snapshot *start;
	struct template_entry e;
	struct log_cursor *c;
	uint64_t entry = first;
	int err;

	err = log_cursor__open(ref->lazy.epoch_dir, ref->lazy.since, &c);
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
		if (e.pcr == q->pcr && ref_digest_matches(&r, q->pcr, &ref->qi, &ref->way))
			*pos = (struct position){ true, log_cursor_segment(c), log_cursor_index(c),
						  entry, clock_at(q, entry) };
	}
	log_cursor__free(c);
	return err < 0 ? err : 0;
}

int match_quote(struct reference *ref, const struct recent *q, const struct replay *r,
		uint64_t first, struct position *match)
{
	static struct replay at;
	uint64_t kept = q->count < RECENT_MAX ? q->count : RECENT_MAX;

	if (q->pcr == TPM_PCR_COUNT || !q->count)
		return 0;
	at = *r;
	/* Not every recent value has its padded way: try the own way only. */
	at.lazy |= ref->lazy.was_lazy;
	for (uint64_t i = 0; i < kept; i++) {
		uint64_t k = (q->count - 1 - i) % RECENT_MAX;
		struct replay_point point;

		for (size_t b = 0; b < TPM_BANKS_MAX; b++) {
			memcpy(point.pcr[b], q->value[b][k], sizeof(point.pcr[b]));
			memcpy(point.pcr_padded[b], q->value_padded[b][k],
			       sizeof(point.pcr_padded[b]));
		}
		replay_restore(&at, q->pcr, &point);
		if (ref_digest_matches(&at, q->pcr, &ref->qi, &ref->way)) {
			match[q->pcr] = q->pos[k];
			match[q->pcr].clock = clock_at(q, q->pos[k].entry);
			return 0;
		}
	}
	if (ref->lazy.was_lazy) /* every entry, every way */
		return rescan_quote(ref, q, r, first, q->pos[(q->count - 1) % RECENT_MAX].entry + 1,
				    &match[q->pcr]);
	if (q->count <= RECENT_MAX)
		return 0;
	return rescan_quote(ref, q, r, first, q->pos[q->count % RECENT_MAX].entry, &match[q->pcr]);
}

/*
 * Whether a value equals the TPM's (size at least 20 bytes): their first
 * eight bytes tell almost always, without a call to memcmp for every entry
 * in every bank.
 */
static bool same_value(const uint8_t *a, const uint8_t *b, size_t size)
{
	uint64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x == y && !memcmp(a, b, size);
}

void watch_entry(void *ctx, size_t b, const struct template_entry *e, const void *user)
{
	struct watch *w = ctx;
	const struct pushed *u = user;
	const struct tpm_values *t = &w->ref->t;
	const uint8_t *pcr = w->r->pcr[e->pcr][b], *padded = w->r->pcr_padded[e->pcr][b];
	size_t size = w->r->banks[b]->size;

	w->last[e->pcr][b] = u->pos.entry;
	if (u->slot >= 0) {
		memcpy(w->recent->value[b][u->slot], pcr, size);
		if (!w->r->lazy)
			memcpy(w->recent->value_padded[b][u->slot], padded, size);
	}
	/* The TPM's value of this bank, found by of_bank rather than a search of index. */
	if (w->ref->tpm && t->of_bank[e->pcr][b]) {
		const uint8_t *value = t->value[e->pcr][t->of_bank[e->pcr][b] - 1];

		if (same_value(pcr, value, size))
			w->normal[e->pcr][b] = u->pos;
		if (!w->r->lazy && same_value(padded, value, size))
			w->padded[e->pcr][b] = u->pos;
	}
}

void match_tpm(const struct watch *w, struct replay *r, uint32_t pcr, struct position *match)
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
	best.clock = clock_at(w->recent, best.entry);
	*match = best;
}

bool own_way_at_end(const struct watch *w, uint32_t pcr)
{
	const struct tpm_values *t = &w->ref->t;

	for (uint32_t i = 0; i < t->nbanks[pcr]; i++) {
		int b = t->index[pcr][i];

		if (!w->normal[pcr][b].valid || w->normal[pcr][b].entry != w->last[pcr][b])
			return false;
	}
	return t->nbanks[pcr] > 0;
}

int rescan_tpm(struct watch *w, struct replay *r, uint64_t first)
{
	static struct replay full;
	const struct tpm_values *t = &w->ref->t;
	const struct snapshot *start;
	struct template_entry e;
	struct log_cursor *c;
	uint64_t entry = first;
	int err;

	err = log_cursor__open(w->ref->lazy.epoch_dir, w->ref->lazy.since, &c);
	if (err)
		return err;
	replay_init(&full, r->banks, r->nbanks);
	if ((start = log_cursor_start(c)))
		for (size_t b = 0; b < start->nbanks; b++)
			replay_set(&full, start->pcr, start->banks[b], start->pcr_value[b]);
	memset(w->normal, 0, sizeof(w->normal));
	memset(w->padded, 0, sizeof(w->padded));
	while (entry - first < w->ref->lazy.pushed && (err = log_cursor_next(c, &e)) > 0) {
		struct position pos;

		err = replay_entry(&full, &e);
		if (err)
			break;
		pos = (struct position){ .valid = true,
					 .segment = log_cursor_segment(c),
					 .index = log_cursor_index(c),
					 .entry = ++entry };
		for (uint32_t i = 0; i < t->nbanks[e.pcr]; i++) {
			int b = t->index[e.pcr][i];
			size_t size = r->banks[b]->size;

			if (!memcmp(full.pcr[e.pcr][b], t->value[e.pcr][i], size))
				w->normal[e.pcr][b] = pos;
			if (!memcmp(full.pcr_padded[e.pcr][b], t->value[e.pcr][i], size))
				w->padded[e.pcr][b] = pos;
		}
	}
	log_cursor__free(c);
	if (err < 0)
		return err;
	memcpy(r->pcr_padded, full.pcr_padded, sizeof(r->pcr_padded));
	r->lazy = false;
	return 0;
}

void recent_free(struct recent *q)
{
	free(q->marks);
	q->marks = NULL;
}
