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
#define SB_I_VERSION (1 << 23)		     /* super_block.s_flags */
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

/* What a rule is matched against: the operation, the task and the file. */
struct subject {
	struct bima_policy *policy;
	__u32 hook, mask;
	__u32 uid, euid, suid, gid, egid, sgid, fowner, fgroup;
	bool cap_setuid, cap_setgid;
	__u64 fsmagic;
	__u64 fsuuid[2];
	struct super_block *sb;
	/* The file system type's name, read at the first rule with fsname=: one byte past
	 * the longest a rule compares, so that a longer name matches none. */
	bool fsname_read;
	union {
		char fsname[BIMA_FSNAME_LEN + 8];
		__u64 fsname_words[(BIMA_FSNAME_LEN + 8) / 8];
	};
	bool file;  /* false: the file conditions cannot match (BPF_CHECK) */
	int action; /* the first matching rule's, or 0 */
};

static __always_inline bool id_match(__u32 id, __u8 op, __u32 want)
{
	switch (op) {
	case BIMA_OP_LT:
		return id < want;
	case BIMA_OP_GT:
		return id > want;
	default:
		return id == want;
	}
}

/* As IMA: a task that may change its id matches by its saved and real id too. */
static __always_inline bool effective_match(__u32 eid, __u32 sid, __u32 id, bool may_change,
					    __u8 op, __u32 want)
{
	return id_match(eid, op, want) ||
	       (may_change && (id_match(sid, op, want) || id_match(id, op, want)));
}

static __always_inline bool fsname_match(const struct bima_rule *r, struct subject *sj)
{
	struct super_block *sb = sj->sb;
	__u64 want[BIMA_FSNAME_LEN / 8];

	if (!sj->fsname_read) {
		sj->fsname_read = true;
		/* A probe read: sb, kept in the loop's context, is no longer a BTF pointer. */
		bpf_probe_read_kernel_str(sj->fsname, sizeof(sj->fsname),
					  BPF_CORE_READ(sb, s_type, name));
	}
	__builtin_memcpy(want, r->fsname, sizeof(want));
	/* A name of BIMA_FSNAME_LEN bytes or more has no NUL in the words compared. */
	return want[0] == sj->fsname_words[0] && want[1] == sj->fsname_words[1];
}

static bool rule_matches(const struct bima_rule *r, struct subject *sj)
{
	__u64 uuid[2];

	if ((r->flags & BIMA_RULE_FUNC) && r->func != sj->hook)
		return false;
	if (!sj->file && (r->flags & BIMA_RULE_FILE))
		return false;
	if ((r->flags & BIMA_RULE_MASK) && r->mask != sj->mask)
		return false;
	if ((r->flags & BIMA_RULE_INMASK) && !(r->mask & sj->mask))
		return false;
	if ((r->flags & BIMA_RULE_UID) && !id_match(sj->uid, r->uid_op, r->uid))
		return false;
	if ((r->flags & BIMA_RULE_EUID) &&
	    !effective_match(sj->euid, sj->suid, sj->uid, sj->cap_setuid, r->euid_op, r->euid))
		return false;
	if ((r->flags & BIMA_RULE_GID) && !id_match(sj->gid, r->gid_op, r->gid))
		return false;
	if ((r->flags & BIMA_RULE_EGID) &&
	    !effective_match(sj->egid, sj->sgid, sj->gid, sj->cap_setgid, r->egid_op, r->egid))
		return false;
	if ((r->flags & BIMA_RULE_FOWNER) && !id_match(sj->fowner, r->fowner_op, r->fowner))
		return false;
	if ((r->flags & BIMA_RULE_FGROUP) && !id_match(sj->fgroup, r->fgroup_op, r->fgroup))
		return false;
	if ((r->flags & BIMA_RULE_FSMAGIC) && r->fsmagic != sj->fsmagic)
		return false;
	if (r->flags & BIMA_RULE_FSUUID) {
		__builtin_memcpy(uuid, r->fsuuid, sizeof(uuid));
		if (uuid[0] != sj->fsuuid[0] || uuid[1] != sj->fsuuid[1])
			return false;
	}
	if ((r->flags & BIMA_RULE_FSNAME) && !fsname_match(r, sj))
		return false;
	if ((r->flags & BIMA_RULE_CGROUP) &&
	    bpf_get_current_ancestor_cgroup_id(r->cgroup_level) != r->cgroup_id)
		return false;
	return true;
}

static long match_rule(__u32 i, void *ctx)
{
	struct subject *sj = ctx;
	struct bima_rule *r;

	if (i >= sj->policy->nrules)
		return 1;
	barrier_var(i); /* keep the mask below, the bound the verifier sees */
	r = &sj->policy->rules[i & (BIMA_RULES_MAX - 1)];
	if (!rule_matches(r, sj))
		return 0;
	sj->action = r->action;
	return 1; /* the first match decides */
}

#define POLICY_RETRIES 4

/*
 * Whether the policy in force measures this operation by a task of these
 * credentials. An evaluation that keeps meeting policy switches measures:
 * better one entry too many.
 */
static __always_inline bool policy_measures_as(struct inode *inode, __u32 hook, __u32 mask,
					       struct bima_stats *st, const struct cred *cred)
{
	struct subject sj = {
		.hook = hook,
		.mask = mask,
		.uid = cred->uid.val,
		.euid = cred->euid.val,
		.suid = cred->suid.val,
		.gid = cred->gid.val,
		.egid = cred->egid.val,
		.sgid = cred->sgid.val,
		.file = inode != NULL,
	};
	struct super_block *sb;
	__u32 caps = 0, slot;
	__u64 gen;
	int i;

	if (inode) { /* NULL where there is no file: the file conditions never match */
		sb = inode->i_sb;
		sj.sb = sb;
		sj.fowner = inode->i_uid.val;
		sj.fgroup = inode->i_gid.val;
		sj.fsmagic = sb->s_magic;
		bpf_probe_read_kernel(sj.fsuuid, sizeof(sj.fsuuid), &sb->s_uuid);
	}
	/* kernel_cap_t is u32[2] before Linux 6.3, a u64 since: bits 6, 7 in the first word. */
	bpf_probe_read_kernel(&caps, sizeof(caps), &cred->cap_effective);
	sj.cap_setuid = caps & (1u << CAP_SETUID);
	sj.cap_setgid = caps & (1u << CAP_SETGID);
	for (i = 0; i < POLICY_RETRIES; i++) {
		gen = __sync_fetch_and_add(&st->policy_gen, 0);
		slot = gen & 1;
		sj.policy = bpf_map_lookup_elem(&bima_policy, &slot);
		if (!sj.policy)
			return true;
		sj.action = 0;
		bpf_loop(BIMA_RULES_MAX, match_rule, &sj, 0);
		if (__sync_fetch_and_add(&st->policy_gen, 0) == gen)
			return sj.action == BIMA_MEASURE;
	}
	return true;
}

/* policy_measures_as() for the current task. */
static __always_inline bool policy_measures(struct inode *inode, enum bima_hook hook, __u32 mask,
					    struct bima_stats *st)
{
	return policy_measures_as(inode, hook, mask, st, bpf_get_current_task_btf()->cred);
}

/*
 * Operations IMA evaluates twice, as two funcs, the first that measures
 * naming the record; each stands for its two in the hooks, never in a
 * record:
 * - MMAP_BOTH, an executable mapping that asked for PROT_EXEC:
 *   MMAP_CHECK_REQPROT (the protection asked for), then MMAP_CHECK (the
 *   protection given); one made executable only by READ_IMPLIES_EXEC is
 *   MMAP_CHECK alone;
 * - BPRM_BOTH, an exec: BPRM_CHECK (by the task as it is), then
 *   CREDS_CHECK (by creds, bprm->cred: the credentials the kernel
 *   prepared for the exec, which an LSM's transition has changed at this
 *   hook, a setuid not yet).
 */
#define MMAP_BOTH 0xff
#define BPRM_BOTH 0xfe

/* The hook a record of this operation names, or 0 when the policy measures none of it. */
static __always_inline __u32 policy_hook(struct inode *inode, __u32 hook, __u32 mask,
					 struct bima_stats *st, const struct cred *creds)
{
	if (hook == MMAP_BOTH) {
		if (policy_measures(inode, BIMA_HOOK_MMAP_CHECK_REQPROT, mask, st))
			return BIMA_HOOK_MMAP_CHECK_REQPROT;
		hook = BIMA_HOOK_MMAP_CHECK;
	} else if (hook == BPRM_BOTH) {
		if (policy_measures(inode, BIMA_HOOK_BPRM_CHECK, mask, st))
			return BIMA_HOOK_BPRM_CHECK;
		return creds && policy_measures_as(inode, BIMA_HOOK_CREDS_CHECK, mask, st, creds)
			       ? BIMA_HOOK_CREDS_CHECK
			       : 0;
	}
	return policy_measures(inode, hook, mask, st) ? hook : 0;
}

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

#include "overlay.bpf.h"

/*
 * Whether the filesystem, by its magic and s_iflags, can tell bima that a
 * file changed: by its change cookie (i_version) with the times, by the
 * times and size alone, or not at all (the file is measured every time, as
 * IMA does for them).
 */
static __always_inline bool cacheable(__u64 magic, __u64 iflags)
{
	switch (magic) {
	case 0x65735546: /* fuse: the server changes files behind the kernel's back */
	case 0x794c7630: /* overlayfs: its real inode is checked instead (content_inode) */
	case 0x01021997: /* 9p */
	case 0x6969:	 /* nfs */
	case 0xfe534d42: /* smb3 */
	case 0xff534d42: /* cifs */
	case 0x00c36400: /* ceph */
		return false;
	}
	return !(iflags & SB_I_IMA_UNVERIFIABLE_SIGNATURE);
}

/*
 * name(inode, now): the file's state now, as the cache compares it, read
 * with R; and whether its filesystem can tell changes (cacheable).
 */
#define DEFINE_READ_STATE(name, R, read_times)                                                   \
	static __always_inline bool name(struct inode *inode, struct bima_inode *now)            \
	{                                                                                        \
		struct super_block *sb = R(inode, i_sb);                                         \
                                                                                                 \
		if (R(sb, s_flags) & SB_I_VERSION)                                               \
			now->i_version = R(inode, i_version.counter) >> I_VERSION_QUERIED_SHIFT; \
		now->size = R(inode, i_size);                                                    \
		read_times(inode, now);                                                          \
		return cacheable(R(sb, s_magic), R(sb, s_iflags));                               \
	}

DEFINE_READ_STATE(read_state_load, LOAD, read_times_load)
DEFINE_READ_STATE(read_state_probe, PROBE, read_times_probe)

static __always_inline bool same_state(const struct bima_inode *a, const struct bima_inode *b)
{
	return a->i_version == b->i_version && a->size == b->size && a->ctime_sec == b->ctime_sec &&
	       a->ctime_nsec == b->ctime_nsec && a->mtime_sec == b->mtime_sec &&
	       a->mtime_nsec == b->mtime_nsec && a->real_ino == b->real_ino &&
	       a->real_gen == b->real_gen && a->real_dev == b->real_dev &&
	       a->real_generation == b->real_generation;
}

/*
 * The inode that holds the content of file, whose inode is inode: inode
 * itself, or on overlayfs the real inode beneath (overlay.bpf.h), whose
 * state the cache then compares. NULL: an overlay file whose real inode
 * cannot be told, which is not cached.
 */
static __always_inline struct inode *content_inode(struct file *file, struct inode *inode)
{
	return on_overlay(inode) ? overlay_real_inode(file, inode) : inode;
}

/*
 * A cache hit, on this CPU's counter. Atomic all the same: a sleepable
 * program can be preempted by another on the same CPU, and a plain
 * increment would then lose one; on a line no other CPU writes, the
 * atomic add costs no cache line transfer.
 */
static __always_inline void count_hit(void)
{
	struct bima_cpu_stats *cs;
	__u32 zero = 0;

	cs = bpf_map_lookup_elem(&bima_cpu_stats, &zero);
	if (cs)
		__sync_fetch_and_add(&cs->cache_hits, 1);
}

/*
 * Whether the cache holds the file: hashed in the state it has now, and no
 * writer closed it since (on overlayfs, it or the real inode beneath: the
 * real inode's identity and writers' closes are in the state). A plain
 * load of gen, no atomic (which BPF makes a full barrier): a hit needs no
 * order between the state read and gen read. The hit stands for the moment
 * gen was read: no writer had closed the file since it was hashed; a writer
 * still open then (ToMToU, which check_violations logs) may have changed it
 * unseen, as with IMA, whenever the state was read. A measurement that goes
 * on to hash the file reads gen again, with a barrier (measure_file).
 */
static __always_inline bool cache_holds(struct bima_inode *c, const struct bima_inode *now)
{
	return c->valid_gen == *(volatile __u64 *)&c->gen + 1 && same_state(c, now);
}

/*
 * Keep the file as hashed in state now, gen being the writers' closes
 * counted before the hashing began. The state may be older than what was
 * hashed, never newer: a writer's change the state cannot show (the same
 * size within one clock tick, on a filesystem without i_version) comes with
 * the writer's close, which moves gen on. A close during the hashing: the
 * hash may be of the content before it, and the entry is not kept. A close
 * after the test below: valid_gen is then gen + 1 of a gen that has moved
 * on, and does not hold. A measurement that began before another one's
 * writer closed cannot undo the later one's entry but at worst makes it
 * hash again.
 */
static __always_inline void cache_keep(struct bima_inode *c, const struct bima_inode *now,
				       __u64 gen)
{
	if (__sync_fetch_and_add(&c->gen, 0) != gen)
		return;
	c->i_version = now->i_version;
	c->ctime_sec = now->ctime_sec;
	c->mtime_sec = now->mtime_sec;
	c->size = now->size;
	c->ctime_nsec = now->ctime_nsec;
	c->mtime_nsec = now->mtime_nsec;
	c->real_ino = now->real_ino;
	c->real_gen = now->real_gen;
	c->real_dev = now->real_dev;
	c->real_generation = now->real_generation;
	c->valid_gen = gen + 1;
}

/* The violation state: measured while open for reading (bima.h, read_measured). */
static __always_inline void mark_read(struct file *file, struct bima_inode *c)
{
	if (!(file->f_mode & FMODE_WRITE) && !c->read_measured)
		c->read_measured = 1;
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

/* The verdict on what could not be recorded: denied when failing closed, else counted lost. */
static __always_inline int lost(struct bima_stats *st, bool closed)
{
	if (closed) {
		__sync_fetch_and_add(&st->denied, 1);
		return -EPERM;
	}
	__sync_fetch_and_add(&st->dropped, 1);
	return 0;
}

/*
 * Failing closed, whether the operation's measurement would not reach the
 * TPM in time: the daemon is gone (its heartbeat older than grace_ns), or
 * entries have waited for the TPM longer than --max-extend-lag allows.
 */
static __always_inline bool out_of_time(const struct bima_config *cfg, struct bima_stats *st,
					bool closed)
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
	__sync_fetch_and_add(&st->denied, 1);
	return true;
}

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
		/* A real inode first measured: its writers' closes count from now. */
		if (cache && !held)
			cache = real_gen(real, &now, true);
	}
	/* After the policy: only what it would measure, or a violation, pays for the walk. */
	if (own_file(cfg, file))
		return 0;
	closed = fail_closed(cfg, file, w.hook);
	if (out_of_time(cfg, st, closed))
		return -EPERM;

	hash_file(&w, digest, st, violation);
	if (record(s, st, &w) != EMITTED)
		return lost(st, closed);
	if (cached && !violation) {
		mark_read(file, cached);
		/*
		 * The state read before hashing: a change meanwhile is seen next
		 * time. On overlayfs, a copy-up meanwhile may have had the hashing
		 * read the upper file: kept only if the real inode is still the same.
		 */
		if (cache && w.algo >= 0 && content_inode(file, inode) == real)
			cache_keep(cached, &now, gen);
	}
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

/* The daemon's own operations are not measured: no feedback from its reads. */
SEC("lsm.s/bprm_check_security")
int BPF_PROG(bima_bprm_check, struct linux_binprm *bprm, int ret)
{
	if (ret != 0 || is_daemon())
		return ret;
	return measure_file(bprm->file, BPRM_BOTH, BIMA_MAY_EXEC, 0, bprm->cred);
}

SEC("lsm.s/mmap_file")
int BPF_PROG(bima_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	__u32 hook = reqprot & PROT_EXEC ? MMAP_BOTH : BIMA_HOOK_MMAP_CHECK;

	if (ret != 0)
		return ret;
	if (!file || !(prot & PROT_EXEC) || is_daemon())
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
	if (ret != 0 || is_daemon())
		return ret;
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
	if (out_of_time(cfg, st, closed))
		return -EPERM;
	__sync_fetch_and_add(&st->hash_errors, 1);
	return record(s, st, &w) == EMITTED ? 0 : lost(st, closed);
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
	if (out_of_time(cfg, st, closed))
		return -EPERM;
	bpf_probe_read_kernel(digest, BPF_TAG_SIZE, &prog->tag);
	if (record(s, st, &w) != EMITTED)
		return lost(st, closed);
	bpf_map_update_elem(&bima_progs_seen, &id, &one, BPF_ANY);
	return 0;
}

/*
 * A writer closes the file: what the cache knows of it may be stale, and a
 * measurement hashing it now may have hashed it before the change (bima.h,
 * gen; cache_keep). Of an overlay file's real inode too, whether written
 * through the overlay or not (bima_real).
 */
SEC("lsm/file_free_security")
int BPF_PROG(bima_file_free, struct file *file)
{
	struct bima_inode *cached;

	if (!(file->f_mode & FMODE_WRITE))
		return 0;
	cached = bpf_inode_storage_get(&bima_inodes, file->f_inode, 0, 0);
	if (cached)
		__sync_fetch_and_add(&cached->gen, 1);
	/* Overlayfs's own files beneath an overlay file too: they are files on the real inode. */
	real_written(file->f_inode);
	return 0;
}

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
#include "protect.bpf.h"
