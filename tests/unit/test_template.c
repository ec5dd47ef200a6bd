// SPDX-License-Identifier: GPL-2.0-only
/*
 * IMA entry encoding, decoding, ASCII rendering and PCR replay, against
 * known-answer vectors, and one test per kind of malformed input.
 *
 * Provenance of the vectors marked "hand-built": the bytes were assembled by
 * hand from the layout in the kernel's ima_template_lib.c and ima_fs.c and
 * hashed with Python's hashlib, independently of bima's code:
 *   d = b"sha256:\0" + sha256(b"abc"); n = b"/usr/bin/abc\0"
 *   data = le32(len(d)) + d + le32(len(n)) + n
 * The vector marked "kernel" is an entry that the guest kernel's own IMA
 * wrote: Debian linux-image-6.12.117+deb12-amd64 booted by tools/vmtest with
 * "ima_template=ima-ng", policy "measure func=BPRM_CHECK", after running
 * /usr/bin/true in the guest's chroot at /mnt/root. The bytes were read from
 * binary_runtime_measurements, the line from ascii_runtime_measurements.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "replay.h"
#include "template.h"

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++)
		sscanf(hex + 2 * i, "%2hhx", &out[i]);
	return n;
}

static const char abc_data_hex[] =
	"280000007368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
	"ad0d0000002f7573722f62696e2f61626300";
static const char abc_entry_hex[] =
	"0a000000a5baf1dee0f70950e48c5628b94c52d2cdcf3dc506000000696d612d6e673d000000280000007368"
	"613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0d000000"
	"2f7573722f62696e2f61626300";

static const char kernel_entry_hex[] =
	"0a000000876db44038e4d862b3a90af2dbe6218bea2b46d806000000696d612d6e6747000000280000007368"
	"613235363a00c79bf44242829108e323378531f4ac839513ca1fba45efd6583643526e1e9fd21700000"
	"02f6d6e742f726f6f742f7573722f62696e2f7472756500";
static const char kernel_line[] =
	"10 876db44038e4d862b3a90af2dbe6218bea2b46d8 ima-ng "
	"sha256:c79bf44242829108e323378531f4ac839513ca1fba45efd6583643526e1e9fd2 "
	"/mnt/root/usr/bin/true\n";

static const struct hashalg *alg(const char *name)
{
	return hashalg_by_name(name, strlen(name));
}

static void test_encode_ng(void)
{
	uint8_t want[256], digest[32];
	struct buf data = {}, entry = {};
	size_t n;

	unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", digest);
	CHECK_EQ(template_data_ng(&data, alg("sha256"), digest, "/usr/bin/abc", NULL, 0), 0,
		 "encode: ima-ng template data");
	n = unhex(abc_data_hex, want);
	CHECK_EQ(data.len, n, "encode: template data length (hand-built)");
	CHECK_MEM(data.p, want, n, "encode: template data bytes (hand-built)");

	CHECK_EQ(template_encode(&entry, 10, "ima-ng", data.p, data.len, false), 0,
		 "encode: whole entry");
	n = unhex(abc_entry_hex, want);
	CHECK_EQ(entry.len, n, "encode: entry length (hand-built)");
	CHECK_MEM(entry.p, want, n, "encode: entry bytes with sha1 template hash (hand-built)");
	buf_free(&data);
	buf_free(&entry);
}

static void test_kernel_vector(void)
{
	uint8_t want[256], digest[32];
	struct buf data = {}, entry = {};
	struct template_entry e;
	char why[TEMPLATE_WHY_LEN], *text = NULL;
	size_t n = unhex(kernel_entry_hex, want), used, text_len;
	FILE *mem;

	unhex("c79bf44242829108e323378531f4ac839513ca1fba45efd6583643526e1e9fd2", digest);
	template_data_ng(&data, alg("sha256"), digest, "/mnt/root/usr/bin/true", NULL, 0);
	template_encode(&entry, 10, "ima-ng", data.p, data.len, false);
	CHECK_EQ(entry.len, n, "kernel vector: entry length equals the kernel's");
	CHECK_MEM(entry.p, want, n,
		  "kernel vector: entry bytes and sha1 template hash equal the kernel's");

	CHECK_EQ(template_decode(want, n, &e, &used, why), 0, "kernel vector: decodes");
	mem = open_memstream(&text, &text_len);
	template_print_ascii(mem, &e, why);
	fclose(mem);
	CHECK_STR(text, kernel_line, "kernel vector: ASCII line equals the kernel's");
	free(text);
	buf_free(&data);
	buf_free(&entry);
}

static void test_decode_and_ascii(void)
{
	uint8_t raw[256];
	size_t n = unhex(abc_entry_hex, raw), used = 0;
	struct template_entry e;
	struct template_fields f;
	char why[TEMPLATE_WHY_LEN], *text = NULL;
	size_t text_len = 0;
	FILE *mem;

	CHECK_EQ(template_decode(raw, n, &e, &used, why), 0, "decode: valid entry");
	CHECK_EQ(used, n, "decode: consumes the whole entry");
	CHECK_EQ(e.pcr, 10, "decode: pcr");
	CHECK_STR(e.name, "ima-ng", "decode: template name");
	CHECK_EQ(template_fields(&e, &f, why), 0, "decode: fields");
	CHECK_STR(f.alg->name, "sha256", "decode: d-ng algorithm");
	CHECK_STR(f.path, "/usr/bin/abc", "decode: n-ng path");
	CHECK(!template_is_violation(&e), "decode: not a violation", "zero template hash");

	mem = open_memstream(&text, &text_len);
	template_print_ascii(mem, &e, why);
	fclose(mem);
	CHECK_STR(text,
		  "10 a5baf1dee0f70950e48c5628b94c52d2cdcf3dc5 ima-ng "
		  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
		  "/usr/bin/abc\n",
		  "ascii: ima-ng line as the kernel prints it, PCR unpadded");
	free(text);
}

static void test_ascii_trailing_space(void)
{
	uint8_t digest[32] = {};
	struct buf data = {}, entry = {};
	struct template_entry e;
	char why[TEMPLATE_WHY_LEN], *text = NULL;
	size_t used, text_len;
	FILE *mem;

	/* ima-sig with an empty signature: the kernel keeps the separator. */
	template_data_ng(&data, alg("sha256"), digest, "/x", (const uint8_t *)"", 0);
	template_encode(&entry, 10, "ima-sig", data.p, data.len, false);
	template_decode(entry.p, entry.len, &e, &used, why);
	mem = open_memstream(&text, &text_len);
	CHECK_EQ(template_print_ascii(mem, &e, why), 0, "ascii: ima-sig renders");
	fclose(mem);
	CHECK(text_len > 2 && !strcmp(text + text_len - 4, "/x \n"),
	      "ascii: empty last field keeps its trailing space", "got \"%s\"", text);
	free(text);
	buf_free(&data);
	buf_free(&entry);
}

static void test_replay(void)
{
	const struct hashalg *banks[] = { alg("sha1"), alg("sha256") };
	uint8_t raw[256], want[32];
	size_t n = unhex(abc_entry_hex, raw), used;
	struct template_entry e, v;
	struct replay r;
	char why[TEMPLATE_WHY_LEN];

	replay_init(&r, banks, 2);
	template_decode(raw, n, &e, &used, why);
	CHECK_EQ(replay_entry(&r, &e), 0, "replay: extend one entry");
	unhex("13577235c6dee92522c0389db85166ff2c988499d750c10f79285da0b0422eea", want);
	CHECK_MEM(r.pcr[10][1], want, 32,
		  "replay: sha256 bank = sha256(0 || sha256(data)) (hand-built)");

	v = e;
	memset(v.digest, 0, sizeof(v.digest)); /* a violation */
	CHECK(template_is_violation(&v), "replay: zero template hash is a violation", "no");
	CHECK_EQ(replay_entry(&r, &v), 0, "replay: extend a violation");
	unhex("2dc89cd128275cae7f8da3884314b074359655a72539e572949fa70c4474ce68", want);
	CHECK_MEM(r.pcr[10][1], want, 32,
		  "replay: violation extends sha256 with 0xff (hand-built)");
	unhex("b9c6bf3fe6c4a98a5ce91da1d4831604db5e062b", want);
	CHECK_MEM(r.pcr[10][0], want, 20, "replay: violation extends sha1 with 0xff (hand-built)");
	CHECK_EQ(r.used, 1u << 10, "replay: only PCR 10 touched");

	v.pcr = 24;
	CHECK_EQ(replay_entry(&r, &v), -ERANGE, "replay: PCR 24 is refused");
}

/* Decode raw and expect error want with why containing needle. */
static void expect_err(int want, const uint8_t *raw, size_t len, const char *needle,
		       const char *name)
{
	struct template_entry e;
	struct template_fields f;
	char why[TEMPLATE_WHY_LEN] = "";
	size_t used;
	int err = template_decode(raw, len, &e, &used, why);

	if (!err)
		err = template_fields(&e, &f, why);
	CHECK(err == want && strstr(why, needle), name, "err %d, reason \"%s\", want %d \"%s\"",
	      err, why, want, needle);
}

#define expect_bad(...) expect_err(-EBADMSG, __VA_ARGS__)
#define expect_torn(...) expect_err(-EPIPE, __VA_ARGS__)

static void test_bad_inputs(void)
{
	uint8_t raw[256], bad[256];
	size_t n = unhex(abc_entry_hex, raw);

	expect_torn(raw, 10, "truncated entry header", "bad input: truncated header is torn");
	expect_torn(raw, n - 1, "truncated template data", "bad input: truncated data is torn");
	expect_torn(raw, 30, "truncated template name", "bad input: truncated name is torn");

	memcpy(bad, raw, n);
	bad[24] = 16; /* name length 16 > 15 */
	expect_bad(bad, n, "template name length 16", "bad input: oversized name length");

	memcpy(bad, raw, n);
	bad[34] = 0xff, bad[35] = 0xff, bad[36] = 0xff, bad[37] = 0x7f; /* data_len */
	expect_bad(bad, n, "template data length 2147483647 exceeds",
		   "bad input: oversized data length");

	memcpy(bad, raw, n);
	memcpy(bad + 28, "ima-xx", 6);
	expect_bad(bad, n, "unknown template \"ima-xx\"", "bad input: unknown template");

	memcpy(bad, raw, n);
	bad[38] = 0x29; /* d-ng length one more than its bytes */
	expect_bad(bad, n, "field 2", "bad input: field length past the data");

	memcpy(bad, raw, n);
	bad[n - 1] = 'x'; /* n-ng without its NUL */
	expect_bad(bad, n, "n-ng field", "bad input: name without NUL");

	memcpy(bad, raw, n);
	memcpy(bad + 42, "sha512", 6); /* a sha256-sized digest labelled sha512 */
	expect_bad(bad, n, "sha512 digest of 32 bytes, expected 64",
		   "bad input: digest size vs algorithm");

	memcpy(bad, raw, n);
	memcpy(bad + 42, "whirl6", 6);
	expect_bad(bad, n, "unknown hash algorithm", "bad input: unknown hash algorithm");
}

/* The n-ng name as the kernel stores it, and what bima escapes besides. */
static void check_name(const char *path, const char *want, const char *what)
{
	struct buf b = {};

	template_name(&b, path);
	CHECK(b.len == strlen(want) + 1 && !memcmp(b.p, want, b.len), what, "\"%.*s\"", (int)b.len,
	      (const char *)b.p);
	buf_free(&b);
}

static void test_names(void)
{
	static char longpath[4001];

	check_name("/usr/bin/abc", "/usr/bin/abc", "name: a plain path as it is");
	check_name("/tmp/a b", "/tmp/a_b", "name: a space becomes '_', as the kernel stores it");
	check_name("/tmp/a\nb", "/tmp/a\\012b", "name: a newline becomes \\012");
	check_name("/tmp/\t\x7f", "/tmp/\\011\\177", "name: a tab and DEL are escaped");
	check_name("/tmp/\xff\xfe", "/tmp/\\377\\376",
		   "name: bytes that are not UTF-8 are escaped");
	check_name("/tmp/\xc0\xaf", "/tmp/\\300\\257",
		   "name: an overlong UTF-8 sequence is escaped");
	check_name("/tmp/\xed\xa0\x80", "/tmp/\\355\\240\\200",
		   "name: a UTF-16 surrogate is escaped");
	check_name("/tmp/\xe2\x82", "/tmp/\\342\\202", "name: a cut UTF-8 sequence is escaped");
	check_name("/tmp/caf\xc3\xa9 \xf0\x9f\x94\x92", "/tmp/caf\xc3\xa9_\xf0\x9f\x94\x92",
		   "name: valid UTF-8 stays as it is");
	check_name("/tmp/a\\b", "/tmp/a\\b", "name: a backslash stays as it is");
	memset(longpath, 'x', sizeof(longpath) - 1);
	longpath[0] = '/';
	check_name(longpath, longpath, "name: 4000 bytes are kept whole");
}

/* bima's records are read only where the PCR covers them: never from a violation. */
static void test_records(void)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	static const char text[] = "load=1-2 seq=0-9";
	uint8_t digest[32] = {};
	struct buf entry = {}, data = {};
	struct template_entry e;
	struct template_fields f;
	char why[TEMPLATE_WHY_LEN];
	size_t used;

	template_encode_buf(&entry, 10, "bima_seq", text, sizeof(text) - 1);
	template_decode(entry.p, entry.len, &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "record: a bima_seq entry has fields");
	CHECK(f.covered, "record: its data is covered by the PCR", "");
	CHECK(template_record(&e, &f, "bima_seq"), "record: it is the bima_seq record", "");
	CHECK(!template_record(&e, &f, "bima_lost_events"), "record: and no other", "");

	/* The same data as a violation: zero template hash, extended as all 0xff. */
	hashalg_digest(sha256, text, sizeof(text) - 1, digest);
	template_data_ng(&data, sha256, digest, "bima_seq", (const uint8_t *)text,
			 sizeof(text) - 1);
	entry.len = 0;
	template_encode(&entry, 10, "ima-buf", data.p, data.len, true);
	template_decode(entry.p, entry.len, &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "record: a violation-shaped bima_seq has fields");
	CHECK(!f.covered, "record: its data is not covered by the PCR", "");
	CHECK(!template_record(&e, &f, "bima_seq"), "record: so it is no bima_seq record", "");

	/* An ima-ng entry named like a record has no buffer: no record either. */
	data.len = entry.len = 0;
	template_data_ng(&data, sha256, digest, "bima_seq", NULL, 0);
	template_encode(&entry, 10, "ima-ng", data.p, data.len, false);
	template_decode(entry.p, entry.len, &e, &used, why);
	template_fields(&e, &f, why);
	CHECK(f.covered && !template_record(&e, &f, "bima_seq"),
	      "record: a file's entry named bima_seq is no record", "");
	buf_free(&entry);
	buf_free(&data);
}

int main(void)
{
	test_names();
	test_encode_ng();
	test_kernel_vector();
	test_decode_and_ascii();
	test_ascii_trailing_space();
	test_replay();
	test_bad_inputs();
	test_records();
	return CHECK_DONE();
}
