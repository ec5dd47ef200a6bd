// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "digestset.h"

static const uint8_t zero[TEMPLATE_DIGEST_SIZE];

/* The digest is a hash already: its first bytes spread well. */
static size_t slot_of(const struct digestset *s, const uint8_t *d)
{
	uint64_t h;

	memcpy(&h, d, sizeof(h));
	return h & (s->size - 1);
}

static size_t find(const struct digestset *s, const uint8_t *d)
{
	size_t i = slot_of(s, d);

	while (memcmp(s->slots[i], zero, sizeof(zero)) && memcmp(s->slots[i], d, sizeof(zero)))
		i = (i + 1) & (s->size - 1);
	return i;
}

static int grow(struct digestset *s)
{
	struct digestset bigger = { .size = s->size ? s->size * 2 : 1024 };

	bigger.slots = calloc(bigger.size, sizeof(*bigger.slots));
	if (!bigger.slots)
		return -ENOMEM;
	for (size_t i = 0; i < s->size; i++)
		if (memcmp(s->slots[i], zero, sizeof(zero)))
			memcpy(bigger.slots[find(&bigger, s->slots[i])], s->slots[i], sizeof(zero));
	free(s->slots);
	s->slots = bigger.slots;
	s->size = bigger.size;
	return 0;
}

int digestset_add(struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE])
{
	size_t i;

	if (digestset_has(s, d))
		return 0;
	if (s->max && s->count + s->has_zero >= s->max) {
		digestset_clear(s);
		s->forgot++;
	}
	if (!memcmp(d, zero, sizeof(zero))) {
		s->has_zero = true;
		return 1;
	}
	if ((s->count + 1) * 4 > s->size * 3 && grow(s)) /* at most 3/4 full */
		return -ENOMEM;
	i = find(s, d);
	memcpy(s->slots[i], d, sizeof(zero));
	s->count++;
	return 1;
}

bool digestset_has(const struct digestset *s, const uint8_t d[TEMPLATE_DIGEST_SIZE])
{
	if (!memcmp(d, zero, sizeof(zero)))
		return s->has_zero;
	return s->size && !memcmp(s->slots[find(s, d)], d, sizeof(zero));
}

int digestset_merge(struct digestset *s, const struct digestset *from)
{
	int err = 0;

	if (from->has_zero)
		err = digestset_add(s, zero);
	for (size_t i = 0; i < from->size && err >= 0; i++)
		if (memcmp(from->slots[i], zero, sizeof(zero)))
			err = digestset_add(s, from->slots[i]);
	return err < 0 ? err : 0;
}

void digestset_clear(struct digestset *s)
{
	if (s->count)
		memset(s->slots, 0, s->size * sizeof(*s->slots));
	s->count = 0;
	s->has_zero = false;
}

void digestset_free(struct digestset *s)
{
	free(s->slots);
	*s = (struct digestset){};
}
