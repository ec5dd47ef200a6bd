/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sets of SHA-1 template digests: the entries an epoch's log already has,
 * so that the same entry is not logged twice, as IMA does not add an entry
 * whose template digest its list already holds.
 *
 * A set may be bounded (max): anyone who can run files makes new entries,
 * and the epoch's set would otherwise grow with them until the TPM's next
 * epoch. A bounded set that is full forgets everything it holds and starts
 * again, so an entry it forgot is logged again when it comes back. Logging
 * again is always safe; a set only ever answers "has" for a digest that
 * was added to it, so it never makes the daemon leave out a new entry.
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
	bool has_zero;	 /* the all-zero digest, which cannot sit in a slot */
	size_t max;	 /* 0: unbounded; else the digests held at most */
	uint64_t forgot; /* times a full bounded set forgot what it held */
};

/* The bound of an epoch's set: 2^17 digests, in 2^18 slots (5 MiB). */
#define DIGESTSET_EPOCH_MAX (1u << 17)

/*
 * Add d; returns 1 if it was new, 0 if the set had it, or -ENOMEM. A new
 * digest in a full bounded set empties it first (forgot counts it).
 */
int digestset_add(struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE]);
bool digestset_has(const struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE]);
/* Add every digest of from to s. */
int digestset_merge(struct digestset *s, const struct digestset *from);
/* Empty the set, keeping its memory. */
void digestset_clear(struct digestset *s);
void digestset_free(struct digestset *s);

#endif
