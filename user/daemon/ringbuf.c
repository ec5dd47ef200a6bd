// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's BPF ring-buffer layout (kernel/bpf/ringbuf.c): page 0 holds
 * the consumer position, writable by us; page 1 the producer position; the
 * data pages follow, mapped twice so a record never wraps. Each record has
 * an 8-byte header, a u32 length with BUSY (being written) and DISCARD
 * bits, and is padded to 8 bytes. The kernel reuses space up to the
 * consumer position only, which is what ringbuf_ack() moves; ringbuf_keep()
 * moves a position of our own, where a rewind returns to.
 *
 * Wakeups: the kernel's default wakes the reader for a record only when
 * the consumer position has caught up with it, and ours stays behind while
 * records are kept, so the BPF side chooses instead (bpf/measure.bpf.c
 * wake_flags()): it wakes us for the record at the position we publish in
 * the bima_reader map before we sleep, and for no other.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <linux/bpf.h>

#include "ringbuf.h"

struct ringbuf {
	int map_fd, epoll_fd;
	size_t page_size;
	uint64_t mask;
	volatile uint64_t *consumer_pos; /* what the kernel may overwrite up to */
	volatile uint64_t *producer_pos;
	volatile uint64_t *reader_pos; /* bima_reader (mmap): read_pos, published to sleep */
	const uint8_t *data;
	uint64_t kept_pos; /* records logged: a rewind returns here; >= consumer_pos */
	uint64_t read_pos; /* next record for ringbuf_read(), >= kept_pos */
};

int ringbuf__open(int map_fd, struct ringbuf **out)
{
	/*
	 * Edge-triggered: the ring buffer is readable to epoll as long as any
	 * record is not freed, and the records a bima_seq entry does not cover
	 * yet stay, so a level-triggered wait would return at once, and the
	 * loop would spin. A wakeup is what ringbuf_wait() waits for.
	 */
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET };
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	struct ringbuf *rb;
	void *p;
	int err;

	if (bpf_obj_get_info_by_fd(map_fd, &info, &len))
		return -errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF)
		return -EINVAL;
	rb = calloc(1, sizeof(*rb));
	if (!rb)
		return -ENOMEM;
	rb->map_fd = map_fd;
	rb->page_size = sysconf(_SC_PAGESIZE);
	rb->mask = info.max_entries - 1;
	rb->epoll_fd = -1;

	p = mmap(NULL, rb->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);
	if (p == MAP_FAILED)
		goto fail;
	rb->consumer_pos = p;
	p = mmap(NULL, rb->page_size + 2 * (size_t)info.max_entries, PROT_READ, MAP_SHARED, map_fd,
		 rb->page_size);
	if (p == MAP_FAILED)
		goto fail;
	rb->producer_pos = p;
	rb->data = (const uint8_t *)p + rb->page_size;
	rb->read_pos = __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
	rb->kept_pos = rb->read_pos;

	rb->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (rb->epoll_fd < 0 || epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, map_fd, &ev))
		goto fail;
	*out = rb;
	return 0;
fail:
	err = -errno;
	ringbuf__free(rb);
	return err;
}

void ringbuf__free(struct ringbuf *rb)
{
	if (!rb)
		return;
	if (rb->consumer_pos)
		munmap((void *)rb->consumer_pos, rb->page_size);
	if (rb->producer_pos)
		munmap((void *)rb->producer_pos, rb->page_size + 2 * (rb->mask + 1));
	if (rb->epoll_fd >= 0)
		close(rb->epoll_fd);
	if (rb->reader_pos)
		munmap((void *)rb->reader_pos, rb->page_size);
	free(rb);
}

int ringbuf_publish(struct ringbuf *rb, int reader_fd)
{
	void *p = mmap(NULL, rb->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, reader_fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	rb->reader_pos = p;
	return 0;
}

int ringbuf_wait(struct ringbuf *rb, int timeout_ms)
{
	struct epoll_event ev;
	int n;

	/*
	 * Publish where we sleep, then look at the producer: the store, a full
	 * barrier, the load, as the BPF side reserves, then reads this with an
	 * atomic (a full barrier too): either we see its record here, or it
	 * sees this position and wakes us.
	 */
	if (rb->reader_pos) {
		__atomic_store_n(rb->reader_pos, rb->read_pos, __ATOMIC_SEQ_CST);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	}
	if (__atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE) != rb->read_pos)
		return 1;
	/*
	 * Unpublished, we are woken only for a record written when the
	 * consumer had caught up, and ours lags until ack: the timeout is
	 * then the other way out.
	 */
	n = epoll_wait(rb->epoll_fd, &ev, 1, timeout_ms);
	if (n < 0)
		return -errno;
	return __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE) != rb->read_pos;
}

int ringbuf_watch(struct ringbuf *rb, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(rb->epoll_fd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

int ringbuf_read(struct ringbuf *rb, ringbuf_fn fn, void *ctx, unsigned int max)
{
	uint64_t prod = __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE);
	unsigned int n = 0;
	int err;

	while (rb->read_pos < prod && n < max) {
		const uint32_t *hdr = (const uint32_t *)(rb->data + (rb->read_pos & rb->mask));
		uint32_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t len = word & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);

		if (word & BPF_RINGBUF_BUSY_BIT)
			break; /* still being written; records after it wait too */
		if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
			err = fn(ctx, (const uint8_t *)hdr + BPF_RINGBUF_HDR_SZ, len);
			if (err < 0)
				return err;
			n++;
		}
		rb->read_pos += (len + BPF_RINGBUF_HDR_SZ + 7) & ~7ull;
	}
	return n;
}

void ringbuf_keep(struct ringbuf *rb)
{
	rb->kept_pos = rb->read_pos;
}

void ringbuf_ack(struct ringbuf *rb)
{
	rb->kept_pos = rb->read_pos;
	__atomic_store_n(rb->consumer_pos, rb->read_pos, __ATOMIC_RELEASE);
}

void ringbuf_rewind(struct ringbuf *rb)
{
	rb->read_pos = rb->kept_pos;
}

uint64_t ringbuf_pending(const struct ringbuf *rb)
{
	return __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
}

uint64_t ringbuf_unlogged(const struct ringbuf *rb)
{
	return __atomic_load_n(rb->producer_pos, __ATOMIC_ACQUIRE) - rb->kept_pos;
}

uint64_t ringbuf_held(const struct ringbuf *rb)
{
	return rb->read_pos - __atomic_load_n(rb->consumer_pos, __ATOMIC_ACQUIRE);
}

uint64_t ringbuf_size(const struct ringbuf *rb)
{
	return rb->mask + 1;
}
