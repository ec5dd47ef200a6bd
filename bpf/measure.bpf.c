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
#define EAGAIN 11
#define ENOSPC 28
#define CAP_SETGID 6
#define CAP_SETUID 7
#define S_IFMT 00170000
#define S_IFREG 0100000
#define FMODE_WRITE 0x2
#define SB_I_IMA_UNVERIFIABLE_SIGNATURE 0x20 /* super_block.s_iflags */
#define I_VERSION_QUERIED_SHIFT 1
#define BPF_TAG_SIZE 8
#define BPF_OBJ_NAME_LEN 16
#define ENOENT 2
#define EINVAL 22
#define LOAD_NAME_MAX 32

char LICENSE[] SEC("license") = "GPL";

/*
 * Measurements for the daemon. When it is full, the reservation fails and
 * the event is counted in bima_stats.dropped (or, failing closed, denied),
 * in total and by hook; the daemon logs the loss. Size set by the daemon
 * (--ringbuf-size).
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

/*
 * Counters of the hot path, a copy a CPU (bima.h), which user space sums
 * (loader_cpu_stats): no cache line that every CPU's opens write.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bima_cpu_stats);
} bima_cpu_stats SEC(".maps");

/* Set by the daemon after load; one entry, always present. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bima_config);
} bima_config SEC(".maps");

/*
 * The ring-buffer position (producer_pos counting) the daemon reads next,
 * which it stores through its mmap before it sleeps: the record reserved
 * there wakes it, and the others do not (wake_flags()).
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_MMAPABLE);
	__type(key, __u32);
	__type(value, __u64);
} bima_reader SEC(".maps");

/* Which process is the daemon (bima.h); written only by BPF: the loader freezes it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bima_daemon);
} bima_daemon SEC(".maps");

/*
 * The measurement policy: two slots, bima_stats.policy_gen & 1 in force.
 * Written from userspace (the idle slot only) and switched by
 * bima_policy_switch, which logs the switch.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct bima_policy);
} bima_policy SEC(".maps");

/*
 * The re-measurement cache and the violation state: one struct bima_inode
 * per measured inode, on any filesystem, freed with the inode. Its memory
 * is bounded by the kernel's inode cache: an inode the kernel evicts takes
 * its entry along, and the file is measured again when it comes back (the
 * daemon does not log the same entry twice). When an entry cannot be
 * allocated, the file is measured every time, and a writer's open of it
 * while it is open for reading is no violation.
 */
struct {
	__uint(type, BPF_MAP_TYPE_INODE_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct bima_inode);
} bima_inodes SEC(".maps");

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

/* Linux 6.1 keeps the times in timespec64s (ctime until 6.6, mtime until 6.7). */
struct inode___old {
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

/* Then __i_ctime and __i_mtime, until 6.11 split them into seconds and nanoseconds. */
struct inode___v66 {
	struct timespec64 __i_ctime;
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

/* The nanoseconds without the flag bits multigrain timestamps keep above them. */
#define NSEC_MASK ((1u << 30) - 1)

/*
 * Two ways to read a field of a kernel object. LOAD: a direct load, one
 * instruction (CO-RE relocated), for the pointers whose type the verifier
 * knows: the hooks' arguments, the current task, and what is reached from
 * them by loads (a NULL one reads as 0). PROBE: bpf_probe_read_kernel, a
 * helper call a field, for the pointers it does not know: what was read
 * with PROBE, as the overlay's real inode (overlay.bpf.h), reached through
 * a file's private_data.
 */
#define LOAD(p, f) ((p)->f)
#define PROBE(p, f) BPF_CORE_READ(p, f)

/* name(inode, st): the inode's change and modification times into st, read with R. */
#define DEFINE_READ_TIMES(name, R)                                                   \
	static __always_inline void name(struct inode *inode, struct bima_inode *st) \
	{                                                                            \
		struct inode___v66 *v66 = (void *)inode;                             \
		struct inode___old *old = (void *)inode;                             \
                                                                                     \
		if (bpf_core_field_exists(inode->i_ctime_sec)) {                     \
			st->ctime_sec = R(inode, i_ctime_sec);                       \
			st->ctime_nsec = R(inode, i_ctime_nsec);                     \
		} else if (bpf_core_field_exists(v66->__i_ctime)) {                  \
			st->ctime_sec = R(v66, __i_ctime.tv_sec);                    \
			st->ctime_nsec = R(v66, __i_ctime.tv_nsec);                  \
		} else {                                                             \
			st->ctime_sec = R(old, i_ctime.tv_sec);                      \
			st->ctime_nsec = R(old, i_ctime.tv_nsec);                    \
		}                                                                    \
		if (bpf_core_field_exists(inode->i_mtime_sec)) {                     \
			st->mtime_sec = R(inode, i_mtime_sec);                       \
			st->mtime_nsec = R(inode, i_mtime_nsec);                     \
		} else if (bpf_core_field_exists(v66->__i_mtime)) {                  \
			st->mtime_sec = R(v66, __i_mtime.tv_sec);                    \
			st->mtime_nsec = R(v66, __i_mtime.tv_nsec);                  \
		} else {                                                             \
			st->mtime_sec = R(old, i_mtime.tv_sec);                      \
			st->mtime_nsec = R(old, i_mtime.tv_nsec);                    \
		}                                                                    \
		st->ctime_nsec &= NSEC_MASK;                                         \
		st->mtime_nsec &= NSEC_MASK;                                         \
	}

DEFINE_READ_TIMES(read_times_load, LOAD)
DEFINE_READ_TIMES(read_times_probe, PROBE)

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

static __always_inline void fill_inode(struct file *file, const struct bima_inode *now,
				       struct bima_event *ev)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);

	ev->ino = BPF_CORE_READ(inode, i_ino);
	ev->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	ev->generation = BPF_CORE_READ(inode, i_generation);
	ev->i_version = BPF_CORE_READ(inode, i_version.counter);
	ev->ctime_sec = now->ctime_sec;
	ev->ctime_nsec = now->ctime_nsec;
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

/*
 * Whether the current task is one of the daemon's threads: its tgid, and
 * its process's start time, which a process that reuses the pid has not.
 */
static __always_inline bool is_daemon(void)
{
	__u32 zero = 0;
	struct bima_daemon *d = bpf_map_lookup_elem(&bima_daemon, &zero);

	return d && d->tgid && d->tgid == bpf_get_current_pid_tgid() >> 32 &&
	       d->start_boottime == bpf_get_current_task_btf()->group_leader->start_boottime;
}

/* bima's code (bima.h): the files a daemon mapped executable; user/daemon/loader.c fills it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BIMA_CODE_MAX);
	__type(key, struct bima_file_id);
	__type(value, __u8); /* enum bima_code_kind */
} bima_code SEC(".maps");

/* Which kind of bima's code inode is (enum bima_code_kind), or 0. */
static __always_inline __u8 code_kind(const struct bima_config *cfg, struct inode *inode)
{
	struct bima_file_id id;
	__u8 *kind;

	if (!inode)
		return 0;
	id.ino = inode->i_ino;
	id.dev = inode->i_sb->s_dev;
	if (cfg->exempt_ino && id.ino == cfg->exempt_ino && id.dev == cfg->exempt_dev)
		return BIMA_CODE_PROGRAM;
	kind = bpf_map_lookup_elem(&bima_code, &id);
	return kind ? *kind : 0;
}

/* Whether inode is the bima program: the daemon's, or an upgrade of it a daemon recorded. */
static __always_inline bool is_bima(const struct bima_config *cfg, struct inode *inode)
{
	return code_kind(cfg, inode) == BIMA_CODE_PROGRAM;
}

/* A process: its host tgid and its thread group leader's start time. */
struct proc_id {
	__u64 tgid;
	__u64 start_boottime;
};

/*
 * Processes running the bima program that mapped executable code that is
 * not bima's (bpf/protect.bpf.h): they get none of bima's exemptions. An
 * entry goes when its process execs or exits.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct proc_id);
	__type(value, __u8);
} bima_tainted SEC(".maps");

static __always_inline struct proc_id current_proc(void)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct proc_id id = { .tgid = bpf_get_current_pid_tgid() >> 32 };

	id.start_boottime = task->group_leader->start_boottime;
	return id;
}

/* Whether inode is bima's code: the bima program, or a file in bima_code. */
static __always_inline bool bima_code_file(const struct bima_config *cfg, struct inode *inode)
{
	return code_kind(cfg, inode) != 0;
}

/*
 * Whether the current task runs bima's code only: its program is bima and
 * its process has mapped no other code (bima_tainted). Not a process that
 * runs bima with a library of its own (LD_PRELOAD, LD_AUDIT, dlopen), whose
 * code would ride on bima's exemptions.
 */
static __always_inline bool runs_bima_only(const struct bima_config *cfg)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct proc_id id;

	if (!is_bima(cfg, task->mm->exe_file->f_inode))
		return false;
	id = current_proc();
	return !bpf_map_lookup_elem(&bima_tainted, &id);
}

/*
 * Whether an operation whose measurement cannot be recorded is denied:
 * under BIMA_CFG_FAIL_CLOSED, unless it is bima starting, so that a daemon
 * can always start again: exec'ing or mapping the bima program, and, by a
 * process that runs bima's code only (runs_bima_only), mapping bima's
 * libraries (bima_code), opening files and getting BPF programs. Not the
 * exec of another program from bima, nor a kernel read, nor mapping any
 * other code: such code, once mapped, would run unmeasured.
 */
static __always_inline bool fail_closed(const struct bima_config *cfg, struct file *file,
					enum bima_hook hook)
{
	struct inode *inode = file ? file->f_inode : NULL;

	if (!(cfg->flags & BIMA_CFG_FAIL_CLOSED))
		return false;
	if (inode && is_bima(cfg, inode))
		return false;
	if (!runs_bima_only(cfg))
		return true;
	switch (hook) {
	case BIMA_HOOK_MMAP_CHECK:
	case BIMA_HOOK_MMAP_CHECK_REQPROT:
		return !bima_code_file(cfg, inode);
	case BIMA_HOOK_FILE_CHECK:
	case BIMA_HOOK_BPF_CHECK:
		return false;
	default:
		return true;
	}
}

#include "policy.bpf.h"

#include "overlay.bpf.h"

#include "cache.bpf.h"

#include "record.bpf.h"

/* How far up a file's ancestors own_file looks: the deepest is LOG_DIR/epoch-R-S/FILE. */
#define OWN_DEPTH 3

/*
 * Whether the file is bima's own (bima_config.own_ino): never measured and
 * never a violation, whatever the policy says, as IMA never measures its
 * securityfs lists. By inode, so whatever the path or mount it is reached by.
 */
static __always_inline bool own_file(const struct bima_config *cfg, struct file *file)
{
	struct dentry *d = BPF_CORE_READ(file, f_path.dentry);
	struct inode *inode;
	__u64 dev, ino;
	int i, j;

	for (i = 0; i < OWN_DEPTH; i++) { /* a file system's root is its own parent */
		inode = BPF_CORE_READ(d, d_inode);
		ino = BPF_CORE_READ(inode, i_ino);
		dev = BPF_CORE_READ(inode, i_sb, s_dev);
		for (j = 0; j < BIMA_OWN_MAX; j++)
			if (cfg->own_ino[j] && cfg->own_ino[j] == ino && cfg->own_dev[j] == dev)
				return true;
		d = BPF_CORE_READ(d, d_parent);
	}
	return false;
}

/*
 * The state of inode, file's, into now, for the record and the cache: on
 * overlayfs, that of the real inode beneath (*real, NULL if none). Returns
 * whether the cache may be used: the filesystem tells changes.
 */
static __always_inline bool file_state(struct file *file, struct inode *inode, struct inode **real,
				       struct bima_inode *now)
{
	if (inode->i_sb->s_magic != OVERLAYFS_SUPER_MAGIC) {
		*real = inode;
		return read_state_load(inode, now);
	}
	*real = overlay_real_inode(file, inode);
	return read_state_probe(*real ?: inode, now) && *real;
}

/* Hash the file into digest, w's (w->algo), or, for a violation, none. */
static __always_inline void hash_file(struct what *w, __u8 *digest, struct bima_stats *st,
				      __u16 violation)
{
	if (violation) {
		__sync_fetch_and_add(&st->violations, 1);
		w->algo = BIMA_KERNEL_SHA256; /* IMA's zero digest is of its hash algorithm */
		return;
	}
	/* The one call that sleeps: hash into the stack, before the scratch is touched. */
	w->algo = bpf_ima_file_hash(w->file, digest, BIMA_DIGEST_MAX);
	if (w->algo < 0)
		__sync_fetch_and_add(&st->hash_errors, 1);
}

/*
 * Measure file into the ring buffer if the policy says so and the file
 * changed since it was measured, mask being the access (MAY_*) as IMA's
 * rules see it; with violation, a violation record without a digest
 * instead. Returns the hook's verdict, 0 or -EPERM. Not for the daemon's
 * own operations: the hooks test is_daemon() first.
 */
/*
 * After a measurement is recorded: the file was read, and its entry keeps
 * the state read before hashing if it may be cached (cache), so that a
 * change meanwhile is seen next time. On overlayfs, a copy-up meanwhile
 * may have had the hashing read the upper file: kept only if the real
 * inode is still the same.
 */
static __always_inline void keep_measured(struct file *file, struct inode *inode,
					  struct inode *real, struct bima_inode *cached,
					  const struct bima_inode *now, __u64 gen, bool cache)
{
	mark_read(file, cached);
	if (cache && content_inode(file, inode) == real)
		cache_keep(cached, now, gen);
}

static __always_inline int measure_file(struct file *file, __u32 hook, __u32 mask, __u16 violation,
					const struct cred *creds)
{
	__u8 digest[BIMA_DIGEST_MAX] = {};
	struct inode *inode = file->f_inode, *real;
	struct bima_inode now = {}, *cached = NULL;
	struct what w = { .hook = hook == MMAP_BOTH   ? BIMA_HOOK_MMAP_CHECK
				  : hook == BPRM_BOTH ? BIMA_HOOK_BPRM_CHECK
						      : hook,
			  .flags = violation,
			  .digest = digest,
			  .file = file,
			  .now = &now };
	struct bima_config *cfg;
	struct bima_stats *st;
	struct scratch *s;
	bool closed, cache, held = false;
	__u32 zero = 0;
	__u64 gen = 0;

	if (!inode || (inode->i_mode & S_IFMT) != S_IFREG)
		return 0; /* as IMA: regular files only */
	cache = file_state(file, inode, &real, &now);
	if (!violation) {
		/*
		 * The cache first, the cheaper test: a file measured and unchanged
		 * needs no record, whatever the policy says now. The entry is on
		 * the file's inode, the overlay inode on overlayfs (its violation
		 * state and IMA's "once for each overlay inode"); the state it
		 * compares is the real inode's, which needs its bima_real entry.
		 * A hit reads no other map.
		 */
		held = cache && (real == inode || real_gen(real, &now, false));
		cached = held ? bpf_inode_storage_get(&bima_inodes, inode, 0, 0) : NULL;
		if (cached && cache_holds(cached, &now)) {
			mark_read(file, cached);
			count_hit();
			return 0;
		}
	}
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	s = bpf_map_lookup_elem(&bima_scratch, &zero);
	if (!cfg || !st || !s)
		return 0;
	if (!violation) {
		w.hook = policy_hook(inode, hook, mask, st, creds);
		if (!w.hook)
			return 0;
		/* On every filesystem: the violation state needs the entry too. */
		if (!cached)
			cached = bpf_inode_storage_get(&bima_inodes, inode, 0,
						       BPF_LOCAL_STORAGE_GET_F_CREATE);
		if (cached) /* before the hashing, a full barrier: see cache_keep */
			gen = __sync_fetch_and_add(&cached->gen, 0);
		/* A real inode first measured: its writers' opens count from now. */
		if (cache && !held)
			cache = real_gen(real, &now, true);
		/* After both gens: a writer not open then opens later, and moves one on. */
		if (cache && writers(inode, real))
			cache = false;
	}
	/* After the policy: only what it would measure, or a violation, pays for the walk. */
	if (own_file(cfg, file))
		return 0;
	closed = fail_closed(cfg, file, w.hook);
	if (out_of_time(cfg, st, closed, w.hook))
		return -EPERM;

	hash_file(&w, digest, st, violation);
	if (record(s, st, &w) != EMITTED)
		return lost(st, closed, w.hook);
	if (cached && !violation)
		keep_measured(file, inode, real, cached, &now, gen, cache && w.algo >= 0);
	return 0;
}

/*
 * IMA's read/write violations, for an open or executable mapping: read
 * while another opens it for writing (ToMToU) when this access is measured,
 * or opened for writing while it is open for reading and was measured
 * (open_writers). Each is a record of its own, before the measurement.
 */
static __always_inline int check_violations(struct file *file, __u32 hook, __u32 mask)
{
	struct inode *inode = file->f_inode;
	struct bima_inode *cached;
	struct bima_stats *st;
	__u32 zero = 0;

	if (!inode)
		return 0;
	if (file->f_mode & FMODE_WRITE) {
		if (!bpf_core_field_exists(inode->i_readcount) || !inode->i_readcount.counter)
			return 0;
		/* Once for each measurement while open for reading, as IMA; on any filesystem. */
		cached = bpf_inode_storage_get(&bima_inodes, inode, 0, 0);
		if (!cached || __sync_val_compare_and_swap(&cached->read_measured, 1, 0) != 1)
			return 0;
		return measure_file(file, hook, mask, BIMA_EV_OPEN_WRITERS, NULL);
	}
	if (inode->i_writecount.counter <= 0)
		return 0;
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	hook = st ? policy_hook(inode, hook, mask, st, NULL) : 0;
	return hook ? measure_file(file, hook, mask, BIMA_EV_TOMTOU, NULL) : 0;
}

/*
 * The cache's hit path (cache_hit), first: unless this open or mapping may
 * be a violation (check_violations), which the full path tells.
 */
static __always_inline bool hit_first(struct file *file)
{
	struct inode *inode = file->f_inode;
	bool reading = !(file->f_mode & FMODE_WRITE);

	if (!inode)
		return false;
	if (!reading) {
		if (bpf_core_field_exists(inode->i_readcount) && inode->i_readcount.counter)
			return false;
	} else if (inode->i_writecount.counter > 0) {
		return false;
	}
	return cache_hit(file, inode, reading);
}

/*
 * The daemon's own operations are not measured: no feedback from its
 * reads. After the hit path: a hit records nothing.
 */
SEC("lsm.s/bprm_check_security")
int BPF_PROG(bima_bprm_check, struct linux_binprm *bprm, int ret)
{
	struct file *file = bprm->file;

	if (ret != 0)
		return ret;
	if ((file->f_inode && cache_hit(file, file->f_inode, true)) || is_daemon())
		return 0;
	return measure_file(file, BPRM_BOTH, BIMA_MAY_EXEC, 0, bprm->cred);
}

SEC("lsm.s/mmap_file")
int BPF_PROG(bima_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	__u32 hook = reqprot & PROT_EXEC ? MMAP_BOTH : BIMA_HOOK_MMAP_CHECK;

	if (ret != 0)
		return ret;
	if (!file || !(prot & PROT_EXEC) || hit_first(file) || is_daemon())
		return 0;
	ret = check_violations(file, hook, BIMA_MAY_EXEC);
	return ret ?: measure_file(file, hook, BIMA_MAY_EXEC, 0, NULL);
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
	if (!file || is_daemon())
		return 0;
	return measure_file(file, hook, BIMA_MAY_READ, 0, NULL);
}

/*
 * FILE_CHECK, where IMA has it: after the open is complete (the file can be
 * read only then), with the open's access mask. Linux 6.9 and later.
 */
SEC("lsm.s/file_post_open")
int BPF_PROG(bima_file_post_open, struct file *file, int mask, int ret)
{
	if (ret != 0)
		return ret;
	if (hit_first(file) || is_daemon())
		return 0;
	mask &= BIMA_MAY_EXEC | BIMA_MAY_WRITE | BIMA_MAY_READ | BIMA_MAY_APPEND;
	ret = check_violations(file, BIMA_HOOK_FILE_CHECK, mask);
	return ret ?: measure_file(file, BIMA_HOOK_FILE_CHECK, mask, 0, NULL);
}

/*
 * What the kernel loads from memory, where there is no file to hash: a
 * module from init_module(), a kexec_load() image, firmware handed over by
 * userspace, an IMA policy written as data. Each is logged with a zero
 * digest under the name of its source, so a verifier sees a load it cannot
 * check (IMA measures some of these buffers; BPF cannot hash them).
 */
SEC("lsm/kernel_load_data")
int BPF_PROG(bima_kernel_load_data, enum kernel_load_data_id id, bool contents, int ret)
{
	__u8 digest[BIMA_DIGEST_MAX] = {};
	struct what w = { .algo = -ENOENT, .digest = digest };
	struct bima_config *cfg;
	struct bima_stats *st;
	struct scratch *s;
	__u32 zero = 0;
	bool closed;

	if (ret != 0)
		return ret;
	switch (id) {
	case LOADING_MODULE:
		w.hook = BIMA_HOOK_MODULE_CHECK;
		w.name = "<init_module>";
		break;
	case LOADING_FIRMWARE:
		w.hook = BIMA_HOOK_FIRMWARE_CHECK;
		w.name = "<firmware data>";
		break;
	case LOADING_KEXEC_IMAGE:
		w.hook = BIMA_HOOK_KEXEC_KERNEL_CHECK;
		w.name = "<kexec_load>";
		break;
	case LOADING_POLICY:
		w.hook = BIMA_HOOK_POLICY_CHECK;
		w.name = "<policy data>";
		break;
	default:
		return 0;
	}
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	s = bpf_map_lookup_elem(&bima_scratch, &zero);
	if (!cfg || !st || !s || !policy_measures(NULL, w.hook, BIMA_MAY_READ, st))
		return 0;
	closed = fail_closed(cfg, NULL, w.hook);
	if (out_of_time(cfg, st, closed, w.hook))
		return -EPERM;
	__sync_fetch_and_add(&st->hash_errors, 1);
	return record(s, st, &w) == EMITTED ? 0 : lost(st, closed, w.hook);
}

/* Programs already recorded, by id: a program is logged once, not at each new fd of it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, __u8);
} bima_progs_seen SEC(".maps");

/*
 * BPF program loads (bima's BPF_CHECK; IMA has none): the kernel makes an
 * fd for a program it loaded, or found by id or pin. The record holds the
 * program's tag (the sha1-based digest of its instructions, as bpftool
 * shows it) in digest and its name in path.
 */
SEC("lsm/bpf_prog")
int BPF_PROG(bima_bpf_prog, struct bpf_prog *prog, int ret)
{
	__u8 digest[BIMA_DIGEST_MAX] = {};
	struct what w = { .hook = BIMA_HOOK_BPF_CHECK, .digest = digest, .prog = prog };
	struct bima_config *cfg;
	struct bima_stats *st;
	struct scratch *s;
	__u32 zero = 0, id;
	__u8 one = 1;
	bool closed;

	if (ret != 0)
		return ret;
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	st = bpf_map_lookup_elem(&bima_stats, &zero);
	s = bpf_map_lookup_elem(&bima_scratch, &zero);
	if (!cfg || !st || !s || is_daemon())
		return 0;
	id = BPF_CORE_READ(prog, aux, id);
	if (bpf_map_lookup_elem(&bima_progs_seen, &id) ||
	    !policy_measures(NULL, BIMA_HOOK_BPF_CHECK, 0, st))
		return 0;
	closed = fail_closed(cfg, NULL, BIMA_HOOK_BPF_CHECK);
	if (out_of_time(cfg, st, closed, BIMA_HOOK_BPF_CHECK))
		return -EPERM;
	bpf_probe_read_kernel(digest, BPF_TAG_SIZE, &prog->tag);
	if (record(s, st, &w) != EMITTED)
		return lost(st, closed, w.hook);
	bpf_map_update_elem(&bima_progs_seen, &id, &one, BPF_ANY);
	return 0;
}

#include "daemon.bpf.h"
#include "protect.bpf.h"

/*
 * Any open, before it returns: a writer's makes the cache forget the file
 * (bima.h, gen; cache_writer), of an overlay file's real inode too, whether
 * opened through the overlay or not (bima_real); and self-protection
 * refuses writing bima's files (protect_write). Reading changes nothing.
 */
SEC("lsm/file_open")
int BPF_PROG(bima_file_open, struct file *file, int ret)
{
	if (ret != 0)
		return ret;
	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	cache_writer(file->f_inode);
	return protect_write(file);
}
