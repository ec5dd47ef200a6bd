// SPDX-License-Identifier: GPL-2.0-only
/*
 * The snapshot_aggregate buffer: what the daemon writes reads back the
 * same, and text that is not one is refused.
 */
#include "check.h"
#include "snapshot.h"

/* A snapshot with a value in every field, in the sha1 and sha256 banks. */
static void make_snapshot(struct snapshot *s)
{
	*s = (struct snapshot){ .id = 7,
				.prev = 6,
				.reset = 4,
				.restart = 1,
				.entries = 1234,
				.seq = 99,
				.segment = 3,
				.pcr = 10 };
	s->nbanks = 2;
	s->banks[0] = hashalg_by_name("sha1", 4);
	s->banks[1] = hashalg_by_name("sha256", 6);
	for (int i = 0; i < 64; i++) {
		s->pcr_value[0][i] = i;
		s->pcr_value[1][i] = 255 - i;
	}
	memset(s->segment_sha256, 0xab, sizeof(s->segment_sha256));
	memset(s->segment_xor, 0xcd, sizeof(s->segment_xor));
}

/* What the daemon writes reads back the same; a PCR past 23 is refused. */
static void test_text(void)
{
	struct snapshot s, r;
	struct buf text = {};
	char head[128];

	make_snapshot(&s);
	CHECK_EQ(snapshot_format(&s, &text), 0, "a snapshot formats");
	snprintf(head, sizeof(head), "%.*s", 70, (const char *)text.p);
	CHECK_STR(head, "id=7 prev=6 epoch=4-1 entries=1234 seq=99 segment=3 segment_sha256=aba",
		  "the text starts with its numbers");
	CHECK_EQ(snapshot_parse((const char *)text.p, text.len, &r), 0, "and parses back");
	s.pcr = 2147483658u;
	text.len = 0;
	snapshot_format(&s, &text);
	CHECK_EQ(snapshot_parse((const char *)text.p, text.len, &r), -ERANGE,
		 "a snapshot naming PCR 2147483658 is refused: a TPM has PCRs 0 to 23");
	CHECK_EQ(r.pcr, 2147483658u, "and the PCR it names is told");
	s.pcr = 24;
	text.len = 0;
	snapshot_format(&s, &text);
	CHECK_EQ(snapshot_parse((const char *)text.p, text.len, &r), -ERANGE, "so is PCR 24");
	s.pcr = 10;
	text.len = 0;
	snapshot_format(&s, &text);
	CHECK_EQ(snapshot_parse((const char *)text.p, text.len, &r), 0, "and PCR 10 is not");
	CHECK(r.id == 7 && r.prev == 6 && r.reset == 4 && r.restart == 1 && r.entries == 1234 &&
		      r.seq == 99 && r.segment == 3 && r.pcr == 10 &&
		      !memcmp(r.segment_xor, s.segment_xor, sizeof(r.segment_xor)),
	      "with the same numbers", "id %llu prev %llu", (unsigned long long)r.id,
	      (unsigned long long)r.prev);
	CHECK(r.nbanks == 2 && r.banks[0] == s.banks[0] && r.banks[1] == s.banks[1] &&
		      !memcmp(r.pcr_value[0], s.pcr_value[0], 20) &&
		      !memcmp(r.pcr_value[1], s.pcr_value[1], 32) &&
		      !memcmp(r.segment_sha256, s.segment_sha256, 32),
	      "the same banks, PCR values and segment digest", "%zu banks", r.nbanks);

	buf_free(&text);
}

/* Text that is not a snapshot's. */
static void test_refuse(void)
{
	struct snapshot s, r;
	struct buf text = {};

	CHECK_EQ(snapshot_parse("load=1 seq=2", 12, &r), -EINVAL, "a bima_seq buffer is refused");
	CHECK_EQ(
		snapshot_parse("id=1 prev=0 entries=1 seq=1 segment=1 segment_sha256="
			       "abababababababababababababababababababababababababababababababab "
			       "pcr=10",
			       strlen("id=1 prev=0 entries=1 seq=1 segment=1 segment_sha256="
				      "abababababababababababababababababababababababababababababab"
				      "abab pcr=10"),
			       &r),
		-EINVAL, "a text without the epoch and the XOR is refused");

	make_snapshot(&s);
	snapshot_format(&s, &text);
	text.len -= 2; /* cut the last hex digits of the sha256 bank */
	CHECK_EQ(snapshot_parse((const char *)text.p, text.len, &r), -EINVAL,
		 "a PCR value of the wrong length is refused");
	CHECK_EQ(snapshot_parse("id=1 prev=0 entries=1 seq=1 segment=1 segment_sha256=ab pcr=10",
				61, &r),
		 -EINVAL, "a short segment digest is refused");
	CHECK_EQ(snapshot_parse(
			 "id=1 prev=0 entries=1 seq=1 segment=1 segment_sha256="
			 "abababababababababababababababababababababababababababababababab pcr=10 "
			 "md5=00",
			 strlen("id=1 prev=0 entries=1 seq=1 segment=1 segment_sha256="
				"abababababababababababababababababababababababababababababababab "
				"pcr=10 md5=00"),
			 &r),
		 -EINVAL, "an unknown bank is refused");
	buf_free(&text);
}

/* A segment's digests: the sha256 of its bytes, the XOR of its template hashes. */
static void test_segment(void)
{
	uint8_t sha256[32], hashes_xor[TEMPLATE_DIGEST_SIZE], want[TEMPLATE_DIGEST_SIZE];
	struct buf list = {}, data = {};
	struct snapshot s;

	make_snapshot(&s);
	for (int i = 0; i < 3; i++) {
		data.len = 0;
		template_data_ng(&data, hashalg_by_name("sha256", 6), s.pcr_value[1],
				 i == 0	  ? "/a"
				 : i == 1 ? "/b"
					  : "/c",
				 NULL, 0);
		template_encode(&list, 10, "ima-ng", data.p, data.len, false);
	}
	memset(want, 0, sizeof(want));
	for (size_t off = 0, used; off < list.len; off += used) {
		struct template_entry e;
		char why[TEMPLATE_WHY_LEN];

		template_decode(list.p + off, list.len - off, &e, &used, why);
		for (int i = 0; i < TEMPLATE_DIGEST_SIZE; i++)
			want[i] ^= e.digest[i];
	}
	CHECK_EQ(snapshot_segment_digests(list.p, list.len, sha256, hashes_xor), 0,
		 "a segment's digests are taken");
	hashalg_digest(hashalg_by_name("sha256", 6), list.p, list.len, s.segment_sha256);
	CHECK_MEM(sha256, s.segment_sha256, 32, "its sha256 is that of its bytes");
	CHECK_MEM(hashes_xor, want, sizeof(hashes_xor), "and the XOR that of its template hashes");
	CHECK_EQ(snapshot_segment_digests(list.p, list.len - 1, sha256, hashes_xor), -EBADMSG,
		 "a segment cut inside an entry is refused");
	buf_free(&list);
	buf_free(&data);
}

TEST_MAIN(CASE(text), CASE(refuse), CASE(segment))
