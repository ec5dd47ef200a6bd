/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sets of kernel sequence numbers, as ranges. The daemon writes the numbers
 * of each round's records into the log as text ("12-40,42,45-47" in a
 * bima_seq entry); bima verify reads them back and finds what is missing.
 */
#ifndef BIMA_SEQSET_H
#define BIMA_SEQSET_H

#include <stdint.h>

#include "buf.h"

struct seqset {
	struct buf ranges; /* pairs of uint64_t: first, last (inclusive) */
	uint64_t covered;  /* after seqset_merge: how many numbers the set holds */
	uint64_t repeated; /* after seqset_merge: how many were added more than once */
};

int seqset_add(struct seqset *s, uint64_t first, uint64_t last);
/* Add every range of src to s. */
int seqset_add_set(struct seqset *s, const struct seqset *src);
/* Make s a copy of src, reusing its memory. */
int seqset_copy(struct seqset *s, const struct seqset *src);
/* Sort and merge the ranges, counting covered and repeated numbers. */
void seqset_merge(struct seqset *s);
/* The highest number; the set must not be empty. */
uint64_t seqset_max(const struct seqset *s);
size_t seqset_ranges(const struct seqset *s);
/*
 * Append ranges from index *next on to out as text, as long as it stays
 * under max bytes; *next moves past what was written. The set must be merged.
 */
int seqset_format(const struct seqset *s, size_t *next, struct buf *out, size_t max);
/* Add the ranges of a text written by seqset_format(); -EINVAL if malformed. */
int seqset_parse(struct seqset *s, const char *text, size_t len);
void seqset_free(struct seqset *s);

#endif
