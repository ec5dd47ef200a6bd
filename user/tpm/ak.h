/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The attestation key in the state directory, and what OpenSSL does with
 * it: the public key as PEM, and the check of a quote's signature.
 */
#ifndef BIMA_AK_H
#define BIMA_AK_H

#include <stdio.h>
#include <openssl/evp.h>

#include "tpm.h"

#define AK_PUB "ak.pub"	  /* TPM2B_PUBLIC, marshaled */
#define AK_PRIV "ak.priv" /* TPM2B_PRIVATE, marshaled: only this TPM can load it */

/* Load the AK from dir, or create it there on first use. */
int ak_load_or_create(struct tpm *tpm, const char *dir, struct tpm_ak *ak);
/* Load the AK from dir; -ENOENT if there is none. No TPM needed. */
int ak_load(const char *dir, struct tpm_ak *ak);
/*
 * Load the AK from dir and prove it is the key this TPM holds: a
 * restricted signing key that the TPM loads (ak.priv binds to ak.pub) and
 * signs a fresh nonce with. -ENOENT if there is none, -EKEYREJECTED if it
 * is not; why (AK_WHY_LEN, may be NULL) says which.
 */
int ak_load_tpm(struct tpm *tpm, const char *dir, struct tpm_ak *ak, char *why);
/*
 * The DER of a P-256 ECDSA signature: a SEQUENCE (2 bytes) of two INTEGERs
 * of up to 33 bytes each (2 + 33).
 */
#define AK_SIG_MAX 72
/*
 * What bima keeps of a TPMS_ATTEST. A quote's is under 400 bytes (a name
 * of 68, a nonce of 64, 16 banks' selection, a 64-byte digest); a
 * TPM2B_ATTEST allows 2304 for other kinds of attestation.
 */
#define AK_ATTEST_MAX ((int)sizeof(((struct tpm_quote *)0)->attest))
#define AK_WHY_LEN 4200 /* a file's name, and what is wrong with it */

/*
 * A snapshot's quote, kept beside its segments: quote-ID.attest (the
 * TPMS_ATTEST) and quote-ID.sig (DER). sha256 gets the digest of the two,
 * attest then signature, which the kernel's anchor holds.
 */
int ak_save_quote(const char *dir, uint64_t id, const struct tpm_quote *q, uint8_t sha256[32]);
/*
 * Read them back: -ENOENT (or another errno) if a file cannot be read,
 * -EBADMSG if they are not a quote and its signature; why (AK_WHY_LEN,
 * may be NULL) then names the file and the cause. The signature is checked
 * by no key here (ak_verify_key).
 */
int ak_load_quote(const char *dir, uint64_t id, struct tpm_quote *q, uint8_t sha256[32], char *why);
/* The same from PREFIX.attest and PREFIX.sig. */
int ak_read_quote(const char *prefix, struct tpm_quote *q, uint8_t sha256[32], char *why);
/*
 * The same from the files' bytes, named attest_name and sig_name in why:
 * every size bounded, the attest a quote's TPMS_ATTEST, the signature one
 * DER ECDSA-Sig-Value with nothing after it, r and s of 32 bytes at most.
 */
int ak_parse_quote(const uint8_t *attest, size_t attest_len, const uint8_t *der, size_t n,
		   const char *attest_name, const char *sig_name, struct tpm_quote *q,
		   uint8_t sha256[32], char *why);
/* Write the AK's public key as PEM (SubjectPublicKeyInfo). */
int ak_write_pem(const struct tpm_ak *ak, FILE *out);
/* The quote's signature as DER (ECDSA-Sig-Value), for OpenSSL; returns its length. */
int ak_signature_der(const struct tpm_quote *q, uint8_t *out, size_t size);
/* Whether the AK signed the quote: 0, or -EBADMSG. */
int ak_verify(const struct tpm_ak *ak, const struct tpm_quote *q);
/* The AK's public key, from its blob or from a PEM file (NULL if unreadable); EVP_PKEY_free it. */
EVP_PKEY *ak_public(const struct tpm_ak *ak);
EVP_PKEY *ak_read_pem(const char *path);
int ak_verify_key(EVP_PKEY *key, const struct tpm_quote *q);

#endif
