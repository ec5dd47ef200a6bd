// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded fuzz run of everything that reads untrusted bytes: the entry
 * decoder and renderer over mutated copies of the committed corpus
 * (tests/unit/corpus/list.bin: one entry of each kind bima writes or
 * reads, encoded by hand after the layout in user/template.h), the buffers
 * of bima's own entries (snapshot_aggregate, bima_seq),
 * and the policy compiler over mutated copies of the built-in policy. Built
 * with AddressSanitizer and UBSan (see the Makefile): a fault aborts the
 * run. The mutations come from a fixed seed, so a failure repeats.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "policy.h"
#include "seqset.h"
#include "snapshot.h"
#include "template.h"

#define CORPUS "tests/unit/corpus/list.bin"
#define ROUNDS 100000

static uint64_t rng = 0x62696d61; /* "bima" */

static uint32_t next(void)
{
	rng ^= rng << 13; /* xorshift64 */
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng >> 16;
}

/* Flip bits, overwrite a u32 with an extreme, cut, or repeat a range. */
static size_t mutate(uint8_t *p, size_t len, size_t cap)
{
	static const uint32_t extremes[] = { 0, 1, 0x7fffffff, 0xffffffff, 16, 20 };
	size_t at = len ? next() % len : 0, n, from;
	uint32_t v;

	switch (next() % 4) {
	case 0:
		for (int i = next() % 8 + 1; i > 0 && len; i--)
			p[next() % len] ^= 1u << (next() % 8);
		break;
	case 1:
		if (at + 4 <= len) {
			v = extremes[next() % (sizeof(extremes) / sizeof(extremes[0]))];
			memcpy(p + at, &v, 4);
		}
		break;
	case 2:
		len = at;
		break;
	default:
		n = next() % 64;
		from = len ? next() % len : 0;
		if (from + n <= len && len + n <= cap) {
			memmove(p + at + n, p + at, len - at);
			memmove(p + at, p + from + (from >= at ? n : 0), n);
			len += n;
		}
	}
	return len;
}

/* Read a list as bima log and verify do; returns how many entries decoded. */
static unsigned int walk(const uint8_t *p, size_t len, FILE *null)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_fields f;
	struct template_entry e;
	struct snapshot snap;
	struct seqset seqs = {};
	unsigned int n = 0;
	size_t used;

	while (len && !template_decode(p, len, &e, &used, why)) {
		if (used == 0 || used > len)
			abort(); /* the decoder must consume what it says, within the buffer */
		template_print_ascii(null, &e, why);
		if (!template_fields(&e, &f, why) && f.extra) {
			snapshot_parse((const char *)f.extra, f.extra_len, &snap);
			seqset_parse(&seqs, (const char *)f.extra, f.extra_len);
		}
		p += used;
		len -= used;
		n++;
	}
	seqset_free(&seqs);
	return n;
}

int main(void)
{
	static uint8_t corpus[4096], copy[8192];
	FILE *null = fopen("/dev/null", "w"), *f = fopen(CORPUS, "rb");
	size_t clen = f ? fread(corpus, 1, sizeof(corpus), f) : 0, len, plen;
	unsigned long decoded = 0, errors = 0;
	static char text[8192];
	struct policy p;

	if (f)
		fclose(f);
	CHECK(clen > 0 && null, "the corpus " CORPUS " is read", "%zu bytes", clen);
	CHECK_EQ(walk(corpus, clen, null), 12, "it decodes to its 12 entries");
	for (int i = 0; i < ROUNDS; i++) {
		memcpy(copy, corpus, clen);
		len = clen;
		for (int m = next() % 4 + 1; m > 0; m--)
			len = mutate(copy, len, sizeof(copy));
		decoded += walk(copy, len, null);
	}
	/* A mutation mostly spares the entries before it: most of them still decode. */
	CHECK(decoded > ROUNDS * 3ul, "100000 mutated lists decoded and rendered without a fault",
	      "only %lu entries decoded in all", decoded);

	plen = strlen(policy_default);
	for (int i = 0; i < ROUNDS / 4; i++) {
		memcpy(text, policy_default, plen);
		len = plen;
		for (int m = next() % 4 + 1; m > 0; m--)
			len = mutate((uint8_t *)text, len, sizeof(text) - 1);
		text[len] = '\0';
		errors += policy_compile(&p, text, "fuzz.policy", "/nonexistent", null) > 0;
		policy_free(&p);
	}
	CHECK(errors > 0, "25000 mutated policies compiled without a fault", "%lu with errors",
	      errors);
	fclose(null);
	return CHECK_DONE();
}
