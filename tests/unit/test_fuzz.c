// SPDX-License-Identifier: GPL-2.0-only
/*
 * A bounded fuzz run of everything that reads untrusted bytes: the entry
 * decoder and renderer over mutated copies of the committed corpus
 * (tests/unit/corpus/list.bin: one entry of each kind bima writes or
 * reads, encoded by hand after the layout in user/core/template.h;
 * tests/unit/corpus/templates.bin: one entry of each other template the
 * kernel can boot with, the vectors of test_template.c), the buffers
 * of bima's own entries (snapshot_aggregate, bima_seq),
 * the policy compiler over mutated copies of the built-in policy, and what
 * `bima verify` reads of a bundle a stranger hands it: the quote (the
 * TPMS_ATTEST reader and the signature's DER, as ak_parse_quote() and
 * ak_read_quote() read them, over mutated, padded, cut, oversized and
 * random files) and the segments through the log cursor, plain and
 * compressed, which must read alike. Built with AddressSanitizer and UBSan
 * (see the Makefile): a fault aborts the run. The mutations come from a
 * fixed seed, which each case starts from, so a failure repeats when its
 * case runs alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <zlib.h>

#include "ak.h"
#include "check.h"
#include "log.h"
#include "policy.h"
#include "seqset.h"
#include "snapshot.h"
#include "template.h"
#include "tpm.h"

#define CORPUS "tests/unit/corpus/list.bin"
#define TEMPLATES "tests/unit/corpus/templates.bin"
#define TEMPLATES_ENTRIES 12
#define ROUNDS 100000

#define SEED 0x62696d61 /* "bima" */

static uint64_t rng = SEED;

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
	uint8_t digest[HASHALG_MAX_SIZE];
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
		template_bank_digest(&e, hashalg_by_name("sha256", 6), digest);
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

/* A TPMS_ATTEST of a quote of PCR 11 in sha256, marshaled as a TPM does (big-endian). */
static size_t make_attest(uint8_t *p)
{
	static const uint8_t head[] = { 0xff, 0x54, 0x43, 0x47, 0x80, 0x18, 0, 0, 0, 32 };
	size_t n = 0;

	memcpy(p, head, sizeof(head));
	n += sizeof(head);
	for (int i = 0; i < 32; i++)
		p[n++] = i;   /* the nonce */
	memset(p + n, 0, 25); /* clock, reset and restart counts, safe, firmware */
	p[n + 7] = 42;
	n += 25;
	static const uint8_t sel[] = { 0, 0, 0, 1, 0, 0x0b, 3, 0, 8, 0, 0, 32 };
	memcpy(p + n, sel, sizeof(sel));
	n += sizeof(sel);
	for (int i = 0; i < 32; i++)
		p[n++] = 0xa0 + i; /* the PCR digest */
	return n;
}

static void random_bytes(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = next();
}

/* Mutate a quote's two files the ways a hostile bundle would; returns the kind. */
static int hostile_quote(uint8_t *attest, size_t *alen, uint8_t *sig, size_t *slen, size_t cap)
{
	int kind = next() % 6;

	switch (kind) {
	case 0: /* the attest mutated */
		*alen = mutate(attest, *alen, cap);
		break;
	case 1: /* the signature mutated */
		*slen = mutate(sig, *slen, cap);
		break;
	case 2: /* valid DER, then padding: never accepted */
		for (size_t n = next() % (cap - *slen) + 1; n > 0; n--)
			sig[(*slen)++] = next();
		break;
	case 3: /* a huge DER length */
		sig[1] = 0x84;
		memset(sig + 2, 0xff, 4);
		break;
	case 4: /* random bytes of any size up to cap */
		*slen = next() % cap;
		random_bytes(sig, *slen);
		*alen = next() % cap;
		random_bytes(attest, *alen);
		break;
	default: /* cut */
		*alen = next() % (*alen + 1);
		*slen = next() % (*slen + 1);
	}
	return kind;
}

/* The quote reader, from bytes and from files; returns how many parsed and verified. */
static unsigned long fuzz_quotes(const char *dir)
{
	static uint8_t attest0[1024], attest[4096], sig0[AK_SIG_MAX], sig[4096];
	char why[AK_WHY_LEN], prefix[4200], path[4300];
	unsigned long good = 0, padded = 0;
	struct tpm_quote_info qi;
	EVP_PKEY *key = EVP_EC_gen("P-256");
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t alen0 = make_attest(attest0), slen0 = sizeof(sig0), alen, slen;
	struct tpm_quote q;
	uint8_t digest[32];
	FILE *f;
	int kind, err;

	CHECK(key && md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) > 0 &&
		      EVP_DigestSign(md, sig0, &slen0, attest0, alen0) > 0,
	      "a quote is signed with a fresh P-256 key", "OpenSSL failed");
	CHECK(!ak_parse_quote(attest0, alen0, sig0, slen0, "a", "s", &q, digest, why) &&
		      !ak_verify_key(key, &q) && !tpm_quote_info(q.attest, q.attest_len, &qi) &&
		      qi.pcr_mask == 1u << 11 && qi.clock == 42,
	      "the quote as made parses and verifies", "%s", why);
	snprintf(prefix, sizeof(prefix), "%s/quote", dir);
	for (int i = 0; i < ROUNDS / 4; i++) {
		memcpy(attest, attest0, alen0);
		memcpy(sig, sig0, slen0);
		alen = alen0;
		slen = slen0;
		kind = hostile_quote(attest, &alen, sig, &slen, sizeof(sig));
		tpm_quote_info(attest, alen, &qi);
		if (i % 16) {
			err = ak_parse_quote(attest, alen, sig, slen, "a", "s", &q, digest, why);
		} else { /* as the files of a bundle: sizes the buffers do not bound */
			snprintf(path, sizeof(path), "%s.attest", prefix);
			f = fopen(path, "w");
			fwrite(attest, 1, alen, f);
			fclose(f);
			snprintf(path, sizeof(path), "%s.sig", prefix);
			f = fopen(path, "w");
			fwrite(sig, 1, slen, f);
			fclose(f);
			err = ak_read_quote(prefix, &q, digest, why);
		}
		if (!err && (slen > AK_SIG_MAX || alen > (size_t)AK_ATTEST_MAX))
			abort(); /* a size past its bound accepted */
		padded += kind == 2 && err == -EBADMSG;
		if (kind == 2 && !err)
			abort(); /* bytes after the DER accepted */
		good += !err && !ak_verify_key(key, &q);
	}
	CHECK(padded > 0,
	      "25000 hostile quotes read without a fault, every padded signature refused",
	      "%lu padded", padded);
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return good;
}

/* Write a segment, compressed or not. */
static void write_segment(const char *epoch_dir, const uint8_t *p, size_t len, bool gz)
{
	char path[4200];
	gzFile z;
	FILE *f;

	snprintf(path, sizeof(path), "%s/segment-000001.bin%s", epoch_dir, gz ? ".gz" : "");
	if (gz) {
		z = gzopen(path, "wb1");
		for (size_t off = 0; off < len; off += 1 << 20)
			gzwrite(z, p + off, len - off < 1u << 20 ? len - off : 1u << 20);
		gzclose(z);
	} else {
		f = fopen(path, "w");
		fwrite(p, 1, len, f);
		fclose(f);
	}
}

/* What a cursor reads of a segment: a digest of each step, and how it ends. */
struct reading {
	uint8_t sum[32];
	unsigned long entries;
	int end;
	size_t offset;
};

static void read_segment(const char *epoch_dir, struct reading *r)
{
	struct log_cursor *c = NULL;
	struct template_entry e;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t seg[32];
	const uint8_t *raw;
	size_t len;

	memset(r, 0, sizeof(*r));
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	r->end = log_cursor__open(epoch_dir, 0, &c);
	while (!r->end && (r->end = log_cursor_next(c, &e)) == 1) {
		log_cursor_raw(c, &raw, &len);
		if (log_cursor_segment_sha256(c, seg))
			abort();
		EVP_DigestUpdate(md, raw, len);
		EVP_DigestUpdate(md, seg, sizeof(seg));
		r->entries++;
		r->end = 0;
	}
	r->offset = c ? log_cursor_offset(c) : 0;
	EVP_DigestFinal_ex(md, r->sum, NULL);
	EVP_MD_CTX_free(md);
	log_cursor__free(c);
}

/* A segment read plain and compressed: the same entries, digests and end. */
static bool same_reading(const char *plain, const char *gz, const uint8_t *p, size_t len, bool cut)
{
	struct reading a, b;

	write_segment(plain, p, len, false);
	write_segment(gz, p, len, true);
	if (cut) { /* a compressed file cut: an error, never a fault */
		char path[4200];

		snprintf(path, sizeof(path), "%s/segment-000001.bin.gz", gz);
		truncate(path, next() % (len / 2 + 1));
		read_segment(gz, &b);
		return b.end <= 0;
	}
	read_segment(plain, &a);
	read_segment(gz, &b);
	return a.entries == b.entries && a.end == b.end && a.offset == b.offset &&
	       !memcmp(a.sum, b.sum, sizeof(a.sum));
}

/* The segments of a bundle through the cursor; returns how many readings agreed. */
static unsigned int fuzz_segments(const char *dir, const uint8_t *corpus, size_t clen)
{
	static uint8_t copy[8192];
	char plain[4200], gz[4200];
	unsigned int agreed = 0, rounds = ROUNDS / 100;
	uint8_t *big;
	size_t len;

	snprintf(plain, sizeof(plain), "%s/epoch-1-0", dir);
	snprintf(gz, sizeof(gz), "%s/epoch-2-0", dir);
	mkdir(plain, 0700);
	mkdir(gz, 0700);
	for (unsigned int i = 0; i < rounds; i++) {
		memcpy(copy, corpus, clen);
		len = clen;
		for (int m = next() % 4 + 1; m > 0; m--)
			len = mutate(copy, len, sizeof(copy));
		agreed += same_reading(plain, gz, copy, len, i % 8 == 7);
	}
	CHECK_EQ(agreed, rounds, "1000 mutated segments read alike plain and compressed");
	/* Larger than the window: entries straddle its refills. */
	len = 0;
	big = malloc(5u << 20);
	while (big && len + clen <= 5u << 20) {
		memcpy(big + len, corpus, clen);
		len += clen;
	}
	CHECK(big && same_reading(plain, gz, big, len, false),
	      "a 5 MiB segment reads alike plain and compressed", "it does not");
	free(big);
	return agreed;
}

/* Up to cap bytes of the file at path; 0 if it cannot be read. */
static size_t read_corpus(const char *path, uint8_t *p, size_t cap)
{
	FILE *f = fopen(path, "rb");
	size_t len = f ? fread(p, 1, cap, f) : 0;

	if (f)
		fclose(f);
	return len;
}

/* Where renderings go. */
static FILE *devnull(void)
{
	static FILE *null;

	if (!null)
		null = fopen("/dev/null", "w");
	return null;
}

/* ROUNDS mutated copies of a list walked; returns how many entries decoded in all. */
static unsigned long fuzz_list(const uint8_t *list, size_t clen)
{
	static uint8_t copy[8192];
	unsigned long decoded = 0;
	size_t len;

	for (int i = 0; i < ROUNDS; i++) {
		memcpy(copy, list, clen);
		len = clen;
		for (int m = next() % 4 + 1; m > 0; m--)
			len = mutate(copy, len, sizeof(copy));
		decoded += walk(copy, len, devnull());
	}
	return decoded;
}

/* Remove a scratch directory and what it holds. */
static void scratch_remove(const char *dir)
{
	char rm[64];

	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm))
		perror(rm);
}

/* The entries bima writes or reads. */
static void test_list(void)
{
	static uint8_t corpus[4096];
	size_t clen = read_corpus(CORPUS, corpus, sizeof(corpus));
	unsigned long decoded;

	rng = SEED;
	CHECK(clen > 0 && devnull(), "the corpus " CORPUS " is read", "%zu bytes", clen);
	CHECK_EQ(walk(corpus, clen, devnull()), 12, "it decodes to its 12 entries");
	decoded = fuzz_list(corpus, clen);
	/* A mutation mostly spares the entries before it: most of them still decode. */
	CHECK(decoded > ROUNDS * 3ul, "100000 mutated lists decoded and rendered without a fault",
	      "only %lu entries decoded in all", decoded);
}

/* An entry of each other template the kernel can boot with. */
static void test_templates(void)
{
	static uint8_t templates[4096];
	size_t clen = read_corpus(TEMPLATES, templates, sizeof(templates));
	unsigned long decoded;

	rng = SEED;
	CHECK_EQ(walk(templates, clen, devnull()), TEMPLATES_ENTRIES,
		 "the corpus " TEMPLATES " decodes to its entries");
	decoded = fuzz_list(templates, clen);
	CHECK(decoded > ROUNDS * 3ul,
	      "100000 mutated lists of every IMA template decoded and rendered without a fault",
	      "only %lu entries decoded in all", decoded);
}

/* The policy compiler over mutated copies of the built-in policy. */
static void test_policy(void)
{
	static char text[8192];
	size_t plen = strlen(policy_default), len;
	unsigned long errors = 0;
	struct policy p;

	rng = SEED;
	for (int i = 0; i < ROUNDS / 4; i++) {
		memcpy(text, policy_default, plen);
		len = plen;
		for (int m = next() % 4 + 1; m > 0; m--)
			len = mutate((uint8_t *)text, len, sizeof(text) - 1);
		text[len] = '\0';
		errors += policy_compile(&p, text, "fuzz.policy", "/nonexistent", POLICY_STRICT,
					 devnull()) > 0;
		policy_free(&p);
	}
	CHECK(errors > 0, "25000 mutated policies compiled without a fault", "%lu with errors",
	      errors);
}

/* A bundle's quote, as bytes and as files. */
static void test_quotes(void)
{
	char dir[] = "/tmp/bima-fuzz-XXXXXX";

	rng = SEED;
	setenv("TSS2_LOG", "all+none", 1); /* the TSS's unmarshaling, which refuses loudly */
	if (!CHECK(mkdtemp(dir) != NULL, "a directory for the bundle", "%s", strerror(errno)))
		return;
	CHECK(fuzz_quotes(dir) > 0, "and some of them, left intact, still verify", "none did");
	scratch_remove(dir);
}

/* A bundle's segments, plain and compressed. */
static void test_segments(void)
{
	static uint8_t corpus[4096];
	size_t clen = read_corpus(CORPUS, corpus, sizeof(corpus));
	char dir[] = "/tmp/bima-fuzz-XXXXXX";

	rng = SEED;
	if (!mkdtemp(dir)) {
		perror(dir);
		exit(1);
	}
	fuzz_segments(dir, corpus, clen);
	scratch_remove(dir);
}

TEST_MAIN(CASE(list), CASE(templates), CASE(policy), CASE(quotes), CASE(segments))
