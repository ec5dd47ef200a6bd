// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "snapshot.h"
#include "tpm.h"

int snapshot_format(const struct snapshot *s, struct buf *out)
{
	char line[2 * HASHALG_MAX_SIZE + 256], hex[2 * HASHALG_MAX_SIZE + 1];
	int n, err;

	char hashes_xor[2 * TEMPLATE_DIGEST_SIZE + 1];

	hex_encode(s->segment_sha256, sizeof(s->segment_sha256), hex);
	hex_encode(s->segment_xor, sizeof(s->segment_xor), hashes_xor);
	n = snprintf(line, sizeof(line),
		     "id=%" PRIu64 " prev=%" PRIu64 " epoch=%" PRIu32 "-%" PRIu32
		     " entries=%" PRIu64 " seq=%" PRIu64 " segment=%" PRIu32
		     " segment_sha256=%s segment_xor=%s pcr=%" PRIu32,
		     s->id, s->prev, s->reset, s->restart, s->entries, s->seq, s->segment, hex,
		     hashes_xor, s->pcr);
	err = buf_put(out, line, n);
	for (size_t b = 0; !err && b < s->nbanks; b++) {
		hex_encode(s->pcr_value[b], s->banks[b]->size, hex);
		n = snprintf(line, sizeof(line), " %s=%s", s->banks[b]->name, hex);
		err = buf_put(out, line, n);
	}
	return err;
}

static int unhex(const char *hex, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len / 2; i++) {
		unsigned int byte;

		if (sscanf(hex + 2 * i, "%2x", &byte) != 1)
			return -EINVAL;
		out[i] = byte;
	}
	return len % 2 ? -EINVAL : 0;
}

int snapshot_parse(const char *text, size_t len, struct snapshot *s)
{
	char copy[1024], seg[65], hashes_xor[41];
	int at = 0;

	if (len >= sizeof(copy))
		return -EINVAL;
	memcpy(copy, text, len);
	copy[len] = '\0';
	memset(s, 0, sizeof(*s));
	if (sscanf(copy,
		   "id=%" SCNu64 " prev=%" SCNu64 " epoch=%" SCNu32 "-%" SCNu32 " entries=%" SCNu64
		   " seq=%" SCNu64 " segment=%" SCNu32
		   " segment_sha256=%64[0-9a-f] segment_xor=%40[0-9a-f] pcr=%" SCNu32 "%n",
		   &s->id, &s->prev, &s->reset, &s->restart, &s->entries, &s->seq, &s->segment, seg,
		   hashes_xor, &s->pcr, &at) != 10 ||
	    !at || strlen(seg) != 64 || unhex(seg, 64, s->segment_sha256) ||
	    strlen(hashes_xor) != 40 || unhex(hashes_xor, 40, s->segment_xor))
		return -EINVAL;
	for (char *tok = strtok(copy + at, " "); tok; tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		const struct hashalg *alg = eq ? hashalg_by_name(tok, eq - tok) : NULL;

		if (!alg || s->nbanks == BIMA_ANCHOR_BANKS || strlen(eq + 1) != 2 * alg->size ||
		    unhex(eq + 1, 2 * alg->size, s->pcr_value[s->nbanks]))
			return -EINVAL;
		s->banks[s->nbanks++] = alg;
	}
	return s->pcr < TPM_PCR_COUNT ? 0 : -ERANGE;
}

int snapshot_segment_digests(const uint8_t *p, size_t len, uint8_t sha256[32],
			     uint8_t hashes_xor[TEMPLATE_DIGEST_SIZE])
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	size_t used;

	memset(hashes_xor, 0, TEMPLATE_DIGEST_SIZE);
	for (size_t off = 0; off < len; off += used) {
		if (template_decode(p + off, len - off, &e, &used, why))
			return -EBADMSG;
		for (int i = 0; i < TEMPLATE_DIGEST_SIZE; i++)
			hashes_xor[i] ^= e.digest[i];
	}
	return hashalg_digest(hashalg_by_name("sha256", 6), p, len, sha256);
}
