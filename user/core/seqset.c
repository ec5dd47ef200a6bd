// SPDX-License-Identifier: GPL-2.0-only
#include <inttypes.h>
#include <stdio.h>

#include "seqset.h"

struct range {
	uint64_t first, last;
};

#define RANGES(s) ((struct range *)(s)->ranges.p)
#define NRANGES(s) ((s)->ranges.len / sizeof(struct range))

int seqset_add(struct seqset *s, uint64_t first, uint64_t last)
{
	struct range r = { first, last }, *end = NRANGES(s) ? &RANGES(s)[NRANGES(s) - 1] : NULL;

	if (first > last)
		return -EINVAL;
	/* The next numbers in order, as a round's records mostly come: the same range. */
	if (end && end->last != UINT64_MAX && first == end->last + 1) {
		end->last = last;
		return 0;
	}
	return buf_put(&s->ranges, &r, sizeof(r));
}

int seqset_add_set(struct seqset *s, const struct seqset *src)
{
	const struct range *r = RANGES(src);
	int err = 0;

	for (size_t i = 0; !err && i < NRANGES(src); i++)
		err = seqset_add(s, r[i].first, r[i].last);
	return err;
}

int seqset_copy(struct seqset *s, const struct seqset *src)
{
	s->ranges.len = 0;
	return seqset_add_set(s, src);
}

static int by_first(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->first < y->first ? -1 : x->first > y->first;
}

void seqset_merge(struct seqset *s)
{
	struct range *r = RANGES(s);
	size_t n = NRANGES(s), out = 0;

	s->covered = s->repeated = 0;
	if (!n)
		return;
	qsort(r, n, sizeof(*r), by_first);
	for (size_t i = 1; i < n; i++) {
		if (r[i].first > r[out].last + 1) {
			r[++out] = r[i];
			continue;
		}
		if (r[i].first <= r[out].last) /* overlap: numbers added twice */
			s->repeated += (r[i].last < r[out].last ? r[i].last : r[out].last) -
				       r[i].first + 1;
		if (r[i].last > r[out].last)
			r[out].last = r[i].last;
	}
	s->ranges.len = (out + 1) * sizeof(*r);
	for (size_t i = 0; i <= out; i++)
		s->covered += r[i].last - r[i].first + 1;
}

uint64_t seqset_max(const struct seqset *s)
{
	return RANGES(s)[NRANGES(s) - 1].last;
}

size_t seqset_ranges(const struct seqset *s)
{
	return NRANGES(s);
}

int seqset_format(const struct seqset *s, size_t *next, struct buf *out, size_t max)
{
	char text[48];
	size_t start = out->len;
	int n, err;

	for (; *next < NRANGES(s); (*next)++) {
		const struct range *r = &RANGES(s)[*next];

		if (r->first == r->last)
			n = snprintf(text, sizeof(text), "%s%" PRIu64, out->len > start ? "," : "",
				     r->first);
		else
			n = snprintf(text, sizeof(text), "%s%" PRIu64 "-%" PRIu64,
				     out->len > start ? "," : "", r->first, r->last);
		if (out->len > start && out->len - start + n > max)
			break;
		err = buf_put(out, text, n);
		if (err)
			return err;
	}
	return 0;
}

int seqset_parse(struct seqset *s, const char *text, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint64_t first = 0, last;
		size_t start = i;
		int err;

		while (i < len && text[i] >= '0' && text[i] <= '9')
			first = first * 10 + (text[i++] - '0');
		if (i == start)
			return -EINVAL;
		last = first;
		if (i < len && text[i] == '-') {
			start = ++i;
			last = 0;
			while (i < len && text[i] >= '0' && text[i] <= '9')
				last = last * 10 + (text[i++] - '0');
			if (i == start)
				return -EINVAL;
		}
		err = seqset_add(s, first, last);
		if (err)
			return err;
		if (i < len && (text[i++] != ',' || i == len))
			return -EINVAL;
	}
	return 0;
}

void seqset_free(struct seqset *s)
{
	buf_free(&s->ranges);
}
