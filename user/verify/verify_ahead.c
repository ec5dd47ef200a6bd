// SPDX-License-Identifier: GPL-2.0-only
/* The SHA-1 of the entries ahead, several at once; the contract is in verify_ahead.h. */
#include <string.h>

#include "verify_ahead.h"

/* Fewer entries than this ahead are hashed one at a time: the lanes cost the same. */
#define AHEAD_MIN 4

static const struct hashalg *sha1_alg(void)
{
	static const struct hashalg *alg;

	return alg = alg ?: hashalg_by_name("sha1", 4);
}

/* e and the entries after it that the cursor holds, up to a call's lanes; their number. */
static size_t look_ahead(struct ahead *a, const struct log_cursor *c,
			 const struct template_entry *e, const uint8_t **msg, size_t *len)
{
	size_t lanes = hashmb_lanes(sha1_alg()), left, n = 1, used;
	char why[TEMPLATE_WHY_LEN];
	struct template_entry next;
	const uint8_t *p;

	a->segment = log_cursor_segment(c);
	a->end[0] = log_cursor_offset(c);
	msg[0] = e->data;
	len[0] = a->len[0] = e->data_len;
	log_cursor_ahead(c, &p, &left);
	while (n < lanes && left && !template_decode(p, left, &next, &used, why) &&
	       template_digest_is_data_hash(&next)) {
		a->end[n] = a->end[n - 1] + used;
		msg[n] = next.data;
		len[n] = a->len[n] = next.data_len;
		p += used;
		left -= used;
		n++;
	}
	return lanes ? n : 0;
}

void ahead_sha1(struct ahead *a, const struct log_cursor *c, const struct template_entry *e,
		uint8_t out[TEMPLATE_DIGEST_SIZE])
{
	const uint8_t *msg[HASHMB_LANES_MAX];
	uint8_t *digest[HASHMB_LANES_MAX];
	size_t len[HASHMB_LANES_MAX], n;

	if (a->next < a->n && a->segment == log_cursor_segment(c) &&
	    a->end[a->next] == log_cursor_offset(c) && a->len[a->next] == e->data_len &&
	    !log_cursor_at_anchor(c)) {
		memcpy(out, a->sha1[a->next++], TEMPLATE_DIGEST_SIZE);
		return;
	}
	a->n = a->next = 0;
	n = log_cursor_at_anchor(c) ? 0 : look_ahead(a, c, e, msg, len);
	if (n < AHEAD_MIN) {
		hashalg_digest(sha1_alg(), e->data, e->data_len, out);
		return;
	}
	for (size_t i = 0; i < n; i++)
		digest[i] = a->sha1[i];
	hashmb_digest(sha1_alg(), n, msg, len, digest);
	memcpy(out, a->sha1[0], TEMPLATE_DIGEST_SIZE);
	a->n = n;
	a->next = 1;
}
