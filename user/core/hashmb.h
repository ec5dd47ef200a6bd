/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SHA-1 and SHA-2 of several messages at once, in the lanes of AVX-512
 * registers: sixteen SHA-1 or SHA-256 (32-bit lanes), or eight SHA-384 or
 * SHA-512 (64-bit lanes). A replay hashes the template data of every entry
 * in every bank: short messages that do not depend on one another, which
 * cost a third to a half of hashing them one at a time. The digests are
 * those of OpenSSL's SHA1(), SHA256(), SHA384() and SHA512(), for messages of any
 * length (tests/unit/test_hash.c). Where the CPU lacks AVX-512 (or is no
 * x86), hashmb_lanes() is 0 and the caller hashes one message at a time.
 */
#ifndef BIMA_HASHMB_H
#define BIMA_HASHMB_H

#include <stddef.h>
#include <stdint.h>

#include "hashalg.h"

#define HASHMB_LANES_MAX 16

/* How many messages of alg one hashmb_digest() takes: 16, 8, or 0 if none. */
size_t hashmb_lanes(const struct hashalg *alg);
/*
 * out[i] = alg(msg[i], len[i]) for i below n, n at most hashmb_lanes(alg),
 * which must not be 0. Safe from several threads at once.
 */
void hashmb_digest(const struct hashalg *alg, size_t n, const uint8_t *const msg[],
		   const size_t len[], uint8_t *const out[]);

#endif
