/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The records and programs of the daemon's side: cgroups made and removed,
 * the policy switch, the daemon's claim and heartbeat, the snapshot anchors.
 * Part of measure.bpf.c, included where it needs it.
 */
#ifndef BIMA_DAEMON_BPF_H
#define BIMA_DAEMON_BPF_H

/*
 * Attribution: a cgroup v2 cgroup made or removed, so that the daemon can
 * name the cgroup (and the container) of a measurement even after the
 * cgroup is gone (bima.h). cgroup v1 hierarchies (hierarchy_id other than
 * 0) are not the task's cgroup of bpf_get_current_cgroup_id(). A record
 * the ring buffer has no room for is only a name the daemon then looks up
 * itself; it takes no sequence number and is not counted lost.
 *
 * A record is only as long as its path: anyone with a delegated subtree can
 * make cgroups as fast as mkdir(2) goes, and full-size records would fill
 * the ring buffer at a fraction of the rate. The record is built in a
 * scratch of its own and copied out with its exact size. Both tracepoints
 * are called under the kernel's trace_cgroup_path_lock, with interrupts
 * off, so no other program run can be using a CPU's scratch meanwhile.
 */
union cgroup_scratch {
	struct bima_event ev;
	__u8 rec[sizeof(struct bima_event) + BIMA_CGROUP_PATH_MAX];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, union cgroup_scratch);
} bima_cgroup_scratch SEC(".maps");

static __always_inline int cgroup_record(struct cgroup *cgrp, const char *path, __u16 type)
{
	union cgroup_scratch *s;
	struct bpf_dynptr rec;
	__u32 zero = 0, size;
	__u64 before;
	long n = 0;

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;
	s = bpf_map_lookup_elem(&bima_cgroup_scratch, &zero);
	if (!s)
		return 0;
	__builtin_memset(&s->ev, 0, sizeof(s->ev));
	s->ev.hook = type;
	s->ev.cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	s->ev.tgid = bpf_get_current_pid_tgid() >> 32;
	s->ev.pid = (__u32)bpf_get_current_pid_tgid();
	bpf_get_current_comm(s->ev.comm, sizeof(s->ev.comm));
	if (path) {
		n = bpf_probe_read_kernel_str(s->ev.path, BIMA_CGROUP_PATH_MAX, path);
		if (n < 0 || n > BIMA_CGROUP_PATH_MAX)
			n = 0;
		if (n == BIMA_CGROUP_PATH_MAX)
			s->ev.flags = BIMA_EV_PATH_CUT;
		s->ev.path_len = n;
	}
	size = sizeof(s->ev) + (__u32)n;
	if (size > sizeof(*s))
		return 0;
	/* Reserved, not bpf_ringbuf_output(): its wakeup is chosen once its place is known. */
	before = bpf_ringbuf_query(&bima_events, BPF_RB_PROD_POS);
	if (bpf_ringbuf_reserve_dynptr(&bima_events, size, 0, &rec)) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return 0;
	}
	bpf_dynptr_write(&rec, 0, s, size, 0);
	bpf_ringbuf_submit_dynptr(&rec, wake_flags(before));
	return 0;
}

SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(bima_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_record(cgrp, path, BIMA_REC_CGROUP_MKDIR);
}

SEC("tp_btf/cgroup_rmdir")
int BPF_PROG(bima_cgroup_rmdir, struct cgroup *cgrp, const char *path)
{
	return cgroup_record(cgrp, NULL, BIMA_REC_CGROUP_RMDIR);
}

/*
 * Put the policy in the idle slot in force, and log that it did: a record
 * named BIMA_POLICY_NAME carrying the policy's digest, in sequence with the
 * measurements. Run by BPF_PROG_RUN (`bima policy load`, or the daemon at
 * load). Fails with -EAGAIN when another switch came first, and with
 * -ENOSPC, switching nothing, when the ring buffer has no room for the record.
 */
SEC("syscall")
int bima_policy_switch(struct bima_policy_switch *ctx)
{
	__u64 gen = ctx->gen;
	__u32 zero = 0, slot = (gen + 1) & 1;
	struct bima_policy *p;
	struct bima_stats *st;
	struct bima_event *ev;
	__u64 before;

	st = bpf_map_lookup_elem(&bima_stats, &zero);
	p = bpf_map_lookup_elem(&bima_policy, &slot);
	if (!st || !p)
		return -EAGAIN;
	before = bpf_ringbuf_query(&bima_events, BPF_RB_PROD_POS);
	ev = bpf_ringbuf_reserve(&bima_events, sizeof(*ev) + sizeof(BIMA_POLICY_NAME), 0);
	if (!ev)
		return -ENOSPC;
	if (__sync_val_compare_and_swap(&st->policy_gen, gen, gen + 1) != gen) {
		bpf_ringbuf_discard(ev, wake_flags(before));
		return -EAGAIN;
	}
	__builtin_memset(ev, 0, sizeof(*ev));
	ev->seq = __sync_fetch_and_add(&st->next_seq, 1);
	ev->hook = BIMA_REC_POLICY;
	ev->hash_algo = BIMA_KERNEL_SHA256;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	ev->pid = (__u32)bpf_get_current_pid_tgid();
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	__builtin_memcpy(ev->digest, p->digest, sizeof(p->digest));
	ev->path_len = sizeof(BIMA_POLICY_NAME);
	__builtin_memcpy(ev->path, BIMA_POLICY_NAME, sizeof(BIMA_POLICY_NAME));
	bpf_ringbuf_submit(ev, wake_flags(before));
	return 0;
}

/*
 * The last BIMA_ANCHORS_MAX snapshot anchors (bima.h). The loader freezes
 * the map (BPF_MAP_FREEZE): no fd writes it, however it was obtained, and
 * only bima_anchor_add does.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, BIMA_ANCHORS_MAX);
	__type(key, __u32);
	__type(value, struct bima_anchor);
} bima_anchors SEC(".maps");

static long highest_anchor(__u32 i, void *ctx)
{
	struct bima_anchor *a = bpf_map_lookup_elem(&bima_anchors, &i);
	__u64 *highest = ctx;

	if (a && a->id > *highest)
		*highest = a->id;
	return 0;
}

/*
 * Record a snapshot anchor (BPF_PROG_RUN, by the daemon after it extended
 * the snapshot_aggregate entry). ctx->id, the id the entry names, must be
 * above every id the map holds (a log that outlived a reload of the
 * programs goes on from its own): ids only go up, and -EINVAL refuses
 * anything else. The sequence number is the kernel's own, whatever ctx says.
 */
SEC("syscall")
int bima_anchor_add(struct bima_anchor *ctx)
{
	__u64 highest = 0, id = ctx->id;
	__u32 zero = 0, slot;
	struct bima_anchor *a;
	struct bima_stats *st;

	bpf_loop(BIMA_ANCHORS_MAX, highest_anchor, &highest, 0);
	if (id <= highest)
		return -EINVAL;
	slot = id % BIMA_ANCHORS_MAX;
	a = bpf_map_lookup_elem(&bima_anchors, &slot);
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	if (!a || !st)
		return -EINVAL;
	bpf_probe_read_kernel(a, sizeof(*a), ctx);
	a->id = id;
	a->seq = st->next_seq;
	return 0;
}

/* Self-protection: its hooks use the maps above. */

#endif
