// SPDX-License-Identifier: GPL-2.0-only
/*
 * The collector benchmark's producer (tools/bench/collector.c): a syscall
 * program, which the host kernel runs without BPF-LSM, that copies one
 * record from its context into a ring buffer laid out as bima_events is,
 * so that the daemon's own consumer (user/daemon/ringbuf.c) reads it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define BENCH_RECORD_MAX 4096 /* a record is shorter; longer ones are refused */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* set by the benchmark before load */
} bench_events SEC(".maps");

/* Where the record is copied first: helpers do not take the context as memory. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u8[BENCH_RECORD_MAX]);
} bench_scratch SEC(".maps");

/* The context: the record's length, then the record (a struct bima_event and its path). */
struct bench_push {
	__u32 size;
	__u32 pad;
	__u8 record[BENCH_RECORD_MAX];
};

/* Returns 0 when the record is in the ring buffer, 1 when it is full or the size is bad. */
SEC("syscall")
int bench_push(struct bench_push *ctx)
{
	__u32 size = ctx->size & (BENCH_RECORD_MAX - 1), zero = 0;
	__u8 *rec = bpf_map_lookup_elem(&bench_scratch, &zero);

	if (!rec || size != ctx->size || size == 0 || bpf_probe_read_kernel(rec, size, ctx->record))
		return 1;
	return bpf_ringbuf_output(&bench_events, rec, size, BPF_RB_NO_WAKEUP) ? 1 : 0;
}

char LICENSE[] SEC("license") = "GPL";
