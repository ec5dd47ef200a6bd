// SPDX-License-Identifier: GPL-2.0-only
/*
 * Template-digest sets, which keep the daemon from logging an entry twice:
 * membership across growth, the all-zero digest, merging a batch into the
 * epoch's set, and clearing. A bounded set (the epoch's) never holds more
 * than its bound, whatever comes, and never answers "had it" for a digest
 * that it was not given: reaching the bound makes entries be logged again,
 * never left out.
 */
#include <stdlib.h>

#include "check.h"
#include "digestset.h"
#include "hashalg.h"

/* A distinct digest per n, as real ones are: SHA-1 of n. */
static void digest_of(unsigned int n, uint8_t d[TEMPLATE_DIGEST_SIZE])
{
	hashalg_digest(hashalg_by_name("sha1", 4), &n, sizeof(n), d);
}

/* Membership across growth, the all-zero digest, a batch merged, a set cleared. */
static void test_grow(void)
{
	struct digestset s = {}, batch = {};
	uint8_t d[TEMPLATE_DIGEST_SIZE], zero[TEMPLATE_DIGEST_SIZE] = {};
	unsigned int added = 0, found = 0, n;

	for (n = 0; n < 5000; n++) {
		digest_of(n, d);
		added += digestset_add(&s, d) == 1;
	}
	CHECK_EQ(added, 5000, "5000 distinct digests are each new");
	CHECK_EQ(s.count, 5000, "and counted");
	CHECK(s.size >= 5000 * 4 / 3, "the table grew to keep a quarter free", "size %zu", s.size);
	for (n = 0; n < 5000; n++) {
		digest_of(n, d);
		found += digestset_has(&s, d) && digestset_add(&s, d) == 0;
	}
	CHECK_EQ(found, 5000, "after growing, each is found, and adding it again adds nothing");
	digest_of(5000, d);
	CHECK(!digestset_has(&s, d), "a digest never added is not found", "");

	CHECK(!digestset_has(&s, zero), "the all-zero digest is not there", "");
	CHECK_EQ(digestset_add(&s, zero), 1, "it can be added (it cannot sit in a slot)");
	CHECK(digestset_has(&s, zero) && digestset_add(&s, zero) == 0, "and is found", "");

	digest_of(7000, d);
	digestset_add(&batch, d);
	digest_of(3, d);
	digestset_add(&batch, d);
	CHECK_EQ(digestset_merge(&s, &batch), 0, "a batch merges");
	CHECK_EQ(s.count, 5001, "adding only what is new");
	digest_of(7000, d);
	CHECK(digestset_has(&s, d), "the batch's new digest is in the set", "");
	digestset_clear(&batch);
	CHECK(batch.count == 0 && !digestset_has(&batch, d), "a cleared set is empty", "");
	digestset_free(&s);
	digestset_free(&batch);
}

/* The epoch's bound, against three times as many distinct entries. */
static void test_bound(void)
{
	struct digestset ep = { .max = DIGESTSET_EPOCH_MAX };
	uint8_t d[TEMPLATE_DIGEST_SIZE], zero[TEMPLATE_DIGEST_SIZE] = {};
	size_t most = 0, biggest = 0;
	unsigned int fresh = 0, n;

	for (n = 0; n < 3 * DIGESTSET_EPOCH_MAX + 5; n++) {
		digest_of(n, d);
		fresh += digestset_add(&ep, d) == 1;
		most = ep.count > most ? ep.count : most;
		biggest = ep.size > biggest ? ep.size : biggest;
	}
	CHECK_EQ(fresh, 3 * DIGESTSET_EPOCH_MAX + 5, "a bounded set: every distinct digest is new");
	CHECK_EQ(most, DIGESTSET_EPOCH_MAX, "it never holds more than its bound");
	CHECK_EQ(biggest, 2 * DIGESTSET_EPOCH_MAX, "nor more slots than twice it (5 MiB)");
	CHECK_EQ(ep.forgot, 3, "it forgot what it held each time it was full");
	digest_of(0, d);
	CHECK(!digestset_has(&ep, d) && digestset_add(&ep, d) == 1,
	      "a digest it forgot is new again: its entry is logged again", "");
	CHECK(digestset_has(&ep, d) && digestset_add(&ep, d) == 0,
	      "and then known again until the next time it is full", "");
	CHECK_EQ(digestset_add(&ep, zero), 1, "the all-zero digest is new in it too");
	digestset_free(&ep);
}

/*
 * Repeats mixed with new digests, through a small bound and batches
 * merged in, as the daemon does: "had it" only ever for one given
 * before, and each digest known while it was given since the last forget.
 */
static void test_small(void)
{
	enum { SMALL = 100, KINDS = 1000, ROUNDS = 50000, BATCH = 37 };
	struct digestset small = { .max = SMALL }, batch = {};
	unsigned char *given = calloc(KINDS, 1), *since = calloc(KINDS, 1);
	unsigned int dropped = 0, wrong = 0, repeats = 0, n;
	uint8_t d[TEMPLATE_DIGEST_SIZE];
	uint64_t forgot = 0;
	size_t most = 0;

	srand(13);
	for (n = 0; n < ROUNDS; n++) {
		unsigned int k = rand() % KINDS;
		int r;

		digest_of(k, d);
		if (n % BATCH) {
			r = digestset_add(&small, d);
		} else {
			/* a batch of one merged: the collector's path */
			digestset_clear(&batch);
			digestset_add(&batch, d);
			r = digestset_has(&small, d) ? 0 : 1;
			digestset_merge(&small, &batch);
		}
		if (small.forgot != forgot) {
			memset(since, 0, KINDS);
			forgot = small.forgot;
		}
		dropped += r == 0 && !given[k];
		wrong += (r == 0) != (since[k] == 1);
		repeats += r == 0;
		given[k] = since[k] = 1;
		most = small.count > most ? small.count : most;
	}
	CHECK_EQ(most, SMALL, "a small bound holds through repeats and merges");
	CHECK_EQ(dropped, 0, "no digest is ever taken as logged before it was given");
	CHECK_EQ(wrong, 0, "a digest is known exactly while it was given since the last forget");
	CHECK(repeats > 0 && small.forgot > 0, "(repeats were recognised, and the set forgot)",
	      "repeats %u, forgot %llu", repeats, (unsigned long long)small.forgot);
	free(given);
	free(since);
	digestset_free(&small);
	digestset_free(&batch);
}

TEST_MAIN(CASE(grow), CASE(bound), CASE(small))
