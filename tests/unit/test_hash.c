// SPDX-License-Identifier: GPL-2.0-only
/*
 * The replay's own ways of hashing give OpenSSL's digests. An extend
 * (hashalg_extend, which pads the input itself) is EVP's digest of the PCR
 * and the digest, in every bank a TPM may have and in SM3 (EVP's own way).
 * Sixteen SHA-1 or SHA-256 or eight SHA-384 or SHA-512 digests at once (hashmb.h)
 * are those of hashing each message alone, for every length from 0 to 600
 * bytes (up to ten blocks, and every place the padding may fall), with the
 * lanes of one call of different lengths, and with fewer messages than
 * lanes.
 */
#include <openssl/evp.h>

#include "check.h"
#include "hashmb.h"

static void test_extend(void)
{
	static const char *const names[] = { "sha1", "sha256", "sha384", "sha512", "sm3" };
	uint8_t pcr[HASHALG_MAX_SIZE], digest[HASHALG_MAX_SIZE], both[2 * HASHALG_MAX_SIZE];
	uint8_t want[EVP_MAX_MD_SIZE];
	unsigned int wrong = 0, n;

	for (size_t a = 0; a < sizeof(names) / sizeof(names[0]); a++) {
		const struct hashalg *alg = hashalg_by_name(names[a], strlen(names[a]));
		EVP_MD *md = EVP_MD_fetch(NULL, names[a], NULL);

		if (!md) {
			printf("# OpenSSL has no %s: not checked\n", names[a]);
			continue;
		}
		for (int i = 0; i < 100; i++) {
			for (size_t j = 0; j < alg->size; j++)
				digest[j] = i * 31 + j;
			if (!i)
				memset(pcr, 0, alg->size);
			memcpy(both, pcr, alg->size);
			memcpy(both + alg->size, digest, alg->size);
			EVP_Digest(both, 2 * alg->size, want, &n, md, NULL);
			hashalg_extend(alg, pcr, digest);
			wrong += n != alg->size || memcmp(pcr, want, n);
		}
		EVP_MD_free(md);
	}
	CHECK_EQ(wrong, 0, "100 extends in a row in each bank are EVP's digests");
}

#define MAX_LEN 600

static void test_lanes(void)
{
	static uint8_t data[HASHMB_LANES_MAX][MAX_LEN], got[HASHMB_LANES_MAX][HASHALG_MAX_SIZE];
	static const char *const names[] = { "sha1", "sha256", "sha384", "sha512" };
	static const size_t want_lanes[] = { 16, 16, 8, 8 };
	const uint8_t *msg[HASHMB_LANES_MAX];
	uint8_t *out[HASHMB_LANES_MAX], want[HASHALG_MAX_SIZE];
	size_t len[HASHMB_LANES_MAX];
	unsigned int calls = 0, wrong = 0, lanes_wrong = 0;

	if (!hashmb_lanes(hashalg_by_name("sha512", 6))) {
		printf("# this CPU has no AVX-512: skipped\n");
		exit(77);
	}
	CHECK_EQ(hashmb_lanes(hashalg_by_name("sm3", 3)), 0, "SM3 is not for it");
	for (size_t l = 0; l < HASHMB_LANES_MAX; l++) {
		for (size_t i = 0; i < MAX_LEN; i++)
			data[l][i] = l * 7 + i * 13;
		msg[l] = data[l];
		out[l] = got[l];
	}
	for (size_t a = 0; a < 4; a++) {
		const struct hashalg *alg = hashalg_by_name(names[a], strlen(names[a]));
		size_t lanes = hashmb_lanes(alg);

		lanes_wrong += lanes != want_lanes[a];
		for (size_t first = 0; first <= MAX_LEN; first++)
			for (size_t n = 1; n <= lanes; n++) {
				for (size_t l = 0; l < n; l++)
					len[l] = (first + l * 37) % (MAX_LEN + 1);
				hashmb_digest(alg, n, msg, len, out);
				calls++;
				for (size_t l = 0; l < n; l++) {
					hashalg_digest(alg, msg[l], len[l], want);
					wrong += !!memcmp(want, got[l], alg->size);
				}
			}
	}
	CHECK_EQ(lanes_wrong, 0, "16 lanes for SHA-1 and SHA-256, 8 for SHA-384 and SHA-512");
	CHECK_EQ(calls, 601 * (16 + 16 + 8 + 8),
		 "every length, 1 to all lanes, all four algorithms");
	CHECK_EQ(wrong, 0, "every digest is the one hashed alone");
}

TEST_MAIN(CASE(extend), CASE(lanes))
