/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The SHA-1 of an entry's template data, for the check of its template
 * hash, taken for the entries ahead of it at once (sixteen, hashmb.h) from
 * the bytes the log cursor holds: one at a time it cost verify a tenth of
 * its time. A digest is kept with where its entry ends (segment and byte
 * offset), its data length and the address of its data in the cursor's
 * mapping, and given only for the entry read from there: the same bytes of
 * the same mapped segment. Where the cursor holds no
 * bytes ahead (a compressed segment, the anchor entry) or the CPU cannot
 * hash several at once, each entry is hashed alone.
 */
#ifndef BIMA_VERIFY_AHEAD_H
#define BIMA_VERIFY_AHEAD_H

#include "hashmb.h"
#include "log.h"
#include "template.h"

struct ahead {
	unsigned int segment;
	size_t n, next; /* digests held, and the next one to give */
	size_t end[HASHMB_LANES_MAX];
	uint32_t len[HASHMB_LANES_MAX];
	const uint8_t *data[HASHMB_LANES_MAX];
	uint8_t sha1[HASHMB_LANES_MAX][TEMPLATE_DIGEST_SIZE];
};

/*
 * out = the SHA-1 of e's data; e is the entry c returned last, and its
 * template hash is that of its data (template_digest_is_data_hash).
 */
void ahead_sha1(struct ahead *a, const struct log_cursor *c, const struct template_entry *e,
		uint8_t out[TEMPLATE_DIGEST_SIZE]);

#endif
