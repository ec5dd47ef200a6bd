/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A BPF ring-buffer consumer that acknowledges records only when told to.
 * libbpf's consumer frees each record as soon as its callback returns; bima
 * frees records only once their log entries are durable, so a daemon that
 * dies (even by SIGKILL) leaves every unlogged record in the ring buffer for
 * the next daemon, and a failed write can be retried from the same records.
 *
 * Three positions, in order: freed (the kernel's consumer position, up to
 * which it may reuse the space) <= kept (records whose entries are durable)
 * <= read (records handed to the reader). The daemon keeps records as soon
 * as their entries are durable, and frees them only once a durable bima_seq
 * entry covers their sequence numbers too: a daemon killed in between
 * leaves them for the next one, which reads them again.
 */
#ifndef BIMA_RINGBUF_H
#define BIMA_RINGBUF_H

#include <stddef.h>
#include <stdint.h>

struct ringbuf;

/* Called for each record; a negative return stops the read there. */
typedef int (*ringbuf_fn)(void *ctx, const void *data, size_t size);

int ringbuf__open(int map_fd, struct ringbuf **out);
void ringbuf__free(struct ringbuf *rb);
/*
 * Publish the read position in reader_fd (bima's bima_reader map, which
 * must be mmapable) each time ringbuf_wait() sleeps, so that the next
 * record wakes it even while records are kept. 0 or -errno.
 */
int ringbuf_publish(struct ringbuf *rb, int reader_fd);
/* Wait up to timeout_ms for records the reader has not seen; >0 if there are some. */
int ringbuf_wait(struct ringbuf *rb, int timeout_ms);
/* Have ringbuf_wait() return early, too, when fd is readable. */
int ringbuf_watch(struct ringbuf *rb, int fd);
/*
 * Hand records not yet read to fn, at most max of them. Returns how many,
 * or fn's negative value. The records stay in the ring buffer until ack.
 */
int ringbuf_read(struct ringbuf *rb, ringbuf_fn fn, void *ctx, unsigned int max);
/* Keep every record read so far: their entries are durable; they stay in the ring buffer. */
void ringbuf_keep(struct ringbuf *rb);
/* Free every record read so far: their entries and their accounting are durable. */
void ringbuf_ack(struct ringbuf *rb);
/* Forget what was read since the last keep or ack; the next read starts there again. */
void ringbuf_rewind(struct ringbuf *rb);
/* Bytes of records that were produced and not yet freed. */
uint64_t ringbuf_pending(const struct ringbuf *rb);
/* Bytes of records that were produced and not yet kept: not yet logged. */
uint64_t ringbuf_unlogged(const struct ringbuf *rb);
/* Bytes of records read and not yet freed: what the reader holds in the ring buffer. */
uint64_t ringbuf_held(const struct ringbuf *rb);
/* The ring buffer's data size in bytes. */
uint64_t ringbuf_size(const struct ringbuf *rb);

#endif
