// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "ak.h"
#include "hashalg.h"
#include "log.h"
#include "msg.h"

static int read_blob(const char *path, uint8_t *buf, size_t *len);

static void quote_digest(const struct tpm_quote *q, const uint8_t *der, int n, uint8_t sha256[32])
{
	uint8_t both[TPM_BLOB_MAX + 80];

	memcpy(both, q->attest, q->attest_len);
	memcpy(both + q->attest_len, der, n);
	hashalg_digest(hashalg_by_name("sha256", 6), both, q->attest_len + n, sha256);
}

int ak_save_quote(const char *dir, uint64_t id, const struct tpm_quote *q, uint8_t sha256[32])
{
	char name[64];
	uint8_t der[80];
	int n = ak_signature_der(q, der, sizeof(der)), err;

	if (n < 0)
		return n;
	snprintf(name, sizeof(name), "quote-%llu.attest", (unsigned long long)id);
	err = log_write_file(dir, name, q->attest, q->attest_len);
	snprintf(name, sizeof(name), "quote-%llu.sig", (unsigned long long)id);
	err = err ?: log_write_file(dir, name, der, n);
	if (!err)
		quote_digest(q, der, n, sha256);
	return err;
}

int ak_read_quote(const char *prefix, struct tpm_quote *q, uint8_t sha256[32])
{
	uint8_t der[TPM_BLOB_MAX];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	char name[4096];
	size_t n;
	int err;

	snprintf(name, sizeof(name), "%s.attest", prefix);
	err = read_blob(name, q->attest, &q->attest_len);
	snprintf(name, sizeof(name), "%s.sig", prefix);
	err = err ?: read_blob(name, der, &n);
	if (err)
		return err;
	sig = d2i_ECDSA_SIG(NULL, &p, n);
	if (!sig)
		return -EBADMSG;
	ECDSA_SIG_get0(sig, &r, &s);
	err = BN_bn2binpad(r, q->r, 32) == 32 && BN_bn2binpad(s, q->s, 32) == 32 ? 0 : -EBADMSG;
	ECDSA_SIG_free(sig);
	if (!err)
		quote_digest(q, der, n, sha256);
	return err;
}

int ak_load_quote(const char *dir, uint64_t id, struct tpm_quote *q, uint8_t sha256[32])
{
	char prefix[4096];

	snprintf(prefix, sizeof(prefix), "%s/quote-%llu", dir, (unsigned long long)id);
	return ak_read_quote(prefix, q, sha256);
}

static int read_blob(const char *path, uint8_t *buf, size_t *len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, TPM_BLOB_MAX);
	close(fd);
	if (n <= 0 || n == TPM_BLOB_MAX)
		return -EBADMSG;
	*len = n;
	return 0;
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

EVP_PKEY *ak_public(const struct tpm_ak *ak)
{
	uint8_t point[65] = { 0x04 }; /* uncompressed: 04 || x || y */
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	OSSL_PARAM *params = NULL;
	EVP_PKEY *pkey = NULL;

	if (!tpm_ak_point(ak, point + 1, point + 33) && bld && ctx &&
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) &&
	    (params = OSSL_PARAM_BLD_to_param(bld)) && EVP_PKEY_fromdata_init(ctx) > 0)
		EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return pkey;
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

EVP_PKEY *ak_read_pem(const char *path)
{
	FILE *f = fopen(path, "r");
	EVP_PKEY *pkey = f ? PEM_read_PUBKEY(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	return pkey;
}

int ak_verify_key(EVP_PKEY *key, const struct tpm_quote *q)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[80];
	int n = ak_signature_der(q, der, sizeof(der)), ok = 0;

	if (key && md && n > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key) > 0)
		ok = EVP_DigestVerify(md, der, n, q->attest, q->attest_len) == 1;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -EBADMSG;
}

int ak_verify(const struct tpm_ak *ak, const struct tpm_quote *q)
{
	EVP_PKEY *pkey = ak_public(ak);
	int err = ak_verify_key(pkey, q);

	EVP_PKEY_free(pkey);
	return err;
}
