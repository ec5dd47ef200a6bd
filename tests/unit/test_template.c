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
 * The vectors of the other templates (other_templates[]) are hand-built the
 * same way, one per template the kernel can boot with, from the layout of
 * ima_fs.c (the legacy "ima" entry has no data length, d is 20 raw bytes and
 * n has no NUL; its hash is SHA-1 over d and n padded with NULs to 256
 * bytes) and the field renderings of ima_template_lib.c.
 */
#include <errno.h>
#include <stdarg.h>
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

static void test_encode(void)
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

static void test_kernel(void)
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

static void test_decode(void)
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

static void test_ascii(void)
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

/*
 * replay_digests_own and replay_entry_own, which hash the template data
 * once a bank, give the TPM and the replay what replay_digests and
 * replay_entry give: for an entry, a violation, and a padded bank, the
 * value of each bank the way it is extended.
 */
static void test_replay_own(void)
{
	const struct hashalg *banks[] = { alg("sha1"), alg("sha256"), alg("sha384") };
	struct tpm_digest d[TPM_BANKS_MAX], d_once[TPM_BANKS_MAX], own[TPM_BANKS_MAX];
	uint8_t raw[256];
	size_t n = unhex(abc_entry_hex, raw), used;
	struct template_entry e, v;
	struct replay r, once;
	char why[TEMPLATE_WHY_LEN];
	bool same = true;

	replay_init(&r, banks, 3);
	replay_init(&once, banks, 3);
	r.padded[2] = once.padded[2] = true; /* sha384 takes the padded SHA-1 hash */
	template_decode(raw, n, &e, &used, why);
	v = e;
	memset(v.digest, 0, sizeof(v.digest)); /* a violation */
	for (int i = 0; i < 3; i++) {
		const struct template_entry *x = i == 1 ? &v : &e;

		CHECK_EQ(replay_digests(&r, x, d), 0, "replay own: digests");
		CHECK_EQ(replay_digests_own(&once, x, d_once, own), 0, "replay own: digests once");
		for (size_t b = 0; b < 3; b++)
			CHECK_MEM(d_once[b].value, d[b].value, banks[b]->size,
				  "replay own: the TPM's digest of each bank");
		CHECK_EQ(replay_entry(&r, x), 0, "replay own: extend");
		CHECK_EQ(replay_entry_own(&once, x, own), 0, "replay own: extend once");
	}
	for (uint32_t pcr = 0; pcr < TPM_PCR_COUNT; pcr++)
		for (size_t b = 0; b < 3; b++)
			same &= !memcmp(replay_value(&once, pcr, b), replay_value(&r, pcr, b),
					banks[b]->size);
	CHECK(same, "replay own: each bank's value, the way it is extended, every PCR", "differs");
	CHECK_MEM(once.pcr[10][1], r.pcr[10][1], 32, "replay own: sha256, its own way");
	CHECK_MEM(once.pcr_padded[10][2], r.pcr_padded[10][2], 48, "replay own: sha384, padded");
	CHECK_EQ(once.used, r.used, "replay own: the PCRs used");
	v.pcr = 24;
	CHECK_EQ(replay_entry_own(&once, &v, own), -ERANGE, "replay own: PCR 24 is refused");
}

/* Extend x into w as a writer does, and into the TPM's value tpm in the way that bank takes. */
static void writer_extend(struct replay *w, const struct template_entry *x, struct replay *tpm)
{
	struct tpm_digest d[TPM_BANKS_MAX], own[TPM_BANKS_MAX];

	CHECK_EQ(replay_digests_own(w, x, d, own), 0, "own way: digests");
	CHECK_EQ(replay_entry_own(w, x, own), 0, "own way: the writer's replay");
	CHECK_EQ(replay_entry(tpm, x), 0, "own way: the TPM's extend");
}

/*
 * Once the TPM took a bank's own digest of an entry where the padded one
 * differs, the writer's replay no longer replays nor accepts the padded way
 * there (own_way): the TPM can no longer hold the padded chain, and a value
 * that equals it is a disagreement. Before it (a SHA-1 bank, a violation,
 * a chain the kernel began padded), the padded way is still accepted.
 */
static void test_replay_own_way(void)
{
	const struct hashalg *banks[] = { alg("sha1"), alg("sha256"), alg("sha384") };
	uint8_t raw[256], padded[TPM_BANKS_MAX][HASHALG_MAX_SIZE], before_tpm[48];
	size_t n = unhex(abc_entry_hex, raw), used;
	struct template_entry e, v;
	struct replay_point before, after;
	struct replay w, ref;
	char why[TEMPLATE_WHY_LEN];

	template_decode(raw, n, &e, &used, why);
	v = e;
	memset(v.digest, 0, sizeof(v.digest)); /* a violation */
	replay_init(&w, banks, 3);
	replay_init(&ref, banks, 3);
	/* The kernel's entry, both ways (boot_aggregate, say), then a violation the writer's. */
	CHECK_EQ(replay_entry(&w, &e), 0, "own way: a kernel's entry, both ways");
	CHECK_EQ(replay_entry(&ref, &e), 0, "own way: the reference too");
	writer_extend(&w, &v, &ref);
	replay_save(&w, 10, &before);
	memcpy(before_tpm, ref.pcr_padded[10][2], 48);
	CHECK_EQ(w.own_way[1] | w.own_way[2], 0, "own way: not settled by a violation");
	CHECK(replay_matches(&w, 10, 2, ref.pcr_padded[10][2]),
	      "own way: a padded chain still matches after a violation", "refused");
	CHECK(memcmp(ref.pcr_padded[10][2], ref.pcr[10][2], 48),
	      "own way: the two ways differ there", "equal");

	writer_extend(&w, &e, &ref);
	CHECK_EQ(w.own_way[0], 0, "own way: a SHA-1 bank's ways are one");
	CHECK_EQ(w.own_way[1], 1u << 10, "own way: sha256 settled own in PCR 10");
	CHECK_EQ(w.own_way[2], 1u << 10, "own way: sha384 settled own in PCR 10");
	memcpy(padded, ref.pcr_padded[10], sizeof(padded));
	for (size_t b = 0; b < 3; b++) {
		CHECK_MEM(w.pcr[10][b], ref.pcr[10][b], banks[b]->size,
			  "own way: the bank's own way as a full replay has it");
		CHECK(replay_matches(&w, 10, b, ref.pcr[10][b]), "own way: the TPM's value matches",
		      "refused");
	}
	CHECK(!replay_matches(&w, 10, 1, padded[1]),
	      "own way: sha256 refuses the padded chain it no longer replays", "accepted");
	CHECK(!replay_matches(&w, 10, 2, padded[2]),
	      "own way: sha384 refuses the padded chain it no longer replays", "accepted");
	CHECK(!replay_settle(&w, 10, 2, padded[2]) && !w.padded[2],
	      "own way: and is not settled padded by it", "settled");
	CHECK(replay_matches(&w, 10, 0, padded[0]), "own way: sha1's padded way is its own",
	      "refused");

	/* A replay_entry after it (a rejoin's lost extend) keeps to the own way. */
	CHECK_EQ(replay_entry(&w, &e), 0, "own way: replay_entry after it");
	CHECK_EQ(replay_entry(&ref, &e), 0, "own way: the reference too");
	CHECK_MEM(w.pcr[10][2], ref.pcr[10][2], 48, "own way: replay_entry's own way");
	CHECK_MEM(w.pcr_padded[10][2], padded[2], 48, "own way: and no padded way replayed");
	/* A point goes back with the way settled there: a stale padded value stays refused. */
	replay_save(&w, 10, &after);
	replay_restore(&w, 10, &before);
	CHECK_EQ(w.own_way[1] | w.own_way[2], 0, "own way: a point before it, both ways");
	CHECK(replay_matches(&w, 10, 2, before_tpm), "own way: its padded chain matches",
	      "refused");
	replay_restore(&w, 10, &after);
	CHECK_EQ(w.own_way[2], 1u << 10, "own way: a point after it, settled");
	CHECK(!replay_matches(&w, 10, 2, w.pcr_padded[10][2]),
	      "own way: its stale padded value is refused", "accepted");
	CHECK(replay_matches(&w, 10, 2, ref.pcr[10][2]), "own way: its own value matches",
	      "refused");
	/* An anchor starts both ways again. */
	replay_set(&w, 10, banks[2], ref.pcr[10][2]);
	CHECK_EQ(w.own_way[2], 0, "own way: cleared by an anchor's values");
	CHECK_EQ(w.own_way[1], 1u << 10, "own way: in that bank only");
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

/* entry, its ASCII line, its sha256 bank digest: hand-built */
static const struct {
	const char *what, *entry_hex, *line, *sha256;
} other_templates[] = {
	{ "ima",
	  "0a000000fc785d00d7a78babaa64604ec39b1a690980c75003000000696d61a9993e364706816aba3e257178"
	  "50c26c9cd0d89d0c0000002f7573722f62696e2f616263",
	  "10 fc785d00d7a78babaa64604ec39b1a690980c750 ima "
	  "a9993e364706816aba3e25717850c26c9cd0d89d /usr/bin/abc\n",
	  "8e954682cac64b688bd3b6f1416aea2c85739862500f677ea2b168c0124d18ea" },
	{ "ima violation",
	  "0a000000000000000000000000000000000000000000000003000000696d6100000000000000000000000000"
	  "00000000000000060000002f746d702f76",
	  "10 0000000000000000000000000000000000000000 ima "
	  "0000000000000000000000000000000000000000 /tmp/v\n",
	  "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff" },
	{ "ima-ngv2",
	  "0a0000006f01c1f3bcf7a4a2a8ed22cb1dd6f88e181aded508000000696d612d6e677632410000002c000000"
	  "696d613a7368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	  "0d0000002f7573722f62696e2f61626300",
	  "10 6f01c1f3bcf7a4a2a8ed22cb1dd6f88e181aded5 ima-ngv2 "
	  "ima:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
	  "/usr/bin/abc\n",
	  "727eb941ca49912514c56c2c1e30ca5a9c5de6bdef9d07c99eeedb41b120cdf3" },
	{ "ima-ngv2 verity",
	  "0a000000574167ed202e72358cd2093bf633132cb078f8b708000000696d612d6e677632440000002f000000"
	  "7665726974793a7368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f2"
	  "0015ad0d0000002f7573722f62696e2f61626300",
	  "10 574167ed202e72358cd2093bf633132cb078f8b7 ima-ngv2 "
	  "verity:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
	  "/usr/bin/abc\n",
	  "0831e6671361d4b9b6d0686a0c2ce60ff1916e60a7a3660ee2dc5c645c0c71c4" },
	{ "ima-sigv2",
	  "0a000000c5663add60d3c1bbff11a8197a4cb78f06aee87d09000000696d612d7369677632500000002c0000"
	  "00696d613a7368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
	  "ad0d0000002f7573722f62696e2f616263000b000000030204aabbccdd00040102",
	  "10 c5663add60d3c1bbff11a8197a4cb78f06aee87d ima-sigv2 "
	  "ima:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
	  "/usr/bin/abc 030204aabbccdd00040102\n",
	  "79dc8fcd43ad2729ff650e5ad4d444a36c590229c7315ec9cc1aa1709ca62902" },
	{ "ima-sigv2 unsigned",
	  "0a000000c95381ced97fe1b1bc024f8bcdb8c530a034b3bf09000000696d612d7369677632450000002c0000"
	  "00696d613a7368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
	  "ad0d0000002f7573722f62696e2f6162630000000000",
	  "10 c95381ced97fe1b1bc024f8bcdb8c530a034b3bf ima-sigv2 "
	  "ima:sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad "
	  "/usr/bin/abc \n",
	  "6b0dd8384d8ba3df04f436c4fe0a77d80036d87eaa6058448d67720a1ab947af" },
	{ "ima-modsig",
	  "0a0000000d54b85c41a92e8b6b9734de539d5c0bcc97fe5a0a000000696d612d6d6f647369679b0000002800"
	  "00007368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0d00"
	  "00002f7573722f62696e2f6162630000000000480000007368613531323a00ddaf35a193617abacc417349ae"
	  "20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a"
	  "9ac94fa54ca49f0a000000308201026d6f64736967",
	  "10 0d54b85c41a92e8b6b9734de539d5c0bcc97fe5a ima-modsig "
	  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad /usr/bin/abc  "
	  "sha512:"
	  "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23"
	  "a3feebbd454d4423643ce80e2a9ac94fa54ca49f 308201026d6f64736967\n",
	  "ed429e15897c5c8153471984568f87af564d4a8f413476c8fa48eb3933556752" },
	{ "ima-modsig without modsig",
	  "0a000000edcfd0a9e18cf56d0a86381c0cc4a6db48d6f2160a000000696d612d6d6f64736967490000002800"
	  "00007368613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0d00"
	  "00002f7573722f62696e2f61626300000000000000000000000000",
	  "10 edcfd0a9e18cf56d0a86381c0cc4a6db48d6f216 ima-modsig "
	  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad /usr/bin/abc   "
	  "\n",
	  "a103a83f09dfe5357cb99132dad34962646086b011ee81eaad5b2fe74a84a6be" },
	{ "evm-sig",
	  "0a000000db37437a0f1b9feb098ede7f4fd5ae2a56692b1e0700000065766d2d736967910000002800000073"
	  "68613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0d0000002f"
	  "7573722f62696e2f6162630004000000057369671a00000073656375726974792e696d617c73656375726974"
	  "792e65766d00080000000300000005000000080000000401020561626364040000000000000004000000e803"
	  "000002000000ed81",
	  "10 db37437a0f1b9feb098ede7f4fd5ae2a56692b1e evm-sig "
	  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad /usr/bin/abc "
	  "05736967 security.ima|security.evm 0300000005000000 0401020561626364 0 1000 33261\n",
	  "3959a9f04579e31e84775375e9600471244e48647a027729296ab23ffddbb27d" },
	{ "evm-sig boot_aggregate",
	  "0a000000871dfad051ab2521046f53d76895c52cc7d205810700000065766d2d7369675b0000002800000073"
	  "68613235363a00ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0f00000062"
	  "6f6f745f6167677265676174650000000000000000000000000000000000000000000000000000000000",
	  "10 871dfad051ab2521046f53d76895c52cc7d20581 evm-sig "
	  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad boot_aggregate  "
	  "     \n",
	  "8ae585bd373a07a89a55afb0718cf5e7e3197f168366bde0ab0deb1d1ec04533" },
	{ "custom d-ng|n-ng|iuid|igid|imode",
	  "0a000000965f97521e56913ddb53dcbbad9a37faacf34dec19000000642d6e677c6e2d6e677c697569647c69"
	  "6769647c696d6f646553000000280000007368613235363a00ba7816bf8f01cfea414140de5dae2223b00361"
	  "a396177a9cb410ff61f20015ad0d0000002f7573722f62696e2f616263000400000000000000040000000000"
	  "000002000000a481",
	  "10 965f97521e56913ddb53dcbbad9a37faacf34dec d-ng|n-ng|iuid|igid|imode "
	  "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad /usr/bin/abc 0 "
	  "0 33188\n",
	  "859cc5a300b32a99f0bc01f162e01b4abf3d95613c5b397c1555b7b55bae9545" },
	{ "custom d|n (length-prefixed, unlike ima)",
	  "0a000000586aa46d5a32e0f260536f77424f2ecb57a362bc03000000647c6e2900000014000000a9993e3647"
	  "06816aba3e25717850c26c9cd0d89d0d0000002f7573722f62696e2f61626300",
	  "10 586aa46d5a32e0f260536f77424f2ecb57a362bc d|n "
	  "a9993e364706816aba3e25717850c26c9cd0d89d /usr/bin/abc\n",
	  "05ad2a78805ea52de80e0144aa7be8345519c15db362160b9d9abf7bbd2485e3" },
};

static void test_others(void)
{
	for (size_t i = 0; i < sizeof(other_templates) / sizeof(other_templates[0]); i++) {
		const char *what = other_templates[i].what;
		uint8_t raw[1024], want[32], got[32], sha1[20];
		size_t n = unhex(other_templates[i].entry_hex, raw), used = 0;
		struct template_entry e;
		struct template_fields f;
		char why[TEMPLATE_WHY_LEN] = "", name[160];
		struct buf line = {};

		snprintf(name, sizeof(name), "%s: decodes whole", what);
		CHECK(!template_decode(raw, n, &e, &used, why) && used == n, name, "%s", why);
		if (used != n)
			continue;
		snprintf(name, sizeof(name), "%s: fields", what);
		CHECK(!template_fields(&e, &f, why), name, "%s", why);
		snprintf(name, sizeof(name), "%s: ASCII line as the kernel prints it", what);
		CHECK(!template_format_ascii(&line, &e, why), name, "%s", why);
		buf_put(&line, "", 1);
		CHECK_STR((char *)line.p, other_templates[i].line, name);
		snprintf(name, sizeof(name), "%s: sha256 bank digest", what);
		unhex(other_templates[i].sha256, want);
		template_bank_digest(&e, alg("sha256"), got);
		CHECK_MEM(got, want, 32, name);
		if (!template_is_violation(&e)) {
			snprintf(name, sizeof(name), "%s: sha1 bank digest is the template hash",
				 what);
			template_bank_digest(&e, alg("sha1"), sha1);
			CHECK_MEM(sha1, e.digest, 20, name);
		}
		buf_free(&line);
	}
}

/* What the fields give their readers: digest, algorithm, path, extra, verity. */
static void test_fields(void)
{
	uint8_t raw[1024];
	struct template_entry e;
	struct template_fields f;
	char why[TEMPLATE_WHY_LEN];
	size_t used;

	unhex(other_templates[0].entry_hex, raw); /* ima */
	template_decode(raw, sizeof(raw), &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "ima: fields");
	CHECK_STR(f.alg->name, "sha1", "ima: d is a SHA-1 digest");
	CHECK_STR(f.path, "/usr/bin/abc", "ima: its name, NUL-terminated for readers");
	CHECK_EQ(f.path_len, 13, "ima: path_len counts the NUL");
	CHECK(!f.extra, "ima: no extra field", "extra set");

	unhex(other_templates[3].entry_hex, raw); /* ima-ngv2 verity */
	template_decode(raw, sizeof(raw), &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "ima-ngv2: fields");
	CHECK_STR(f.alg->name, "sha256", "ima-ngv2: the algorithm after the type");
	CHECK(f.verity, "ima-ngv2: a verity digest is flagged", "verity false");
	CHECK_EQ(f.digest[0], 0xba, "ima-ngv2: digest bytes");

	unhex(other_templates[4].entry_hex, raw); /* ima-sigv2 */
	template_decode(raw, sizeof(raw), &e, &used, why);
	CHECK_EQ(template_fields(&e, &f, why), 0, "ima-sigv2: fields");
	CHECK(!f.verity, "ima-sigv2: an ima digest is not verity", "verity true");
	CHECK(f.extra && f.extra_len == 11 && f.extra[0] == 3, "ima-sigv2: extra is the signature",
	      "extra_len %u", f.extra_len);
}

static void test_bad(void)
{
	uint8_t raw[256], bad[256];
	size_t n = unhex(abc_entry_hex, raw);

	expect_torn(raw, 10, "truncated entry header", "bad input: truncated header is torn");
	expect_torn(raw, n - 1, "truncated template data", "bad input: truncated data is torn");
	expect_torn(raw, 30, "truncated template name", "bad input: truncated name is torn");

	memcpy(bad, raw, n);
	bad[24] = 128; /* name length 128 > 127 */
	expect_bad(bad, n, "template name length 128", "bad input: oversized name length");

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

/* An entry of template name whose fields are the n (length, bytes) pairs that follow. */
static void entry_of(struct buf *entry, const char *name, int n, ...)
{
	struct buf data = {};
	va_list ap;

	va_start(ap, n);
	for (int i = 0; i < n; i++) {
		uint32_t len = va_arg(ap, uint32_t);
		const char *p = va_arg(ap, const char *);

		buf_put_u32(&data, len);
		buf_put(&data, p, len);
	}
	va_end(ap);
	entry->len = 0;
	template_encode(entry, 10, name, data.p, data.len, false);
	buf_free(&data);
}

#define D_NG 40, "sha256:\0abcdefghijklmnopqrstuvwxyz012345"
#define D_NGV2 44, "ima:sha256:\0abcdefghijklmnopqrstuvwxyz012345"
#define N_NG 3, "/x"

static void test_bad_others(void)
{
	uint8_t ima[64] = { 10 }, big[1024];
	struct buf e = {};
	size_t n;

	/* the legacy template: pcr, hash, "ima", d, name length, name */
	ima[24] = 3;
	memcpy(ima + 28, "ima", 3);
	ima[51] = 2;
	memcpy(ima + 55, "/x", 2);
	n = 57;
	expect_torn(ima, n - 1, "truncated ima name", "bad ima: a name cut short is torn");
	expect_torn(ima, 40, "truncated ima entry", "bad ima: a digest cut short is torn");
	ima[52] = 1; /* name length 258 */
	expect_bad(ima, n, "ima: name length 258 exceeds 255", "bad ima: name length past 255");
	ima[52] = 0;
	ima[55] = '\0';
	expect_bad(ima, n, "ima: the name contains a NUL", "bad ima: NUL in the name");

	entry_of(&e, "ima-ngv2", 2, 40, "sha256:\0abcdefghijklmnopqrstuvwxyz012345", N_NG);
	expect_bad(e.p, e.len, "d-ngv2: no digest type", "bad ima-ngv2: no digest type");
	entry_of(&e, "ima-ngv2", 2, 44, "foo:sha256:\0abcdefghijklmnopqrstuvwxyz012345", N_NG);
	expect_bad(e.p, e.len, "d-ngv2: unknown digest type \"foo\"",
		   "bad ima-ngv2: unknown digest type");
	entry_of(&e, "ima-ngv2", 2, 43, "ima:sha256:\0abcdefghijklmnopqrstuvwxyz01234", N_NG);
	expect_bad(e.p, e.len, "d-ngv2: sha256 digest of 31 bytes",
		   "bad ima-ngv2: digest size vs algorithm");
	entry_of(&e, "ima-ngv2", 2, D_NGV2, 2, "/x");
	expect_bad(e.p, e.len, "n-ng field is not one NUL-terminated",
		   "bad ima-ngv2: name without NUL");
	entry_of(&e, "ima-sigv2", 2, D_NGV2, N_NG);
	expect_bad(e.p, e.len, "ima-sigv2 field 3 (sig): truncated length",
		   "bad ima-sigv2: a field missing");
	entry_of(&e, "ima-modsig", 5, D_NG, N_NG, 0, "", 7, "sha256:", 0, "");
	expect_bad(e.p, e.len, "d-modsig field is not", "bad ima-modsig: d-modsig without digest");
	entry_of(&e, "evm-sig", 9, D_NG, N_NG, 0, "", 3, "a|b", 0, "", 0, "", 0, "", 0, "", 0, "");
	expect_bad(e.p, e.len, "xattrnames field is not one NUL-terminated",
		   "bad evm-sig: xattrnames without NUL");
	entry_of(&e, "evm-sig", 9, D_NG, N_NG, 0, "", 0, "", 0, "", 0, "", 3, "abc", 0, "", 0, "");
	expect_bad(e.p, e.len, "iuid: 3 bytes, not an integer", "bad evm-sig: a 3-byte iuid");
	entry_of(&e, "d-ng|n-ng|bogus", 3, D_NG, N_NG, 0, "");
	expect_bad(e.p, e.len, "no IMA field \"bogus\"", "bad custom: an unknown field id");
	entry_of(&e, "d-ng|n-ng|", 2, D_NG, N_NG);
	expect_bad(e.p, e.len, "no IMA field \"\"", "bad custom: an empty field id");
	entry_of(&e, "d-ng|iuid", 2, D_NG, 4, "\0\0\0\0");
	expect_bad(e.p, e.len, "has no name field", "bad custom: no name field");
	entry_of(&e, "n-ng|iuid", 2, N_NG, 4, "\0\0\0\0");
	expect_bad(e.p, e.len, "has no digest field", "bad custom: no digest field");
	entry_of(&e, "d-ng|n-ng|buf", 3, D_NG, N_NG, 1, "x");
	e.p[e.len - 5] = 9; /* buf's length past the data */
	expect_bad(e.p, e.len, "(buf): length 9 exceeds", "bad custom: field length past the data");
	entry_of(&e, "d|n|buf|buf|buf|buf|buf|buf|buf|buf|buf|buf|buf|buf|buf|buf", 0);
	expect_bad(e.p, e.len, "more than 15 fields", "bad custom: 16 fields");
	entry_of(&e, "d|n", 2, 16, "0123456789abcdef", N_NG);
	expect_bad(e.p, e.len, "d: digest of 16 bytes, expected 20", "bad custom: a short d");
	memset(big, 0, sizeof(big));
	buf_free(&e);
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

TEST_MAIN(CASE(names), CASE(encode), CASE(kernel), CASE(decode), CASE(ascii), CASE(replay),
	  CASE(replay_own), CASE(replay_own_way), CASE(others), CASE(fields), CASE(bad),
	  CASE(bad_others), CASE(records))
