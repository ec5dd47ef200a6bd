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
 * A snapshot's quote, kept beside its segments: quote-ID.attest (the
 * TPMS_ATTEST) and quote-ID.sig (DER). sha256 gets the digest of the two,
 * attest then signature, which the kernel's anchor holds.
 */
int ak_save_quote(const char *dir, uint64_t id, const struct tpm_quote *q, uint8_t sha256[32]);
int ak_load_quote(const char *dir, uint64_t id, struct tpm_quote *q, uint8_t sha256[32]);
/* The same from PREFIX.attest and PREFIX.sig. */
int ak_read_quote(const char *prefix, struct tpm_quote *q, uint8_t sha256[32]);
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
