/* SPDX-License-Identifier: GPL-2.0-only */
/* A growable byte buffer for building log entries. */
#ifndef BIMA_BUF_H
#define BIMA_BUF_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct buf {
	uint8_t *p;
	size_t len;
	size_t cap;
};

static inline int buf_reserve(struct buf *b, size_t more)
{
	size_t cap = b->cap ? b->cap : 4096;
	uint8_t *p;

	if (b->len + more <= b->cap)
		return 0;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

static inline int buf_put(struct buf *b, const void *data, size_t len)
{
	int err = buf_reserve(b, len);

	if (err)
		return err;
	if (len)
		memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

/* Little-endian u32, the byte order of every length in the log. */
static inline int buf_put_u32(struct buf *b, uint32_t v)
{
	uint8_t le[4] = { v, v >> 8, v >> 16, v >> 24 };

	return buf_put(b, le, 4);
}

static inline int buf_put_u64(struct buf *b, uint64_t v)
{
	return buf_put_u32(b, (uint32_t)v) ?: buf_put_u32(b, (uint32_t)(v >> 32));
}

static inline uint32_t get_u32_le(const uint8_t *p)
{
	return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64_le(const uint8_t *p)
{
	return get_u32_le(p) | (uint64_t)get_u32_le(p + 4) << 32;
}

static inline void buf_free(struct buf *b)
{
	free(b->p);
	*b = (struct buf){};
}

#endif
