/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A measurement's record into the ring buffer (bima_events): reserved,
 * filled, sequence-numbered and submitted with the wakeup the daemon needs;
 * what is lost when there is no room; and the deadlines of --fail-closed.
 * Part of measure.bpf.c, included where it needs it.
 */
#ifndef BIMA_RECORD_BPF_H
#define BIMA_RECORD_BPF_H

enum emit_result { EMITTED, RING_FULL, PREEMPTED };

/*
 * How the submit of a record reserved when the producer position was
 * before notifies the daemon. The kernel's default wakes the reader only
 * when its consumer position has caught up, and the daemon keeps records
 * (consumer position behind) until a bima_seq entry covers them, so a new
 * record would wait for its poll. Instead: wake it for the record at the
 * position it published before it slept, which lies at or after before;
 * records after that one, while it reads, wake nothing. A wakeup between
 * its store and its own look at the producer position is not lost: the
 * atomic read here comes after the reservation, each side has a full
 * barrier between its store and its load, so either the daemon sees the
 * record and does not sleep, or this sees its position.
 */
static __always_inline __u64 wake_flags(__u64 before)
{
	__u32 zero = 0;
	__u64 *reader = bpf_map_lookup_elem(&bima_reader, &zero);

	if (!reader)
		return 0;
	return __sync_fetch_and_add(reader, 0) >= before ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;
}

#define NO_SEQ (~0ULL)

/*
 * Copy the record into the ring buffer at its size. The sequence number is
 * taken once room is reserved, and kept if the record must be built again:
 * the numbers in the ring buffer have no gaps but for a record lost after
 * that (counted in bima_stats.dropped), so a number missing from the log and
 * not counted lost was taken out of the ring buffer by something else.
 */
static __always_inline enum emit_result emit(struct scratch *s, __u64 gen, struct bima_stats *st,
					     __u64 *seq)
{
	__u32 size = sizeof(s->ev) + s->ev.path_len;
	__u64 before = bpf_ringbuf_query(&bima_events, BPF_RB_PROD_POS), wake;
	struct bpf_dynptr rec;

	if (size > sizeof(s->rec))
		size = sizeof(s->rec);
	if (bpf_ringbuf_reserve_dynptr(&bima_events, size, 0, &rec)) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return RING_FULL;
	}
	if (*seq == NO_SEQ)
		*seq = __sync_fetch_and_add(&st->next_seq, 1);
	s->ev.seq = *seq;
	bpf_dynptr_write(&rec, 0, s->rec, size, 0);
	/* A discarded record at the daemon's position wakes it too: the next one is past it. */
	wake = wake_flags(before);
	if (s->gen != gen) {
		bpf_ringbuf_discard_dynptr(&rec, wake);
		return PREEMPTED;
	}
	bpf_ringbuf_submit_dynptr(&rec, wake);
	return EMITTED;
}

/* What a record holds besides the task. */
struct what {
	__u16 hook;  /* enum bima_hook */
	__u16 flags; /* enum bima_event_flags */
	long algo;
	const __u8 *digest; /* BIMA_DIGEST_MAX bytes */
	struct file *file;  /* the file, or NULL */
	const struct bima_inode *now;
	struct bpf_prog *prog; /* or the BPF program, or NULL */
	const char *name;      /* or what the kernel loaded from memory */
};

/* Build the record and copy it into the ring buffer; EMITTED or RING_FULL. */
static __always_inline enum emit_result record(struct scratch *s, struct bima_stats *st,
					       const struct what *w)
{
	enum emit_result r;
	__u64 seq = NO_SEQ, gen;
	long n;
	int i;

	for (i = 0; i < SCRATCH_RETRIES; i++) {
		gen = __sync_add_and_fetch(&s->gen, 1);
		__builtin_memset(&s->ev, 0, sizeof(s->ev));
		s->ev.hook = w->hook;
		s->ev.flags = w->flags;
		s->ev.hash_algo = w->algo;
		__builtin_memcpy(s->ev.digest, w->digest, BIMA_DIGEST_MAX);
		fill_task(&s->ev);
		if (w->file) {
			fill_inode(w->file, w->now, &s->ev);
			s->ev.path_len = fill_path(w->file, s);
		} else if (w->prog) {
			struct bpf_prog *prog = w->prog; /* CO-RE relocates kernel types only */

			n = bpf_probe_read_kernel_str(s->ev.path, BPF_OBJ_NAME_LEN,
						      BPF_CORE_READ(prog, aux, name));
			s->ev.path_len = n > 0 ? n : 0;
		} else {
			n = bpf_probe_read_kernel_str(s->ev.path, LOAD_NAME_MAX, w->name);
			s->ev.path_len = n > 0 ? n : 0;
		}
		r = emit(s, gen, st, &seq);
		if (r != PREEMPTED) /* else another measurement on this CPU reused the scratch */
			return r;
	}
	return RING_FULL;
}

/* Count one in total and by_hook[hook]: the bound check is the verifier's due. */
static __always_inline void count_hook(__u64 *total, __u64 *by_hook, __u16 hook)
{
	__sync_fetch_and_add(total, 1);
	if (hook < BIMA_HOOKS)
		__sync_fetch_and_add(&by_hook[hook], 1);
}

/* The verdict on what could not be recorded: denied when failing closed, else counted lost. */
static __always_inline int lost(struct bima_stats *st, bool closed, __u16 hook)
{
	if (closed) {
		count_hook(&st->denied, st->denied_by_hook, hook);
		return -EPERM;
	}
	count_hook(&st->dropped, st->dropped_by_hook, hook);
	return 0;
}

/*
 * Failing closed, whether the operation's measurement would not reach the
 * TPM in time: the daemon is gone (its heartbeat older than grace_ns), or
 * entries have waited for the TPM longer than --max-extend-lag allows.
 */
static __always_inline bool out_of_time(const struct bima_config *cfg, struct bima_stats *st,
					bool closed, __u16 hook)
{
	__u64 now;

	if (!closed)
		return false;
	/* Signed: a time written after bpf_ktime_get_ns() is read is not stale. */
	now = bpf_ktime_get_ns();
	if ((__s64)(now - cfg->heartbeat_ns) <= (__s64)cfg->grace_ns &&
	    (!cfg->max_lag_ns || !cfg->unextended_ns ||
	     (__s64)(now - cfg->unextended_ns) <= (__s64)cfg->max_lag_ns))
		return false;
	count_hook(&st->denied, st->denied_by_hook, hook);
	return true;
}

#endif
