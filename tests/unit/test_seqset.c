// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sequence-number sets: the text a bima_seq entry holds, written from the
 * numbers of a round in any order and read back by bima verify; merging
 * counts what is covered and what was added twice; malformed text is refused.
 */
#include "check.h"
#include "seqset.h"

static void format_all(struct seqset *s, char *out, size_t size, size_t max)
{
	struct buf b = {};
	size_t next = 0;

	seqset_format(s, &next, &b, max);
	snprintf(out, size, "%.*s|%zu", (int)b.len, (const char *)b.p, next);
	buf_free(&b);
}

/* A round's numbers, in any order, written as text. */
static void test_format(void)
{
	static const uint64_t round[] = { 7, 3, 4, 5, 12, 9, 8, 0 };
	struct seqset s = {};
	char text[128];

	for (size_t i = 0; i < sizeof(round) / sizeof(round[0]); i++)
		seqset_add(&s, round[i], round[i]);
	seqset_merge(&s);
	format_all(&s, text, sizeof(text), 1024);
	CHECK_STR(text, "0,3-5,7-9,12|4", "a round's numbers, out of order, become sorted ranges");
	CHECK_EQ(s.covered, 8, "eight numbers covered");
	CHECK_EQ(s.repeated, 0, "none twice");
	CHECK_EQ(seqset_max(&s), 12, "the highest is 12");

	format_all(&s, text, sizeof(text), 5);
	CHECK_STR(text, "0,3-5|2", "a text is cut between ranges at its size limit");
	seqset_free(&s);
}

/* Texts read back, and merged across entries. */
static void test_parse(void)
{
	struct seqset r = {};
	char text[128];

	CHECK_EQ(seqset_parse(&r, "0,3-5,7-9,12", 12), 0, "the text reads back");
	CHECK_EQ(seqset_parse(&r, "4-8,20", 6), 0, "a second entry, overlapping the first");
	seqset_merge(&r);
	format_all(&r, text, sizeof(text), 1024);
	CHECK_STR(text, "0,3-9,12,20|4", "ranges from several entries merge");
	CHECK_EQ(r.covered, 10, "ten numbers covered");
	CHECK_EQ(r.repeated, 4, "4, 5, 7 and 8 were added twice");
	CHECK_EQ(seqset_max(&r) + 1 - r.covered, 11, "eleven numbers up to 20 missing");
	seqset_free(&r);
}

/* Ranges that join, and the extremes. */
static void test_join(void)
{
	struct seqset r = {};
	char text[128];

	for (uint64_t n = 100; n < 110; n++)
		seqset_add(&r, n, n);
	CHECK_EQ(seqset_ranges(&r), 1, "numbers added in order are kept as one range, unmerged");
	seqset_add(&r, 105, 105);
	seqset_add(&r, 106, 111);
	seqset_merge(&r);
	format_all(&r, text, sizeof(text), 1024);
	CHECK_STR(text, "100-111|1", "and one added again joins it once merged");
	CHECK_EQ(r.repeated, 5, "105 to 109 were added twice: none is lost to the joining");
	seqset_free(&r);
	seqset_add(&r, UINT64_MAX, UINT64_MAX);
	seqset_add(&r, 0, 0);
	seqset_merge(&r);
	CHECK_EQ(r.covered, 2, "the highest number and 0 stay two numbers");
	seqset_free(&r);
}

/* Rounds logged before a bima_seq entry, and the batch of the round that writes it. */
static void test_cover(void)
{
	struct seqset s = {}, r = {};
	char text[128];

	seqset_add(&r, 0, 9);
	seqset_add(&r, 12, 12);
	seqset_add(&s, 10, 11);
	seqset_add(&s, 13, 20);
	{
		struct seqset cover = {};

		seqset_add(&cover, 500, 500); /* what an earlier entry was made of */
		CHECK_EQ(seqset_copy(&cover, &r), 0, "a copy of the numbers not yet covered");
		CHECK_EQ(seqset_add_set(&cover, &s), 0, "and the batch's added to it");
		seqset_merge(&cover);
		format_all(&cover, text, sizeof(text), 1024);
		CHECK_STR(text, "0-20|1", "make one range, the earlier copy's numbers gone");
		CHECK_EQ(cover.repeated, 0, "none of them twice");
		format_all(&r, text, sizeof(text), 1024);
		CHECK_STR(text, "0-9,12|2", "the numbers not yet covered are left as they were");
		seqset_free(&cover);
	}
	seqset_free(&s);
	seqset_free(&r);
}

/* Malformed text. */
static void test_refuse(void)
{
	struct seqset r = {};

	CHECK_EQ(seqset_parse(&r, "", 0), 0, "empty text adds nothing");
	CHECK_EQ(seqset_parse(&r, "1,", 2), -EINVAL, "a trailing comma is refused");
	CHECK_EQ(seqset_parse(&r, "5-", 2), -EINVAL, "a range without an end is refused");
	CHECK_EQ(seqset_parse(&r, "9-3", 3), -EINVAL, "a range that runs backwards is refused");
	CHECK_EQ(seqset_parse(&r, "a", 1), -EINVAL, "a letter is refused");
	CHECK_EQ(seqset_parse(&r, "1;2", 3), -EINVAL, "another separator is refused");
	seqset_free(&r);
}

TEST_MAIN(CASE(format), CASE(parse), CASE(join), CASE(cover), CASE(refuse))
