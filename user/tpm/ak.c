// SPDX-License-Identifier: GPL-2.0-only
#define OPENSSL_API_COMPAT 10101
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <tss2/tss2_mu.h>

#include "ak.h"
#include "hashalg.h"
#include "log.h"
#include "msg.h"

static int read_blob(const char *path, uint8_t *buf, size_t *len);

/*
 * sha256(attest || der), hashed in place: the digest a kernel anchor
 * holds. By SHA256_*, not EVP: an EVP digest's first use fills OpenSSL's
 * table of names (3.5 million instructions, most of a small verify's).
 */
static int quote_digest(const uint8_t *attest, size_t attest_len, const uint8_t *der, size_t n,
			uint8_t sha256[32])
{
	SHA256_CTX c;

	SHA256_Init(&c);
	SHA256_Update(&c, attest, attest_len);
	SHA256_Update(&c, der, n);
	SHA256_Final(sha256, &c);
	return 0;
}

int ak_save_quote(const char *dir, uint64_t id, const struct tpm_quote *q, uint8_t sha256[32])
{
	char name[64];
	uint8_t der[AK_SIG_MAX];
	int n = ak_signature_der(q, der, sizeof(der)), err;

	if (n < 0)
		return n;
	snprintf(name, sizeof(name), "quote-%llu.attest", (unsigned long long)id);
	err = log_write_file(dir, name, q->attest, q->attest_len);
	snprintf(name, sizeof(name), "quote-%llu.sig", (unsigned long long)id);
	err = err ?: log_write_file(dir, name, der, n);
	return err ?: quote_digest(q->attest, q->attest_len, der, n, sha256);
}

/* Say why in why (if not NULL), and return err. */
__attribute__((format(printf, 3, 4))) static int fail(char *why, int err, const char *fmt, ...)
{
	va_list ap;

	if (why) {
		va_start(ap, fmt);
		vsnprintf(why, AK_WHY_LEN, fmt, ap);
		va_end(ap);
	}
	return err;
}

#define WHY(...) fail(why, -EBADMSG, __VA_ARGS__)

int ak_parse_quote(const uint8_t *attest, size_t attest_len, const uint8_t *der, size_t n,
		   const char *attest_name, const char *sig_name, struct tpm_quote *q,
		   uint8_t sha256[32], char *why)
{
	struct tpm_quote_info qi;
	uint8_t again[AK_SIG_MAX];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int err, len;

	if (!attest_len || attest_len > AK_ATTEST_MAX)
		return WHY("%s: %zu bytes, not 1 to %d as a quote's TPMS_ATTEST", attest_name,
			   attest_len, AK_ATTEST_MAX);
	if (!n || n > AK_SIG_MAX)
		return WHY("%s: %zu bytes, more than the %d of a P-256 ECDSA signature (DER)",
			   sig_name, n, AK_SIG_MAX);
	if (tpm_quote_info(attest, attest_len, &qi))
		return WHY("%s: not the TPMS_ATTEST of a quote", attest_name);
	sig = d2i_ECDSA_SIG(NULL, &p, n);
	if (!sig)
		return WHY("%s: not an ECDSA signature (DER)", sig_name);
	if (p != der + n) {
		ECDSA_SIG_free(sig);
		return WHY("%s: %zu byte(s) after the signature's DER", sig_name,
			   (size_t)(der + n - p));
	}
	ECDSA_SIG_get0(sig, &r, &s);
	err = BN_bn2binpad(r, q->r, 32) == 32 && BN_bn2binpad(s, q->s, 32) == 32 ? 0 : -EBADMSG;
	ECDSA_SIG_free(sig);
	if (err)
		return WHY("%s: r or s is wider than 32 bytes: not a P-256 signature", sig_name);
	/* DER has one encoding of each value; the anchor's digest must not have two. */
	len = ak_signature_der(q, again, sizeof(again));
	if (len != (int)n || memcmp(again, der, n))
		return WHY("%s: not in DER (another encoding of the signature)", sig_name);
	memcpy(q->attest, attest, attest_len);
	q->attest_len = attest_len;
	return quote_digest(attest, attest_len, der, n, sha256);
}

/* Read a file of at most max bytes into buf; *len is its size even when too large. */
static int read_small(const char *path, uint8_t *buf, size_t max, size_t *len)
{
	struct stat st;
	ssize_t n = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st))
		err = -errno;
	else if (!S_ISREG(st.st_mode))
		err = -EINVAL;
	*len = err ? 0 : (size_t)st.st_size;
	while (!err && *len <= max && (size_t)n < *len) {
		ssize_t got = read(fd, buf + n, *len - n);

		if (got < 0 && errno != EINTR)
			err = -errno;
		else if (got == 0)
			*len = n; /* it shrank */
		n += got > 0 ? got : 0;
	}
	close(fd);
	return err;
}

int ak_read_quote(const char *prefix, struct tpm_quote *q, uint8_t sha256[32], char *why)
{
	uint8_t attest[AK_ATTEST_MAX], der[AK_SIG_MAX];
	char an[4096], sn[4096];
	size_t alen, n;
	int err;

	snprintf(an, sizeof(an), "%s.attest", prefix);
	snprintf(sn, sizeof(sn), "%s.sig", prefix);
	err = read_small(an, attest, sizeof(attest), &alen);
	if (err)
		return fail(why, err, "%s: %s", an, strerror(-err));
	err = read_small(sn, der, sizeof(der), &n);
	if (err)
		return fail(why, err, "%s: %s", sn, strerror(-err));
	return ak_parse_quote(attest, alen, der, n, an, sn, q, sha256, why);
}

int ak_load_quote(const char *dir, uint64_t id, struct tpm_quote *q, uint8_t sha256[32], char *why)
{
	char prefix[4096];

	snprintf(prefix, sizeof(prefix), "%s/quote-%llu", dir, (unsigned long long)id);
	return ak_read_quote(prefix, q, sha256, why);
}

static int read_blob(const char *path, uint8_t *buf, size_t *len)
{
	int err = read_small(path, buf, TPM_BLOB_MAX, len);

	return err ?: !*len || *len > TPM_BLOB_MAX ? -EBADMSG : 0;
}

int ak_load(const char *dir, struct tpm_ak *ak)
{
	char path[4096];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, AK_PUB);
	err = read_blob(path, ak->pub, &ak->pub_len);
	snprintf(path, sizeof(path), "%s/%s", dir, AK_PRIV);
	return err ?: read_blob(path, ak->priv, &ak->priv_len);
}

int ak_load_or_create(struct tpm *tpm, const char *dir, struct tpm_ak *ak)
{
	int err = ak_load(dir, ak);

	if (!err)
		return 0;
	if (err != -ENOENT) {
		pr_err("%s/%s: %s", dir, AK_PUB, strerror(-err));
		return err;
	}
	err = tpm_ak_create(tpm, ak);
	err = err ?: log_write_file(dir, AK_PRIV, ak->priv, ak->priv_len);
	err = err ?: log_write_file(dir, AK_PUB, ak->pub, ak->pub_len);
	if (err)
		pr_err("%s: cannot create the attestation key: %s", dir, strerror(-err));
	else
		pr_info("created the attestation key in %s (%s, %s)", dir, AK_PUB, AK_PRIV);
	return err;
}

/* Whether the key's attributes are the AK's: it signs only what the TPM itself attests. */
static bool restricted_signer(const struct tpm_ak *ak)
{
	const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
				 TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_SENSITIVEDATAORIGIN;
	TPM2B_PUBLIC pub = {};
	size_t off = 0;

	return !Tss2_MU_TPM2B_PUBLIC_Unmarshal(ak->pub, ak->pub_len, &off, &pub) &&
	       off == ak->pub_len && (pub.publicArea.objectAttributes & need) == need &&
	       !(pub.publicArea.objectAttributes & TPMA_OBJECT_DECRYPT);
}

int ak_load_tpm(struct tpm *tpm, const char *dir, struct tpm_ak *ak, char *why)
{
	struct tpm_quote_info qi;
	struct tpm_quote q;
	uint8_t nonce[32];
	int err = ak_load(dir, ak);

	if (err)
		return fail(why, err, "%s/%s: %s", dir, AK_PUB, strerror(-err));
	if (!restricted_signer(ak))
		return fail(why, -EKEYREJECTED,
			    "%s/%s: not a restricted signing key of the TPM (it could sign "
			    "anything, not only what the TPM attests)",
			    dir, AK_PUB);
	/*
	 * The TPM loads ak.priv only with the public part it was made with; it
	 * quotes no PCR (no bank need be allocated), only the fresh nonce.
	 */
	if (getrandom(nonce, sizeof(nonce), 0) != sizeof(nonce))
		return fail(why, -EIO, "no random nonce to challenge the TPM with");
	if (tpm_quote(tpm, ak, nonce, sizeof(nonce), 0, NULL, 0, &q) || ak_verify(ak, &q) ||
	    tpm_quote_info(q.attest, q.attest_len, &qi) || qi.extra_len != sizeof(nonce) ||
	    memcmp(qi.extra, nonce, sizeof(nonce)))
		return fail(why, -EKEYREJECTED,
			    "%s/%s: not the attestation key this TPM holds (the TPM does not "
			    "load it with %s, or does not sign with it)",
			    dir, AK_PUB, AK_PRIV);
	return 0;
}

/* A P-256 point (04 || x || y) as a key, by EC_KEY_oct2key, which checks it is on the curve. */
static EVP_PKEY *p256_point(const uint8_t point[65])
{
	EC_KEY *ec = EC_KEY_new_by_curve_name(NID_X9_62_prime256v1);
	EVP_PKEY *pkey = EVP_PKEY_new();

	if (ec && pkey && EC_KEY_oct2key(ec, point, 65, NULL) && EVP_PKEY_assign_EC_KEY(pkey, ec))
		return pkey;
	EC_KEY_free(ec);
	EVP_PKEY_free(pkey);
	return NULL;
}

EVP_PKEY *ak_public(const struct tpm_ak *ak)
{
	uint8_t point[65] = { 0x04 }; /* uncompressed: 04 || x || y */

	return tpm_ak_point(ak, point + 1, point + 33) ? NULL : p256_point(point);
}

int ak_write_pem(const struct tpm_ak *ak, FILE *out)
{
	EVP_PKEY *pkey = ak_public(ak);
	int ok = pkey && PEM_write_PUBKEY(out, pkey);

	EVP_PKEY_free(pkey);
	return ok ? 0 : -EBADMSG;
}

int ak_signature_der(const struct tpm_quote *q, uint8_t *out, size_t size)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(q->r, 32, NULL), *s = BN_bin2bn(q->s, 32, NULL);
	unsigned char *p = out;
	int n = -EBADMSG;

	if (sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL; /* sig owns them */
		if ((size_t)i2d_ECDSA_SIG(sig, NULL) <= size)
			n = i2d_ECDSA_SIG(sig, &p);
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return n;
}

/*
 * A P-256 key as `bima ak export` writes it (SubjectPublicKeyInfo: the
 * named curve, the point uncompressed), taken by EC_KEY_oct2key, which
 * checks the point is on the curve; NULL for any other DER.
 */
static EVP_PKEY *p256_key(const unsigned char *der, long len)
{
	static const uint8_t spki[] = { 0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
					0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
					0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04 };

	if (len != sizeof(spki) + 64 || memcmp(der, spki, sizeof(spki)))
		return NULL;
	return p256_point(der + sizeof(spki) - 1);
}

/*
 * The first block labelled "PUBLIC KEY", as PEM_read_PUBKEY takes it
 * (blocks of other labels before it are skipped): the same key, without
 * the decoder chain PEM_read_PUBKEY builds first, which took half of a
 * small verify's instructions. The AK as bima exports it by p256_key,
 * any other key by d2i_PUBKEY (which builds decoders too).
 */
EVP_PKEY *ak_read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	char *name = NULL, *header = NULL;
	unsigned char *der = NULL;
	EVP_PKEY *pkey = NULL;
	bool found = false;
	long len = 0;

	while (f && !found && PEM_read(f, &name, &header, &der, &len)) {
		const unsigned char *p = der;

		found = !strcmp(name, PEM_STRING_PUBLIC);
		pkey = found ? p256_key(der, len) : NULL;
		/* as PEM_read_PUBKEY did, bytes after the key's DER are ignored */
		if (found && !pkey)
			pkey = d2i_PUBKEY(NULL, &p, len);
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(der);
	}
	if (f)
		fclose(f);
	return pkey;
}

/*
 * ECDSA over the SHA-256 of the attest, as EVP_DigestVerify with SHA-256
 * checks it, but by ECDSA_do_verify on the key's EC_KEY: EVP fetches the
 * digest and the signature algorithm by name, and the first fetch fills
 * OpenSSL's table of names (3.5 million instructions). A key that is not
 * EC verifies nothing.
 */
int ak_verify_key(EVP_PKEY *key, const struct tpm_quote *q)
{
	const EC_KEY *ec = key ? EVP_PKEY_get0_EC_KEY(key) : NULL;
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(q->r, 32, NULL), *s = BN_bin2bn(q->s, 32, NULL);
	uint8_t d[32];
	int ok = 0;

	if (ec && sig && r && s && ECDSA_SIG_set0(sig, r, s)) {
		r = s = NULL;
		ok = !hashalg_digest(hashalg_by_name("sha256", 6), q->attest, q->attest_len, d) &&
		     ECDSA_do_verify(d, sizeof(d), sig, (EC_KEY *)ec) == 1;
	}
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(sig);
	return ok ? 0 : -EBADMSG;
}

int ak_verify(const struct tpm_ak *ak, const struct tpm_quote *q)
{
	EVP_PKEY *pkey = ak_public(ak);
	int err = ak_verify_key(pkey, q);

	EVP_PKEY_free(pkey);
	return err;
}
