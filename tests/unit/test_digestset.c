// SPDX-License-Identifier: GPL-2.0-only
/*
 * Template-digest sets, which keep the daemon from logging an entry twice:
 * membership across growth, the all-zero digest, merging a batch into the
 * epoch's set, and clearing.
 */
#include "check.h"
#include "digestset.h"
#include "hashalg.h"

/* A distinct digest per n, as real ones are: SHA-1 of n. */
static void digest_of(unsigned int n, uint8_t d[TEMPLATE_DIGEST_SIZE])
{
	hashalg_digest(hashalg_by_name("sha1", 4), &n, sizeof(n), d);
}

int main(void)
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
	return CHECK_DONE();
}
