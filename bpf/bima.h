/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one header shared by the BPF programs and the bima daemon: the ring
 * buffer record and the map values. Fixed-width types and constants only.
 */
#ifndef BIMA_H
#define BIMA_H

#ifndef __VMLINUX_H__ /* the BPF side has these types from vmlinux.h */
#include <linux/types.h>
#endif

#define BIMA_DIGEST_MAX 64 /* largest digest bpf_ima_file_hash() writes (sha512) */
#define BIMA_PATH_MAX 4096 /* PATH_MAX, including the terminating NUL */
#define BIMA_COMM_LEN 16   /* TASK_COMM_LEN */

/* Which LSM hook produced a record; the name IMA gives the same check. */
enum bima_hook {
	BIMA_HOOK_BPRM_CHECK = 1,	     /* bprm_check_security: exec (IMA BPRM_CHECK) */
	BIMA_HOOK_MMAP_CHECK = 2,	     /* mmap_file with PROT_EXEC (IMA MMAP_CHECK) */
	BIMA_HOOK_MODULE_CHECK = 3,	     /* kernel_read_file: a module (finit_module) */
	BIMA_HOOK_FIRMWARE_CHECK = 4,	     /* kernel_read_file: firmware */
	BIMA_HOOK_KEXEC_KERNEL_CHECK = 5,    /* kernel_read_file: kexec_file_load's kernel */
	BIMA_HOOK_KEXEC_INITRAMFS_CHECK = 6, /* kernel_read_file: and its initramfs */
	BIMA_HOOK_POLICY_CHECK = 7,	     /* kernel_read_file: an IMA policy file */
	BIMA_HOOK_FILE_CHECK = 8,	     /* file_open (IMA FILE_CHECK) */
	BIMA_HOOK_BPF_CHECK = 9,	     /* bpf_prog: a BPF program's fd (bima's own) */
	BIMA_HOOK_MMAP_CHECK_REQPROT = 10,   /* mmap_file, PROT_EXEC asked for (IMA's) */
	BIMA_HOOK_CREDS_CHECK = 11,	     /* bprm_check_security, by the exec's new creds */
	/* Not a hook: a record saying which policy came into force (bima_policy_switch). */
	BIMA_REC_POLICY = 32,
	/*
	 * Not measurements, and without a sequence number (seq is 0): a cgroup v2
	 * cgroup was made (path: its path below the cgroup2 root) or removed. In
	 * ring-buffer order, the daemon sees a cgroup made before any measurement
	 * in it and removed after the last, so it names the cgroup of each entry
	 * even when the cgroup is gone by the time it reads the record.
	 */
	BIMA_REC_CGROUP_MKDIR = 33,
	BIMA_REC_CGROUP_RMDIR = 34,
};

/* Counters kept by hook are indexed by enum bima_hook: its hooks are below this (0 unused). */
#define BIMA_HOOKS (BIMA_HOOK_CREDS_CHECK + 1)

#define BIMA_CGROUP_PATH_MAX 1024 /* bytes of a cgroup path a BIMA_REC_CGROUP_* record holds */

#define BIMA_POLICY_NAME "bima_policy" /* the path of a BIMA_REC_POLICY record */
#define BIMA_KERNEL_SHA256 4	       /* the kernel's HASH_ALGO_SHA256 */

/* Flags in bima_event.flags. */
enum bima_event_flags {
	BIMA_EV_PATH_DENTRY = 1 << 0, /* bpf_d_path failed: path is the dentry name only */
	/* Violations, as IMA's: no digest; logged as a zero digest, extended as 0xff... */
	BIMA_EV_TOMTOU = 1 << 1,       /* measured for reading while open for writing */
	BIMA_EV_OPEN_WRITERS = 1 << 2, /* opened for writing while open, and measured */
	BIMA_EV_PATH_CUT = 1 << 3,     /* BIMA_REC_CGROUP_MKDIR: the path was longer than
					* BIMA_CGROUP_PATH_MAX - 1 and is cut */
};

/*
 * One measurement, as the kernel hands it to the daemon through the ring
 * buffer. Records have variable size: path_len bytes of path follow the
 * fixed part, so a short path costs a short record.
 */
struct bima_event {
	__u64 seq;	  /* kernel sequence number: 0, 1, 2... since the programs were loaded,
			   * taken when the record is reserved in the ring buffer */
	__u64 cgroup_id;  /* cgroup v2 id of the task (bpf_get_current_cgroup_id) */
	__u64 mnt_ns;	  /* inode number of the task's mount namespace */
	__u64 ino;	  /* inode number */
	__u64 i_version;  /* inode i_version counter; 0 where the filesystem keeps none */
	__s64 ctime_sec;  /* inode change time, seconds */
	__u32 ctime_nsec; /* inode change time, nanoseconds */
	__u32 dev;	  /* superblock s_dev, kernel encoding (major << 20 | minor) */
	__u32 generation; /* inode i_generation */
	__u32 uid;	  /* real uid of the task */
	__u32 tgid;	  /* process id */
	__u32 pid;	  /* thread id */
	__u16 hook;	  /* enum bima_hook */
	__u16 flags;	  /* enum bima_event_flags */
	__s32 hash_algo;  /* >= 0: the kernel's enum hash_algo of digest;
			   * < 0: -errno returned by bpf_ima_file_hash() */
	__u32 path_len;	  /* bytes of path, including the terminating NUL */
	__u32 reserved;	  /* zero; keeps path at sizeof(struct bima_event) */
	char comm[BIMA_COMM_LEN];     /* task command name */
	__u8 digest[BIMA_DIGEST_MAX]; /* file content digest, computed by the kernel;
				       * its length follows from hash_algo */
	char path[];		      /* path_len bytes: bpf_d_path() of the file, NUL-terminated */
};

/* Value of the single entry of the bima_stats map, updated atomically. */
struct bima_stats {
	__u64 next_seq;	   /* sequence number the next record gets */
	__u64 dropped;	   /* events whose ring-buffer reservation failed */
	__u64 hash_errors; /* events whose bpf_ima_file_hash() call failed */
	__u64 denied;	   /* operations denied under BIMA_CFG_FAIL_CLOSED */
	__u64 policy_gen;  /* policy switches so far: bima_policy slot policy_gen & 1 is in force */
	__u64 violations;  /* ToMToU and open_writers records */
	/* Self-protection (BIMA_CFG_PROTECT): operations refused, and the last one's doer */
	__u64 protect_denied;
	__u32 protect_last_tgid;	       /* its process id */
	__u32 protect_last_op;		       /* what it tried: enum bima_protect_op */
	char protect_last_comm[BIMA_COMM_LEN]; /* and its command name */
	/*
	 * dropped and denied again, by the hook of the operation: rare, so
	 * bumped beside the totals where those are. The totals are their sums.
	 */
	__u64 dropped_by_hook[BIMA_HOOKS];
	__u64 denied_by_hook[BIMA_HOOKS];
};

/*
 * Value of the single entry of the bima_cpu_stats map, a copy a CPU: the
 * counters the hot path bumps, which would else make every CPU's opens
 * write one cache line. User space sums the copies (loader_cpu_stats).
 */
struct bima_cpu_stats {
	__u64 cache_hits; /* measurements skipped: the file is unchanged since it was measured */
};

/* What self-protection refused, in bima_stats.protect_last_op. */
enum bima_protect_op {
	BIMA_PROTECT_WRITE = 1,	    /* open for writing */
	BIMA_PROTECT_TRUNCATE = 2,  /* truncate by path */
	BIMA_PROTECT_ATTR = 3,	    /* chmod, chown */
	BIMA_PROTECT_CREATE = 4,    /* create, mkdir, mknod, symlink, pin */
	BIMA_PROTECT_UNLINK = 5,    /* unlink, rmdir */
	BIMA_PROTECT_RENAME = 6,    /* rename, from or to */
	BIMA_PROTECT_LINK = 7,	    /* a hard link, from or to */
	BIMA_PROTECT_MAP = 8,	    /* write a map: update, delete, freeze, writable mmap */
	BIMA_PROTECT_PROG = 9,	    /* run a program (BPF_PROG_TEST_RUN) */
	BIMA_PROTECT_BPF_LINK = 10, /* detach or update a link */
	BIMA_PROTECT_OBJ_PIN = 11,  /* pin a map, program or link elsewhere */
	BIMA_PROTECT_MAP_FD = 12,   /* a read-write fd of the ring buffer, no daemon running */
	BIMA_PROTECT_PTRACE = 13,   /* attach to a process that runs bima (ptrace and the like) */
	BIMA_PROTECT_SIGNAL = 14,   /* a signal that would end the daemon while entries wait */
};

/*
 * What bima keeps of a measured inode, in BPF inode storage (the bima_inodes
 * map). The re-measurement cache: the state of a file when it was last
 * hashed, on a filesystem that tells changes; a file whose state is the same
 * and that no writer opened since is not hashed again. See "The
 * re-measurement cache" in docs/cache.md. And the violation state, on every
 * filesystem: whether the file was measured while open for reading.
 */
struct bima_inode {
	__u64 i_version; /* the change cookie, without its "queried" bit; 0: none */
	__s64 ctime_sec;
	__s64 mtime_sec;
	__s64 size;
	__u32 ctime_nsec;
	__u32 mtime_nsec;
	__u64 gen; /* writers' opens of the file so far (file_open: cache_writer), atomic */
	/*
	 * gen + 1, gen read before the file was hashed in the state above, with
	 * no writer open then: the cache holds the file while gen stays so. A
	 * writer that opens during the hashing, or any time after, moves gen
	 * on before it can write. 0: never hashed.
	 */
	__u64 valid_gen;
	/*
	 * 1: measured while open for reading, not for writing (IMA's
	 * IMA_MUST_MEASURE). A writer's open while it is open for reading takes
	 * it back to 0, logging an open_writers violation, once for each.
	 * 64 bits: BPF's compare-and-exchange.
	 */
	__u64 read_measured;
	/*
	 * On overlayfs, the real inode beneath whose state the fields above
	 * hold (bpf/overlay.bpf.h): its i_ino, its writers' opens (its
	 * bima_real entry) before it was hashed, its s_dev and i_generation.
	 * The cache holds the file while all four are the real inode's now.
	 * 0 on other filesystems.
	 */
	__u64 real_ino;
	__u64 real_gen;
	__u32 real_dev;
	__u32 real_generation;
};

/* Flags in bima_config.flags. */
enum bima_config_flags {
	/*
	 * Deny (-EPERM) an operation whose measurement cannot be recorded: the
	 * ring buffer is full, or the daemon's heartbeat is older than grace_ns.
	 * The bima program itself (exempt_dev, exempt_ino), exec'd or running,
	 * is let through, so that a daemon can always be started again.
	 */
	BIMA_CFG_FAIL_CLOSED = 1 << 0,
	/*
	 * Self-protection: while the daemon (bima_daemon) runs, no other
	 * process may change the log directory or the pin directory
	 * (protect_dev, protect_ino) or bima's BPF objects. While none runs,
	 * no process may but a bima that starts, nor get a read-write fd of
	 * the ring buffer; nobody may attach to a process that runs bima, nor,
	 * while entries wait for the TPM, end the daemon with a signal; `bima
	 * stop --unload` clears the flag, then unpins.
	 * See docs/self-protection.md.
	 */
	BIMA_CFG_PROTECT = 1 << 1,
};

#define BIMA_PROTECT_DIRS 2 /* the log directory, the pin directory */
/*
 * bima's own files, never measured: the log directory, the pin directory,
 * the control lock and the daemon's settings for the other commands
 */
#define BIMA_OWN_MAX 4

/*
 * The measurement policy, compiled from IMA's policy language by the daemon
 * (user/policy/policy.c): an array of rules, evaluated in order, the first match
 * deciding, as in IMA.
 */
#define BIMA_RULES_MAX 64 /* a power of two: BPF indexes rules with a mask */

enum bima_action {
	BIMA_MEASURE = 1,
	BIMA_DONT_MEASURE = 2,
};

/* Which conditions a rule has, in bima_rule.flags. */
enum bima_rule_flags {
	BIMA_RULE_FUNC = 1 << 0,
	BIMA_RULE_MASK = 1 << 1,   /* mask=: the access mask equals it */
	BIMA_RULE_INMASK = 1 << 2, /* mask=^: the access mask contains it */
	BIMA_RULE_UID = 1 << 3,
	BIMA_RULE_EUID = 1 << 4,
	BIMA_RULE_FOWNER = 1 << 5,
	BIMA_RULE_FGROUP = 1 << 6,
	BIMA_RULE_FSMAGIC = 1 << 7,
	BIMA_RULE_FSUUID = 1 << 8,
	BIMA_RULE_PCR = 1 << 9,
	BIMA_RULE_CGROUP = 1 << 10, /* bima's own: the task is in a cgroup subtree */
	BIMA_RULE_GID = 1 << 11,
	BIMA_RULE_EGID = 1 << 12,
	BIMA_RULE_FSNAME = 1 << 13, /* the file system type's name (struct file_system_type) */
	/* The conditions on a file, which never match where there is none (BPF_CHECK) */
	BIMA_RULE_FILE = BIMA_RULE_FOWNER | BIMA_RULE_FGROUP | BIMA_RULE_FSMAGIC |
			 BIMA_RULE_FSUUID | BIMA_RULE_FSNAME,
};

/* The access mask, as the kernel's MAY_* bits. */
enum bima_may {
	BIMA_MAY_EXEC = 0x1,
	BIMA_MAY_WRITE = 0x2,
	BIMA_MAY_READ = 0x4,
	BIMA_MAY_APPEND = 0x8,
};

/* How an id is compared with the rule's: uid=, uid< or uid>. */
enum bima_rule_op {
	BIMA_OP_EQ = 0,
	BIMA_OP_LT = 1,
	BIMA_OP_GT = 2,
};

#define BIMA_FSNAME_LEN 16 /* fsname=: the longest name compared, with its NUL */

struct bima_rule {
	__u8 action; /* enum bima_action */
	__u8 func;   /* enum bima_hook, with BIMA_RULE_FUNC */
	__u16 flags; /* enum bima_rule_flags */
	__u32 mask;  /* enum bima_may bits */
	__u32 uid, euid, fowner, fgroup;
	__u8 uid_op, euid_op, fowner_op, fgroup_op; /* enum bima_rule_op */
	__u32 pcr;
	__u64 fsmagic;
	__u8 fsuuid[16];
	__u64 cgroup_id;    /* the subtree's top cgroup: its inode number in cgroup2 */
	__u32 cgroup_level; /* and its depth below the cgroup2 root */
	__u32 gid, egid;
	__u8 gid_op, egid_op; /* enum bima_rule_op */
	__u8 reserved[2];
	char fsname[BIMA_FSNAME_LEN]; /* NUL-padded */
};

/*
 * One slot of the bima_policy map. The slot not in force is written from
 * userspace, then bima_policy_switch puts it in force; a hook that sees
 * policy_gen change while it evaluates evaluates again.
 */
struct bima_policy {
	__u32 nrules;
	__u32 reserved;
	__u8 digest[32]; /* sha256 of the policy text */
	struct bima_rule rules[BIMA_RULES_MAX];
};

/* The context of BPF_PROG_RUN of bima_policy_switch. */
struct bima_policy_switch {
	__u64 gen; /* in: the policy_gen the caller read; slot (gen + 1) & 1 holds the new policy */
};

/*
 * Snapshot anchors: what the kernel keeps of the log. At each snapshot the
 * daemon logs a snapshot_aggregate entry, extends it, closes the segment,
 * and has bima_anchor_add record an anchor; the bima_anchors map keeps the
 * last BIMA_ANCHORS_MAX, slot id % BIMA_ANCHORS_MAX. The map is frozen,
 * read-only from the syscall side: only bima_anchor_add writes it, which
 * takes ids only upwards, and seq from the kernel's own counter.
 */
#define BIMA_ANCHORS_MAX 16
#define BIMA_ANCHOR_BANKS 4

struct bima_anchor {
	__u64 id;      /* 1, 2, 3... in this load of the programs; 0: an empty slot */
	__u64 seq;     /* bima_stats.next_seq when the anchor was recorded */
	__u64 entries; /* the epoch's log entries, the snapshot_aggregate entry included */
	__u32 segment; /* the segment the snapshot closed */
	__u32 pcr;     /* the PCR bima extends */
	__u16 bank_alg[BIMA_ANCHOR_BANKS];     /* TPM algorithm ids of pcr_value; 0: unused */
	__u8 pcr_value[BIMA_ANCHOR_BANKS][64]; /* the PCR after the snapshot entry, per bank */
	__u8 segment_sha256[32]; /* the closed segment's bytes but the snapshot entry */
	__u8 quote_sha256[32];	 /* a TPM quote over the PCR; zero: none taken */
};

#define BIMA_OBJECT_ID_LEN 32

/*
 * bima's code: the files a daemon mapped executable (its dynamic loader and
 * libraries), keys of the bima_code map, which user/daemon/loader.c fills from
 * /proc/self/maps when the daemon claims the objects. A process running the
 * bima program is exempt (fail-closed, self-protection) only while it has
 * mapped no other code (bpf/protect.bpf.h).
 */
#define BIMA_CODE_MAX 256

/* Values in bima_code. */
enum bima_code_kind {
	BIMA_CODE_LIBRARY = 1, /* a library, or the dynamic loader */
	BIMA_CODE_PROGRAM = 2, /* the bima program, as upgraded since exempt_ino was taken */
};

struct bima_file_id {
	__u64 dev; /* s_dev, kernel encoding (major << 20 | minor) */
	__u64 ino; /* i_ino */
};

/*
 * Value of the single entry of the bima_daemon map: which process is the
 * daemon, whose own operations are not measured (no feedback) and which
 * self-protection lets through. Written only by BPF, never from the
 * syscall side (the loader freezes the map): bima_daemon_claim records the
 * process that runs it, as the kernel sees it, and the hook on
 * sched_process_exit clears it when that process exits, in every mode. A
 * pid can be reused; a pid with the start time of its process cannot.
 */
struct bima_daemon {
	__u64 tgid; /* the host (initial PID namespace) tgid; 0: no daemon (64 bits: cmpxchg) */
	__u64 start_boottime; /* its thread group leader's task_struct.start_boottime */
};

/* Value of the single entry of the bima_config map, written by the daemon. */
struct bima_config {
	/*
	 * The daemon's host pid, for `bima stop` and `bima status`; set and
	 * cleared by BPF with bima_daemon, which is what the hooks compare.
	 */
	__u32 daemon_tgid;
	__u32 flags;	    /* enum bima_config_flags */
	__u64 heartbeat_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) of the daemon's last sign of life
			     */
	__u64 grace_ns;	    /* BIMA_CFG_FAIL_CLOSED: how long the daemon may be silent */
	__u64 exempt_dev;   /* the bima program's inode: s_dev, kernel encoding */
	__u64 exempt_ino;   /* and i_ino */
	/* sha256 of the BPF object that was loaded: a daemon adopts only pins of its build */
	__u8 object_id[BIMA_OBJECT_ID_LEN];
	/* bima_stats.dropped already recorded in the log: a new daemon records only new losses */
	__u64 drops_logged;
	__u32 pcr; /* the PCR the daemon extends: a policy's pcr= must name it */
	__u32 reserved;
	/* BIMA_CFG_PROTECT: the directories protected with all beneath them; 0: none */
	__u64 protect_dev[BIMA_PROTECT_DIRS]; /* s_dev, kernel encoding */
	__u64 protect_ino[BIMA_PROTECT_DIRS]; /* i_ino */
	__u32 protect_btf_id;		      /* the BTF object of bima's maps and programs */
	__u32 protect_events_id;	      /* the map id of bima_events, which has no BTF */
	/*
	 * In every mode: bima's own files, which are never measured and never
	 * give a violation, whatever the policy says (the daemon keeps its
	 * lists, its log and its control lock open for writing): a directory
	 * with all beneath it, or a file; 0: none (user/daemon/loader.c set_own).
	 */
	__u64 own_dev[BIMA_OWN_MAX]; /* s_dev, kernel encoding */
	__u64 own_ino[BIMA_OWN_MAX]; /* i_ino */
	/*
	 * CLOCK_MONOTONIC since which entries the daemon logged (or is about to
	 * write) wait for the TPM; 0: none waits. Set before the entries are
	 * written, cleared once all are extended. While it is set, under
	 * BIMA_CFG_PROTECT, the signals that would end the daemon are refused
	 * (bima_protect_kill), and under BIMA_CFG_FAIL_CLOSED with max_lag_ns
	 * measured operations are denied once it is older than max_lag_ns.
	 */
	__u64 unextended_ns;
	__u64 max_lag_ns; /* --max-extend-lag; 0: no bound */
};

#endif /* BIMA_H */
