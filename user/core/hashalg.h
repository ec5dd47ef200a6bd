/* SPDX-License-Identifier: GPL-2.0-only */
/* Hash algorithms under their three names: kernel, TPM and OpenSSL. */
#ifndef BIMA_HASHALG_H
#define BIMA_HASHALG_H

#include <stddef.h>
#include <stdint.h>

#define HASHALG_MAX_SIZE 64

struct hashalg {
	const char *name; /* IMA's name, as in "sha256:" of d-ng */
	int kernel_id;	  /* the kernel's enum hash_algo */
	uint16_t tpm_id;  /* TPM2_ALG_ID, 0 if no TPM bank uses it */
	size_t size;	  /* digest size in bytes */
	size_t name_len;  /* strlen(name) */
};

const struct hashalg *hashalg_by_kernel_id(int id);
const struct hashalg *hashalg_by_tpm_id(uint16_t id);
const struct hashalg *hashalg_by_name(const char *name, size_t len);

/*
 * out = H(data); returns 0 or -EINVAL if OpenSSL lacks the algorithm.
 * SHA-1 and SHA-2 may be hashed by several threads at once (preplay.h);
 * the other algorithms share one context, from one thread only.
 */
int hashalg_digest(const struct hashalg *alg, const void *data, size_t len, uint8_t *out);
/* out = H(what fd reads to its end); -errno of a failed read. */
int hashalg_fd(const struct hashalg *alg, int fd, uint8_t *out);
/* pcr = H(pcr || digest), both alg->size bytes. */
int hashalg_extend(const struct hashalg *alg, uint8_t *pcr, const uint8_t *digest);

/* Lower-case hex of len bytes into out (2 * len + 1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

#endif
