// SPDX-License-Identifier: GPL-2.0-only
/*
 * bima's BPF-LSM measurement hooks: hash the file with the kernel's IMA
 * hashing (bpf_ima_file_hash) and hand one variable-size record per
 * measurement to the daemon through a ring buffer.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "bima.h"

#define PROT_EXEC 0x4
#define EPERM 1

char LICENSE[] SEC("license") = "GPL";

/*
 * Measurements for the daemon. When it is full, the reservation fails and
 * the event is counted in bima_stats.dropped (or, failing closed, denied);
 * the daemon logs the loss. Size set by the daemon (--ringbuf-size).
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 22);
} bima_events SEC(".maps");

/* Counters shared by all CPUs; one entry, always present. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bima_stats);
} bima_stats SEC(".maps");

/* Set by the daemon after load; one entry, always present. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bima_config);
} bima_config SEC(".maps");

/*
 * Per-CPU place to build a record before it is copied into the ring buffer
 * at its real size. Sleepable programs do not migrate but can be preempted,
 * and another program run on the same CPU may then reuse the buffer: gen
 * detects that, and the record is discarded and built again.
 */
struct scratch {
	__u64 gen;
	union {
		struct bima_event ev;
		__u8 rec[sizeof(struct bima_event) + BIMA_PATH_MAX];
	};
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} bima_scratch SEC(".maps");

#define SCRATCH_RETRIES 4

/* Linux 6.1 keeps the change time in one timespec64 (before 6.6). */
struct inode___old {
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

/* Linux 6.6 to 6.10 named it __i_ctime. */
struct inode___v66 {
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

static __always_inline void read_ctime(struct inode *inode, struct bima_event *ev)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		ev->ctime_sec = BPF_CORE_READ(inode, i_ctime_sec);
		ev->ctime_nsec = BPF_CORE_READ(inode, i_ctime_nsec);
	} else if (bpf_core_field_exists(struct inode___v66, __i_ctime)) {
		struct inode___v66 *in = (void *)inode;

		ev->ctime_sec = BPF_CORE_READ(in, __i_ctime.tv_sec);
		ev->ctime_nsec = BPF_CORE_READ(in, __i_ctime.tv_nsec);
	} else {
		struct inode___old *in = (void *)inode;

		ev->ctime_sec = BPF_CORE_READ(in, i_ctime.tv_sec);
		ev->ctime_nsec = BPF_CORE_READ(in, i_ctime.tv_nsec);
	}
}

static __always_inline void fill_task(struct bima_event *ev)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	ev->tgid = pid_tgid >> 32;
	ev->pid = (__u32)pid_tgid;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->mnt_ns = BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
}

static __always_inline void fill_inode(struct file *file, struct bima_event *ev)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	ev->ino = BPF_CORE_READ(inode, i_ino);
	ev->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ev->generation = BPF_CORE_READ(inode, i_generation);
	ev->i_version = BPF_CORE_READ(inode, i_version.counter);
	read_ctime(inode, ev);
}

/* Path of the file into s->path; returns its length with the NUL. */
static __always_inline __u32 fill_path(struct file *file, struct scratch *s)
{
	long n;

	n = bpf_d_path((struct path *)&file->f_path, s->ev.path, BIMA_PATH_MAX);
	if (n > 0 && n <= BIMA_PATH_MAX)
		return n;
	/* Unreachable from this task's root (or too long): keep the name. */
	s->ev.flags |= BIMA_EV_PATH_DENTRY;
	n = bpf_probe_read_kernel_str(s->ev.path, BIMA_PATH_MAX,
				      BPF_CORE_READ(file, f_path.dentry, d_name.name));
	return n > 0 ? n : 0;
}

static __always_inline bool is_bima(const struct bima_config *cfg, struct inode *inode)
{
	return cfg->exempt_ino && BPF_CORE_READ(inode, i_ino) == cfg->exempt_ino &&
	       BPF_CORE_READ(inode, i_sb, s_dev) == cfg->exempt_dev;
}

/*
 * Whether an operation whose measurement cannot be recorded is denied: under
 * BIMA_CFG_FAIL_CLOSED, unless the file is the bima program or the task runs
 * it (its loader maps its libraries), so a daemon can always start again.
 */
static __always_inline bool fail_closed(const struct bima_config *cfg, struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();

	if (!(cfg->flags & BIMA_CFG_FAIL_CLOSED))
		return false;
	return !is_bima(cfg, BPF_CORE_READ(file, f_inode)) &&
	       !is_bima(cfg, BPF_CORE_READ(task, mm, exe_file, f_inode));
}

enum emit_result { EMITTED, RING_FULL, PREEMPTED };

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
	if (s->gen != gen) {
		bpf_ringbuf_discard_dynptr(&rec, 0);
		return PREEMPTED;
	}
	bpf_ringbuf_submit_dynptr(&rec, 0);
	return EMITTED;
}

/* Measure file into the ring buffer; returns the hook's verdict, 0 or -EPERM. */
static __always_inline int measure_file(struct file *file, enum bima_hook hook)
{
	__u8 digest[BIMA_DIGEST_MAX] = {};
	struct bima_config *cfg;
	struct bima_stats *st;
	struct scratch *s;
	bool closed;
	__u32 zero = 0;
	__u64 seq = NO_SEQ, gen;
	long algo;
	int i;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	s = bpf_map_lookup_elem(&bima_scratch, &zero);
	if (!cfg || !st || !s)
		return 0;
	if (cfg->daemon_tgid == bpf_get_current_pid_tgid() >> 32)
		return 0; /* no feedback from the daemon's own reads */
	closed = fail_closed(cfg, file);
	/* Signed: a heartbeat written after bpf_ktime_get_ns() is read is not stale. */
	if (closed && (__s64)(bpf_ktime_get_ns() - cfg->heartbeat_ns) > (__s64)cfg->grace_ns) {
		__sync_fetch_and_add(&st->denied, 1);
		return -EPERM; /* the daemon is gone: nothing would record this */
	}

	/* The one call that sleeps: hash into the stack, before the scratch is touched. */
	algo = bpf_ima_file_hash(file, digest, sizeof(digest));
	if (algo < 0)
		__sync_fetch_and_add(&st->hash_errors, 1);

	for (i = 0; i < SCRATCH_RETRIES; i++) {
		gen = __sync_add_and_fetch(&s->gen, 1);
		__builtin_memset(&s->ev, 0, sizeof(s->ev));
		s->ev.hook = hook;
		s->ev.hash_algo = algo;
		__builtin_memcpy(s->ev.digest, digest, sizeof(digest));
		fill_task(&s->ev);
		fill_inode(file, &s->ev);
		s->ev.path_len = fill_path(file, s);
		switch (emit(s, gen, st, &seq)) {
		case EMITTED:
			return 0;
		case RING_FULL:
			goto lost;
		case PREEMPTED:
			break; /* another measurement on this CPU reused the scratch */
		}
	}
lost:
	if (closed) {
		__sync_fetch_and_add(&st->denied, 1);
		return -EPERM;
	}
	__sync_fetch_and_add(&st->dropped, 1);
	return 0;
}

SEC("lsm.s/bprm_check_security")
int BPF_PROG(bima_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret != 0)
		return ret;
	return measure_file(bprm->file, BIMA_HOOK_BPRM_CHECK);
}

SEC("lsm.s/mmap_file")
int BPF_PROG(bima_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	if (ret != 0)
		return ret;
	if (!file || !(prot & PROT_EXEC))
		return 0;
	return measure_file(file, BIMA_HOOK_MMAP_CHECK);
}

/* Files the kernel reads itself; the file names the reason, as in IMA. */
SEC("lsm.s/kernel_read_file")
int BPF_PROG(bima_kernel_read_file, struct file *file, enum kernel_read_file_id id, bool contents,
	     int ret)
{
	enum bima_hook hook;

	if (ret != 0)
		return ret;
	switch (id) {
	case READING_MODULE:
		hook = BIMA_HOOK_MODULE_CHECK;
		break;
	case READING_FIRMWARE:
		hook = BIMA_HOOK_FIRMWARE_CHECK;
		break;
	case READING_KEXEC_IMAGE:
		hook = BIMA_HOOK_KEXEC_KERNEL_CHECK;
		break;
	case READING_KEXEC_INITRAMFS:
		hook = BIMA_HOOK_KEXEC_INITRAMFS_CHECK;
		break;
	case READING_POLICY:
		hook = BIMA_HOOK_POLICY_CHECK;
		break;
	default:
		return 0; /* X.509 certificates and what a newer kernel adds: not measured */
	}
	if (!file)
		return 0;
	return measure_file(file, hook);
}
