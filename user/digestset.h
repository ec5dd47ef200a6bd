/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sets of SHA-1 template digests: the entries an epoch's log already has,
 * so that the same entry is not logged twice, as IMA does not add an entry
 * whose template digest its list already holds.
 */
#ifndef BIMA_DIGESTSET_H
#define BIMA_DIGESTSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "template.h"

struct digestset {
	uint8_t (*slots)[TEMPLATE_DIGEST_SIZE]; /* open addressing; all zero: empty */
	size_t size;				/* slots, a power of two */
	size_t count;
	bool has_zero; /* the all-zero digest, which cannot sit in a slot */
};

/* Add d; returns 1 if it was new, 0 if the set had it, or -ENOMEM. */
int digestset_add(struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE]);
bool digestset_has(const struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE]);
/* Add every digest of from to s. */
int digestset_merge(struct digestset *s, const struct digestset *from);
/* Empty the set, keeping its memory. */
void digestset_clear(struct digestset *s);
void digestset_free(struct digestset *s);

#endif
