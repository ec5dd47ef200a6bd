// SPDX-License-Identifier: GPL-2.0-only
/* A replay whose banks are extended in parallel; the contract is in preplay.h. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "preplay.h"
#include "hashmb.h"

/*
 * Each batch wakes every bank's thread and waits for it: 4096 entries a
 * batch take a third of the context switches 1024 did (a tenth of a
 * millisecond each hundred), for 200 KiB more memory.
 */
#define BATCH_ENTRIES 4096
#define ARENA_MIN (512u << 10) /* bytes of template data and user bytes a batch holds */

struct item {
	struct template_entry e; /* data: NULL until the batch is handed, then into the arena */
	size_t data_off, user_off;
};

struct batch {
	struct item items[BATCH_ENTRIES];
	size_t n;
	uint8_t *arena;
	size_t used, cap;
};

struct worker {
	struct preplay *p;
	size_t bank, idx; /* idx: its place in workers[] and done[] */
	pthread_t thread;
	/*
	 * The bank's digests of a batch's entries, taken several at a time
	 * (hashmb.h) before they are extended; NULL where the bank's hash is
	 * not taken that way, and each entry's is taken as it is extended.
	 */
	uint8_t (*digest)[HASHALG_MAX_SIZE];
	bool *have; /* have[i]: digest[i] is item i's */
};

/*
 * Batch number s (from 1) is filled in batch[s % 2]. The caller fills
 * batch handed + 1 while the threads work on those up to handed; it fills
 * a batch again once every thread is done with the one it held before.
 */
struct preplay {
	struct replay *r;
	preplay_after_fn after;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t more, done_cond;
	struct batch batch[2];
	uint64_t handed;	      /* batches handed to the threads */
	uint64_t done[TPM_BANKS_MAX]; /* batches each thread (workers[i]) has extended */
	int err[TPM_BANKS_MAX];	      /* each bank's first error */
	bool filling;		      /* batch handed + 1 has entries, or room for them */
	bool stop;
	int own_bank; /* the bank preplay_push extends itself, or -1 */
	struct worker workers[TPM_BANKS_MAX];
	size_t nthreads;
};

/* The bank's digest of every entry whose digest is the hash of its data, several at once. */
static void take_digests(struct worker *w, const struct batch *batch)
{
	const struct hashalg *alg = w->p->r->banks[w->bank];
	size_t len[HASHMB_LANES_MAX], n = 0, lanes = hashmb_lanes(alg);
	const uint8_t *msg[HASHMB_LANES_MAX];
	uint8_t *out[HASHMB_LANES_MAX];

	for (size_t i = 0; i < batch->n; i++) {
		const struct template_entry *e = &batch->items[i].e;

		w->have[i] = template_digest_is_data_hash(e);
		if (!w->have[i])
			continue;
		msg[n] = e->data;
		len[n] = e->data_len;
		out[n++] = w->digest[i];
		if (n == lanes) {
			hashmb_digest(alg, n, msg, len, out);
			n = 0;
		}
	}
	if (n)
		hashmb_digest(alg, n, msg, len, out);
}

static void run_batch(struct worker *w, const struct batch *batch)
{
	struct preplay *p = w->p;
	size_t b = w->bank;

	if (w->digest)
		take_digests(w, batch);
	for (size_t i = 0; i < batch->n; i++) {
		const struct template_entry *e = &batch->items[i].e;

		if (!p->err[b])
			p->err[b] = w->digest && w->have[i]
					    ? replay_bank_digest(p->r, b, e, w->digest[i])
					    : replay_bank(p->r, b, e, true);
		if (p->after)
			p->after(p->ctx, b, e, batch->arena + batch->items[i].user_off);
	}
}

static void *work(void *arg)
{
	struct worker *w = arg;
	struct preplay *p = w->p;
	size_t i = w->idx;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		uint64_t s;

		while (!p->stop && p->done[i] == p->handed)
			pthread_cond_wait(&p->more, &p->lock);
		if (p->done[i] == p->handed)
			break;
		s = p->done[i] + 1;
		pthread_mutex_unlock(&p->lock);
		run_batch(w, &p->batch[s % 2]);
		pthread_mutex_lock(&p->lock);
		p->done[i] = s;
		pthread_cond_broadcast(&p->done_cond);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Wait until every bank's thread has extended batches up to s. */
static void wait_done(struct preplay *p, uint64_t s)
{
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->nthreads; i++)
		while (p->done[i] < s)
			pthread_cond_wait(&p->done_cond, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

static void hand(struct preplay *p)
{
	struct batch *b = &p->batch[(p->handed + 1) % 2];

	/* Its arena stays where it is until the batch is filled again. */
	for (size_t i = 0; i < b->n; i++)
		b->items[i].e.data = b->arena + b->items[i].data_off;
	p->filling = false;
	pthread_mutex_lock(&p->lock);
	p->handed++;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
}

static void stop(struct preplay *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = true;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->workers[i].thread, NULL);
	p->nthreads = 0;
}

int preplay__new(struct replay *r, preplay_after_fn after, void *ctx, struct preplay **out)
{
	struct preplay *p = calloc(1, sizeof(*p));
	int err = 0;

	if (!p)
		return -ENOMEM;
	p->r = r;
	p->after = after;
	p->ctx = ctx;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	pthread_cond_init(&p->done_cond, NULL);
	p->own_bank = -1;
	for (size_t b = 0; !err && b < r->nbanks; b++) {
		struct worker *w = &p->workers[p->nthreads];

		/*
		 * The SHA-1 bank extends the template hash the caller checked:
		 * one compression an entry, less than its thread would cost to
		 * wake and feed, so preplay_push extends it at once.
		 */
		if (!strcmp(r->banks[b]->name, "sha1") && p->own_bank < 0) {
			p->own_bank = b;
			continue;
		}
		*w = (struct worker){ .p = p, .bank = b, .idx = p->nthreads };
		if (hashmb_lanes(r->banks[b])) {
			w->digest = calloc(BATCH_ENTRIES, sizeof(*w->digest));
			w->have = calloc(BATCH_ENTRIES, sizeof(*w->have));
			if (!w->digest || !w->have) {
				err = -ENOMEM;
				break;
			}
		}
		err = -pthread_create(&w->thread, NULL, work, w);
		if (!err)
			p->nthreads++;
	}
	if (err) {
		preplay__free(p);
		return err;
	}
	*out = p;
	return 0;
}

void preplay__free(struct preplay *p)
{
	if (!p)
		return;
	stop(p);
	for (int i = 0; i < 2; i++)
		free(p->batch[i].arena);
	for (size_t i = 0; i < TPM_BANKS_MAX; i++) {
		free(p->workers[i].digest);
		free(p->workers[i].have);
	}
	pthread_cond_destroy(&p->more);
	pthread_cond_destroy(&p->done_cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Room for len more bytes in the batch being filled, handing it over when full. */
static struct batch *room(struct preplay *p, size_t len)
{
	struct batch *b = &p->batch[(p->handed + 1) % 2];
	uint8_t *arena;

	if (p->filling && b->n && (b->n == BATCH_ENTRIES || b->used + len > b->cap)) {
		hand(p);
		b = &p->batch[(p->handed + 1) % 2];
	}
	if (!p->filling) {
		/* Its last use was batch handed - 1: wait until every thread is done with it. */
		wait_done(p, p->handed ? p->handed - 1 : 0);
		b->n = 0;
		b->used = 0;
		p->filling = true;
	}
	if (b->used + len > b->cap) {
		size_t cap = len > ARENA_MIN ? len : ARENA_MIN;

		arena = realloc(b->arena, cap);
		if (!arena)
			return NULL;
		b->arena = arena;
		b->cap = cap;
	}
	return b;
}

int preplay_push(struct preplay *p, const struct template_entry *e, const void *user,
		 size_t user_len)
{
	size_t data_len = (e->data_len + 7) & ~(size_t)7;
	struct batch *b;
	struct item *it;

	if (e->pcr >= TPM_PCR_COUNT)
		return -ERANGE;
	if (user_len > PREPLAY_USER_MAX)
		return -EINVAL;
	b = room(p, data_len + user_len);
	if (!b)
		return -ENOMEM;
	it = &b->items[b->n++];
	it->e = *e;
	it->e.data = NULL;
	it->data_off = b->used;
	memcpy(b->arena + b->used, e->data, e->data_len);
	b->used += data_len;
	it->user_off = b->used;
	memcpy(b->arena + b->used, user, user_len);
	b->used += user_len;
	p->r->used |= 1u << e->pcr;
	if (p->own_bank >= 0) {
		size_t own = p->own_bank;

		if (!p->err[own])
			p->err[own] = replay_bank(p->r, own, e, true);
		if (p->after)
			p->after(p->ctx, own, e, user);
	}
	return 0;
}

int preplay_sync(struct preplay *p)
{
	if (p->filling && p->batch[(p->handed + 1) % 2].n)
		hand(p);
	wait_done(p, p->handed);
	for (size_t b = 0; b < p->r->nbanks; b++)
		if (p->err[b])
			return p->err[b];
	return 0;
}
