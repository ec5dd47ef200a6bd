// SPDX-License-Identifier: GPL-2.0-only
/* Hash algorithms under their three names: kernel, TPM and OpenSSL. */
/*
 * OpenSSL 3 deprecates its SHA-1 and SHA-2 functions for EVP, whose setup
 * allocates and frees a context on every digest: for the short inputs of a
 * replay (a template, an extend) that setup costs as much as the hashing.
 */
#define OPENSSL_API_COMPAT 10101
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "hashalg.h"

/* Kernel ids from include/uapi/linux/hash_info.h, TPM ids from the TPM 2.0 spec part 2. */
/* clang-format off */
#define ALG(name, kernel_id, tpm_id, size) { name, kernel_id, tpm_id, size, sizeof(name) - 1 }
static const struct hashalg algs[] = {
	ALG("md5",    1,  0,      16),
	ALG("sha1",   2,  0x0004, 20),
	ALG("sha256", 4,  0x000b, 32),
	ALG("sha384", 5,  0x000c, 48),
	ALG("sha512", 6,  0x000d, 64),
	ALG("sha224", 7,  0,      28),
	ALG("sm3",    17, 0x0012, 32),
};
/* clang-format on */

const struct hashalg *hashalg_by_kernel_id(int id)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].kernel_id == id)
			return &algs[i];
	return NULL;
}

const struct hashalg *hashalg_by_tpm_id(uint16_t id)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (id && algs[i].tpm_id == id)
			return &algs[i];
	return NULL;
}

const struct hashalg *hashalg_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (algs[i].name_len == len && !memcmp(algs[i].name, name, len))
			return &algs[i];
	return NULL;
}

/*
 * The algorithm's OpenSSL implementation, fetched once: looking it up on
 * every call costs more than hashing a log entry (OpenSSL 3 takes locks to
 * find it). Only the algorithms other than SHA-1 and SHA-2 come here, and
 * only from one thread: the replay's threads hash SHA-1 and SHA-2 (hashalg.h).
 */
static EVP_MD *md_of(const struct hashalg *alg)
{
	static EVP_MD *mds[sizeof(algs) / sizeof(algs[0])];
	size_t i = alg - algs;

	if (!mds[i])
		mds[i] = EVP_MD_fetch(NULL, alg->name, NULL);
	return mds[i];
}

/* SHA-1 and SHA-2 without EVP; false for another algorithm. */
static bool sha_digest(const struct hashalg *alg, const void *data, size_t len, uint8_t *out)
{
	SHA512_CTX c512;
	SHA256_CTX c256;
	SHA_CTX c1;

	switch (alg->kernel_id) {
	case 2:
		SHA1_Init(&c1);
		SHA1_Update(&c1, data, len);
		SHA1_Final(out, &c1);
		return true;
	case 4:
		SHA256_Init(&c256);
		SHA256_Update(&c256, data, len);
		SHA256_Final(out, &c256);
		return true;
	case 5:
		SHA384_Init(&c512);
		SHA384_Update(&c512, data, len);
		SHA384_Final(out, &c512);
		return true;
	case 6:
		SHA512_Init(&c512);
		SHA512_Update(&c512, data, len);
		SHA512_Final(out, &c512);
		return true;
	}
	return false;
}

int hashalg_digest(const struct hashalg *alg, const void *data, size_t len, uint8_t *out)
{
	static EVP_MD_CTX *ctx;
	EVP_MD *md;
	unsigned int n;

	if (sha_digest(alg, data, len, out))
		return 0;
	md = md_of(alg);
	if (!ctx)
		ctx = EVP_MD_CTX_new();
	if (!md || !ctx || !EVP_DigestInit_ex2(ctx, md, NULL) ||
	    !EVP_DigestUpdate(ctx, data, len) || !EVP_DigestFinal_ex(ctx, out, &n) ||
	    n != alg->size)
		return -EINVAL;
	return 0;
}

int hashalg_fd(const struct hashalg *alg, int fd, uint8_t *out)
{
	const EVP_MD *md = md_of(alg);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	static uint8_t buf[1 << 16];
	unsigned int n = 0;
	ssize_t got;
	int err = 0;

	if (!md || !ctx || !EVP_DigestInit_ex(ctx, md, NULL)) {
		EVP_MD_CTX_free(ctx);
		return -EINVAL;
	}
	while ((got = read(fd, buf, sizeof(buf))) != 0) {
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || !EVP_DigestUpdate(ctx, buf, got)) {
			err = got < 0 ? -errno : -EINVAL;
			break;
		}
	}
	if (!err && (!EVP_DigestFinal_ex(ctx, out, &n) || n != alg->size))
		err = -EINVAL;
	EVP_MD_CTX_free(ctx);
	return err;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, sizeof(v));
}

static void put_be64(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, sizeof(v));
}

/*
 * The padding of an extend's input (the PCR and a digest, 2 * size bytes):
 * 0x80, zeros, and the length in bits at the end of the last block. For
 * SHA-256 and SHA-512 the input fills a block and the padding is a block
 * of its own; for SHA-1 and SHA-384 it is the tail of the one block.
 */
/* clang-format off */
static const uint8_t pad_sha1[64 - 40] = { 0x80, [64 - 40 - 2] = 0x01, 0x40 };	    /* 320 */
static const uint8_t pad_sha256[64] = { 0x80, [62] = 0x02, 0x00 };		    /* 512 */
static const uint8_t pad_sha384[128 - 96] = { 0x80, [128 - 96 - 2] = 0x03, 0x00 }; /* 768 */
static const uint8_t pad_sha512[128] = { 0x80, [126] = 0x04, 0x00 };		    /* 1024 */
/* clang-format on */

/*
 * An extend of a SHA-1 or SHA-2 bank, its blocks given to the compression
 * function with the padding above: the input always has the same length,
 * and SHA*_Final's own padding and clearing of the context cost a tenth of
 * the extend (a PCR is no secret to clear). Each case copies a constant
 * size, which the compiler inlines. False for another algorithm.
 */
static bool sha_extend(const struct hashalg *alg, uint8_t *pcr, const uint8_t *digest)
{
	uint8_t buf[128];
	SHA512_CTX c512;
	SHA256_CTX c256;
	SHA_CTX c1;

	switch (alg->kernel_id) {
	case 2:
		memcpy(buf, pcr, 20);
		memcpy(buf + 20, digest, 20);
		memcpy(buf + 40, pad_sha1, sizeof(pad_sha1));
		SHA1_Init(&c1);
		SHA1_Transform(&c1, buf);
		put_be32(pcr, c1.h0);
		put_be32(pcr + 4, c1.h1);
		put_be32(pcr + 8, c1.h2);
		put_be32(pcr + 12, c1.h3);
		put_be32(pcr + 16, c1.h4);
		return true;
	case 4:
		memcpy(buf, pcr, 32);
		memcpy(buf + 32, digest, 32);
		SHA256_Init(&c256);
		SHA256_Transform(&c256, buf);
		SHA256_Transform(&c256, pad_sha256);
		for (size_t i = 0; i < 8; i++)
			put_be32(pcr + 4 * i, c256.h[i]);
		return true;
	case 5:
		memcpy(buf, pcr, 48);
		memcpy(buf + 48, digest, 48);
		memcpy(buf + 96, pad_sha384, sizeof(pad_sha384));
		SHA384_Init(&c512);
		SHA512_Transform(&c512, buf);
		for (size_t i = 0; i < 6; i++)
			put_be64(pcr + 8 * i, c512.h[i]);
		return true;
	case 6:
		memcpy(buf, pcr, 64);
		memcpy(buf + 64, digest, 64);
		SHA512_Init(&c512);
		SHA512_Transform(&c512, buf);
		SHA512_Transform(&c512, pad_sha512);
		for (size_t i = 0; i < 8; i++)
			put_be64(pcr + 8 * i, c512.h[i]);
		return true;
	}
	return false;
}

int hashalg_extend(const struct hashalg *alg, uint8_t *pcr, const uint8_t *digest)
{
	uint8_t buf[2 * HASHALG_MAX_SIZE];

	if (sha_extend(alg, pcr, digest))
		return 0;
	memcpy(buf, pcr, alg->size);
	memcpy(buf + alg->size, digest, alg->size);
	return hashalg_digest(alg, buf, 2 * alg->size, pcr);
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}
