// SPDX-License-Identifier: GPL-2.0-only
/* The SHA-1 of the entries ahead, several at once; the contract is in verify_ahead.h. */
#include <string.h>

#include "buf.h"
#include "ima_fields.h"
#include "verify_ahead.h"

/* Fewer entries than this ahead are hashed one at a time: the lanes cost the same. */
#define AHEAD_MIN 4

static const struct hashalg *sha1_alg(void)
{
	static const struct hashalg *alg;

	return alg = alg ?: hashalg_by_name("sha1", 4);
}

/*
 * Where the data of the entry at p (left bytes) is, and its size: the
 * layout template_decode() reads, for an entry whose template hash is the
 * hash of its data; false for anything else (a violation, the legacy "ima"
 * template, a length out of range or past left), and for the rest of the
 * segment. A digest is given only for the entry that ends at the same byte
 * with the same data length, which the cursor then decodes from the same
 * bytes: so a misreading here can cost a digest, never give a wrong one.
 */
static bool peek(const uint8_t *p, size_t left, const uint8_t **data, uint32_t *len)
{
	static const uint8_t zero[TEMPLATE_DIGEST_SIZE];
	size_t off = 4 + TEMPLATE_DIGEST_SIZE + 4;
	uint32_t name_len;

	if (left < off || !memcmp(p + 4, zero, sizeof(zero)))
		return false;
	name_len = get_u32_le(p + off - 4);
	if (name_len == 0 || name_len > TEMPLATE_NAME_MAX || left - off < (size_t)name_len + 4 ||
	    (name_len == 3 && !memcmp(p + off, IMA_LEGACY, 3)))
		return false;
	off += name_len;
	*len = get_u32_le(p + off);
	off += 4;
	if (*len > TEMPLATE_DATA_MAX || left - off < *len)
		return false;
	*data = p + off;
	return true;
}

/* e and the entries after it that the cursor holds, up to a call's lanes; their number. */
static size_t look_ahead(struct ahead *a, const struct log_cursor *c,
			 const struct template_entry *e, const uint8_t **msg, size_t *len)
{
	size_t lanes = hashmb_lanes(sha1_alg()), left, n = 1, used;
	const uint8_t *p;
	uint32_t data_len;

	a->segment = log_cursor_segment(c);
	a->end[0] = log_cursor_offset(c);
	msg[0] = a->data[0] = e->data;
	len[0] = a->len[0] = e->data_len;
	log_cursor_ahead(c, &p, &left);
	while (n < lanes && left && peek(p, left, &msg[n], &data_len)) {
		used = msg[n] + data_len - p;
		a->end[n] = a->end[n - 1] + used;
		a->data[n] = msg[n];
		len[n] = a->len[n] = data_len;
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
	    a->data[a->next] == e->data && !log_cursor_at_anchor(c)) {
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
