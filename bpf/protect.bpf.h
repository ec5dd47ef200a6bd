/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Self-protection (BIMA_CFG_PROTECT in bima.h): while the daemon runs, the
 * hooks refuse (-EPERM) every other process
 * - any change to the log directory and the pin directory, and to what
 *   lies beneath them: opening a file for writing, truncating, chmod and
 *   chown, creating, unlinking, renaming (from or to) and hard links;
 * - the bpf() commands that change or drive bima's BPF objects, whatever fd
 *   is used: map writes (and a writable mmap), running a program, detaching
 *   or updating a link, pinning an object elsewhere. Fds themselves are
 *   given out, read-write too: bpftool 7.1 asks for read-write fds only to
 *   show or dump maps, and programs by id to list them;
 * - attaching to a process that runs the bima program (ptrace and what asks
 *   for the same access), in every state;
 * - while entries the daemon logged wait for the TPM, the signals that
 *   would end or stop it without its orderly exit.
 * While no daemon runs, the same is refused to every process but a bima
 * that starts (runs_bima_only), and so is a read-write fd of the ring
 * buffer: the hooks stay attached, and a forger would otherwise have the
 * log and the ring buffer to themselves until the next daemon starts.
 * Reading stays open to all. A process that runs the bima program and
 * bima's code only (runs_bima_only: no library of its own) is let through
 * on the bpf() side, for `bima policy load`, but not on the file side.
 *
 * The daemon is the process that ran bima_daemon_claim (bima_daemon: host
 * tgid and start time). When its last thread exits, bima_protect_exit
 * clears the claim, in every mode: nothing is refused until the next
 * daemon claims, which can so take over after a crash or a SIGKILL, and a
 * dead daemon never locks anyone out (nor does a process that reuses its
 * pid inherit its rights or its exemption from measurement).
 *
 * Included by measure.bpf.c: the programs share its maps and are loaded,
 * attached and pinned with them (user/daemon/protect.c lists them).
 */
#ifndef BIMA_PROTECT_BPF_H
#define BIMA_PROTECT_BPF_H

#define PROT_WRITE 0x2
#define MAP_SHARED 0x01 /* and MAP_SHARED_VALIDATE, 0x03 */
#define EBUSY 16

/*
 * How far up a dentry's ancestors are compared with the protected
 * directories: the deepest protected file is DIR/epoch-R-S/FILE (a pin,
 * PIN_DIR/links/NAME), a new one's negative dentry is as deep.
 */
#define PROTECT_DEPTH 4

/* The first eight bytes of an anonymous inode's name, as one little-endian word. */
#define NAME_WORD(s)                                                                      \
	((__u64)(s)[0] | (__u64)(s)[1] << 8 | (__u64)(s)[2] << 16 | (__u64)(s)[3] << 24 | \
	 (__u64)(s)[4] << 32 | (__u64)(s)[5] << 40 | (__u64)(s)[6] << 48 | (__u64)(s)[7] << 56)

/*
 * The configuration, if self-protection refuses the current task: it is
 * on, and the task is not one of the daemon's threads or, while no daemon
 * runs, not a bima that starts (runs_bima_only: it claims the objects
 * before it writes the log). NULL otherwise. With the hooks attached and no
 * daemon, the log, the pins and the ring buffer stay closed: root could
 * otherwise take records out of the ring buffer and write the log in their
 * place before the next daemon starts.
 */
static __always_inline struct bima_config *protect_config(void)
{
	struct bima_config *cfg;
	struct bima_daemon *d;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	d = bpf_map_lookup_elem(&bima_daemon, &zero);
	if (!cfg || !d || !(cfg->flags & BIMA_CFG_PROTECT))
		return NULL;
	if (d->tgid)
		return is_daemon() ? NULL : cfg;
	return runs_bima_only(cfg) ? NULL : cfg;
}

/* Whether a daemon runs: self-protection gives out fds of its maps only then. */
static __always_inline bool daemon_runs(void)
{
	struct bima_daemon *d;
	__u32 zero = 0;

	d = bpf_map_lookup_elem(&bima_daemon, &zero);
	return d && d->tgid;
}

/* Count the refusal and remember who it was; the daemon reports it. */
static __always_inline int protect_refuse(enum bima_protect_op op)
{
	struct bima_stats *st;
	__u32 zero = 0;

	st = bpf_map_lookup_elem(&bima_stats, &zero);
	if (st) {
		__sync_fetch_and_add(&st->protect_denied, 1);
		st->protect_last_tgid = bpf_get_current_pid_tgid() >> 32;
		st->protect_last_op = op;
		bpf_get_current_comm(st->protect_last_comm, sizeof(st->protect_last_comm));
	}
	return -EPERM;
}

/* Whether d is a protected directory or lies beneath one, PROTECT_DEPTH levels up. */
static __always_inline bool protected_dentry(const struct bima_config *cfg, struct dentry *d)
{
	struct inode *inode;
	__u64 dev, ino;
	int i, j;

	/* A filesystem's root is its own parent: walking on from it compares it again. */
	for (i = 0; i < PROTECT_DEPTH; i++) {
		inode = BPF_CORE_READ(d, d_inode);
		if (inode) { /* else a name being created */
			ino = BPF_CORE_READ(inode, i_ino);
			dev = BPF_CORE_READ(inode, i_sb, s_dev);
			for (j = 0; j < BIMA_PROTECT_DIRS; j++)
				if (cfg->protect_ino[j] && cfg->protect_ino[j] == ino &&
				    cfg->protect_dev[j] == dev)
					return true;
		}
		d = BPF_CORE_READ(d, d_parent);
	}
	return false;
}

/* The verdict on an operation on the names a and b (b may be NULL). */
static __always_inline int protect_names(struct dentry *a, struct dentry *b,
					 enum bima_protect_op op)
{
	struct bima_config *cfg = protect_config();

	if (!cfg)
		return 0;
	if (protected_dentry(cfg, a) || (b && protected_dentry(cfg, b)))
		return protect_refuse(op);
	return 0;
}

/*
 * The verdict on an open of file for writing, from bima_file_open (in
 * measure.bpf.c: the cache's hook too); reading stays open to all.
 */
static __always_inline int protect_write(struct file *file)
{
	return protect_names(BPF_CORE_READ(file, f_path.dentry), NULL, BIMA_PROTECT_WRITE);
}

SEC("lsm/inode_create")
int BPF_PROG(bima_protect_create, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_CREATE);
}

SEC("lsm/inode_mkdir")
int BPF_PROG(bima_protect_mkdir, struct inode *dir, struct dentry *dentry, umode_t mode, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_CREATE);
}

SEC("lsm/inode_mknod")
int BPF_PROG(bima_protect_mknod, struct inode *dir, struct dentry *dentry, umode_t mode, dev_t dev,
	     int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_CREATE);
}

SEC("lsm/inode_symlink")
int BPF_PROG(bima_protect_symlink, struct inode *dir, struct dentry *dentry, const char *old_name,
	     int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_CREATE);
}

SEC("lsm/inode_link")
int BPF_PROG(bima_protect_link, struct dentry *old_dentry, struct inode *dir,
	     struct dentry *new_dentry, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(old_dentry, new_dentry, BIMA_PROTECT_LINK);
}

SEC("lsm/inode_unlink")
int BPF_PROG(bima_protect_unlink, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_UNLINK);
}

SEC("lsm/inode_rmdir")
int BPF_PROG(bima_protect_rmdir, struct inode *dir, struct dentry *dentry, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(dentry, NULL, BIMA_PROTECT_UNLINK);
}

SEC("lsm/inode_rename")
int BPF_PROG(bima_protect_rename, struct inode *old_dir, struct dentry *old_dentry,
	     struct inode *new_dir, struct dentry *new_dentry, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(old_dentry, new_dentry, BIMA_PROTECT_RENAME);
}

/*
 * Whether the file lies on the filesystem of a protected directory: the
 * cheap test first.
 */
static __always_inline bool protected_fs(const struct bima_config *cfg, struct file *file)
{
	__u64 dev = file->f_inode->i_sb->s_dev;

	return (cfg->protect_ino[0] && dev == cfg->protect_dev[0]) ||
	       (cfg->protect_ino[1] && dev == cfg->protect_dev[1]);
}

/* The verdict on writing (op) through file, an fd that may predate the daemon or protection. */
static __always_inline int protect_fd(struct file *file, enum bima_protect_op op)
{
	struct bima_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	if (!cfg || !(cfg->flags & BIMA_CFG_PROTECT) || !protected_fs(cfg, file))
		return 0;
	return protect_names(BPF_CORE_READ(file, f_path.dentry), NULL, op);
}

/* ftruncate(2) through such an fd: Linux 6.2 and later; before, it meets path_truncate. */
SEC("lsm/file_truncate")
int BPF_PROG(bima_protect_ftruncate, struct file *file, int ret)
{
	if (ret != 0)
		return ret;
	return protect_fd(file, BIMA_PROTECT_TRUNCATE);
}

/* truncate(2) by name; opening for writing, which ftruncate(2) needs, is refused above. */
SEC("lsm/path_truncate")
int BPF_PROG(bima_protect_truncate, const struct path *path, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(BPF_CORE_READ(path, dentry), NULL, BIMA_PROTECT_TRUNCATE);
}

SEC("lsm/path_chmod")
int BPF_PROG(bima_protect_chmod, const struct path *path, umode_t mode, int ret)
{
	if (ret != 0)
		return ret;
	return protect_names(BPF_CORE_READ(path, dentry), NULL, BIMA_PROTECT_ATTR);
}

/* By hand: BPF_PROG cannot take kuid_t and kgid_t, structs, by value. */
SEC("lsm/path_chown")
int bima_protect_chown(unsigned long long *ctx)
{
	const struct path *path = (const struct path *)ctx[0];
	int ret = (int)ctx[3]; /* after path, uid and gid */

	if (ret != 0)
		return ret;
	return protect_names(BPF_CORE_READ(path, dentry), NULL, BIMA_PROTECT_ATTR);
}

/*
 * Whether the task runs the bima program (the inode the daemon runs), as
 * `bima policy load`, and bima's code only: not a library of its own
 * (runs_bima_only in measure.bpf.c).
 */
static __always_inline bool bima_program_runs(const struct bima_config *cfg)
{
	return runs_bima_only(cfg);
}

/*
 * Whether any process was ever put in bima_tainted: until then, an exec
 * or an exit has no entry to take out, and skips the map (a hash and a
 * bucket lock each). Only ever set, before the entry is added.
 */
__u64 bima_tainted_ever = 0;

/* Put a process in bima_tainted; 0, or the error of the map update. */
static __always_inline long taint(struct proc_id *id)
{
	__u8 one = 1;

	if (!bima_tainted_ever)
		*(volatile __u64 *)&bima_tainted_ever = 1;
	return bpf_map_update_elem(&bima_tainted, id, &one, BPF_ANY);
}

/* Take a process out of bima_tainted, where it may be. */
static __always_inline void untaint(struct proc_id *id)
{
	if (*(volatile __u64 *)&bima_tainted_ever)
		bpf_map_delete_elem(&bima_tainted, id);
}

/*
 * Code is mapped executable (file NULL: anonymous memory). In a process
 * that runs the bima program, code that is not bima's (the program, or a
 * library in bima_code) ends its exemptions: the process is recorded in
 * bima_tainted until it execs or exits. If it cannot be recorded (the map
 * is full), the mapping is refused instead. Every mode, and cheap for the
 * rest: one map lookup and the task's program.
 */
static __always_inline int bima_code_mapped(struct file *file)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct bima_config *cfg;
	struct proc_id id;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	if (!cfg || !is_bima(cfg, task->mm->exe_file->f_inode))
		return 0;
	if (file && bima_code_file(cfg, file->f_inode))
		return 0;
	id = current_proc();
	return taint(&id) ? -EPERM : 0;
}

/* mprotect(PROT_EXEC): code mapped writable or readable first is code all the same. */
SEC("lsm/file_mprotect")
int BPF_PROG(bima_protect_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	if (ret != 0)
		return ret;
	if (!(prot & PROT_EXEC))
		return 0;
	return bima_code_mapped(vma->vm_file);
}

/*
 * A process execs: what it mapped before is gone with its old program. A
 * process that execs the bima program under a tracer (PTRACE_TRACEME, or
 * traced since before the exec: bima_protect_ptrace refuses attaching
 * later) is tainted instead: its tracer can make it do anything, so it
 * must not pass as a bima that starts.
 */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(bima_protect_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct proc_id id = current_proc();
	struct bima_config *cfg;
	__u32 zero = 0;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	if (cfg && task->ptrace && is_bima(cfg, task->mm->exe_file->f_inode)) {
		taint(&id);
		return 0;
	}
	untaint(&id);
	return 0;
}

/* Modes of ptrace_access_check (include/linux/ptrace.h). */
#define PTRACE_MODE_ATTACH 0x02

/*
 * Attaching to a process that runs the bima program, under
 * self-protection: ptrace(2), process_vm_readv(2) and process_vm_writev(2),
 * pidfd_getfd(2) and /proc/PID/mem all ask for PTRACE_MODE_ATTACH. The
 * daemon and a bima that starts would otherwise do what a tracer tells
 * them, with all their exemptions. Reading /proc/PID/status and the like
 * (PTRACE_MODE_READ) stays open.
 */
SEC("lsm/ptrace_access_check")
int BPF_PROG(bima_protect_ptrace, struct task_struct *child, unsigned int mode, int ret)
{
	struct bima_config *cfg;
	__u32 zero = 0;

	if (ret != 0)
		return ret;
	if (!(mode & PTRACE_MODE_ATTACH))
		return 0;
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	if (!cfg || !(cfg->flags & BIMA_CFG_PROTECT) || !is_bima(cfg, child->mm->exe_file->f_inode))
		return 0;
	return protect_refuse(BIMA_PROTECT_PTRACE);
}

#define SIGINT 2
#define SIGUSR1 10
#define SIGTERM 15
#define SIGCHLD 17
#define SIGCONT 18
#define SIGURG 23
#define SIGWINCH 28

/*
 * Whether sig, sent to the daemon, ends in its orderly exit (SIGINT,
 * SIGTERM: it extends what waits, then exits), is one it catches (SIGUSR1:
 * a snapshot), or changes nothing (0 only asks whether it lives; the others
 * are ignored by default and not caught).
 */
static __always_inline bool harmless_signal(int sig)
{
	switch (sig) {
	case 0:
	case SIGINT:
	case SIGUSR1:
	case SIGTERM:
	case SIGCHLD:
	case SIGCONT:
	case SIGURG:
	case SIGWINCH:
		return true;
	}
	return false;
}

/*
 * A signal sent to the daemon while entries it logged wait for the TPM
 * (bima_config.unextended_ns), under self-protection: SIGKILL, SIGSTOP and
 * every signal whose default would end or stop it are refused to every
 * other process, root included, so that what is in the log is in the PCR
 * before the daemon can go. Once nothing waits, every signal goes through
 * (a shutdown that times out still ends it). The kernel's own kills (the
 * OOM killer, a cgroup's cgroup.kill) are not signals this hook sees: see
 * "Measured before use" in docs/security-model.md.
 */
SEC("lsm/task_kill")
int BPF_PROG(bima_protect_kill, struct task_struct *p, struct kernel_siginfo *info, int sig,
	     const struct cred *cred, int ret)
{
	struct bima_config *cfg;
	struct bima_daemon *d;
	__u32 zero = 0;

	if (ret != 0)
		return ret;
	if (harmless_signal(sig))
		return 0;
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	d = bpf_map_lookup_elem(&bima_daemon, &zero);
	if (!cfg || !d || !(cfg->flags & BIMA_CFG_PROTECT) || !cfg->unextended_ns || !d->tgid)
		return 0;
	if (BPF_CORE_READ(p, tgid) != d->tgid ||
	    BPF_CORE_READ(p, group_leader, start_boottime) != d->start_boottime || is_daemon())
		return 0;
	return protect_refuse(BIMA_PROTECT_SIGNAL);
}

/* What kind of BPF object the file is, by the name of its anonymous inode; its object in *obj. */
static __always_inline enum bpf_type file_bpf_object(struct file *file, void **obj)
{
	struct {
		__u64 word;
		char next;
	} name = {};

	if (!file || bpf_probe_read_kernel(&name, sizeof(name),
					   BPF_CORE_READ(file, f_path.dentry, d_name.name)))
		return BPF_TYPE_UNSPEC;
	*obj = BPF_CORE_READ(file, private_data);
	if (name.word == NAME_WORD("bpf-map")) /* with its NUL */
		return BPF_TYPE_MAP;
	if (name.word == NAME_WORD("bpf-prog") && !name.next)
		return BPF_TYPE_PROG;
	/* bpf_link when made (bpf_link_prime), bpf-link when got from a pin (bpf_link_new_fd) */
	if ((name.word == NAME_WORD("bpf_link") || name.word == NAME_WORD("bpf-link")) &&
	    !name.next)
		return BPF_TYPE_LINK;
	return BPF_TYPE_UNSPEC;
}

/* The file of the current task's fd, or NULL. */
static __always_inline struct file *task_fd(int fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds, *file = NULL;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	if (bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]))
		return NULL;
	return file;
}

/* Whether btf is the BTF object bima's maps and programs were loaded with. */
static __always_inline bool bima_btf(const struct bima_config *cfg, struct btf *btf)
{
	return btf && cfg->protect_btf_id && BPF_CORE_READ(btf, id) == cfg->protect_btf_id;
}

static __always_inline bool bima_object(const struct bima_config *cfg, enum bpf_type type,
					void *obj)
{
	struct bpf_map *map = obj;
	struct bpf_prog *prog = obj;
	struct bpf_link *link = obj;

	switch (type) {
	case BPF_TYPE_MAP:
		return bima_btf(cfg, BPF_CORE_READ(map, btf)) ||
		       (cfg->protect_events_id && BPF_CORE_READ(map, id) == cfg->protect_events_id);
	case BPF_TYPE_PROG:
		return bima_btf(cfg, BPF_CORE_READ(prog, aux, btf));
	case BPF_TYPE_LINK:
		return bima_btf(cfg, BPF_CORE_READ(link, prog, aux, btf));
	default:
		return false;
	}
}

/*
 * The bpf() commands that change or drive an object, refused on bima's.
 * The fd is looked up here and again by the command: a process that swaps
 * it in between (dup2 from another thread) can slip through, but such a
 * process may load BPF programs of its own, which this does not stop.
 */
SEC("lsm/bpf")
int BPF_PROG(bima_protect_bpf, int cmd, union bpf_attr *attr, unsigned int size, int ret)
{
	enum bpf_type want = BPF_TYPE_MAP, type;
	enum bima_protect_op op = BIMA_PROTECT_MAP;
	struct bima_config *cfg;
	void *obj = NULL;
	int fd;

	if (ret != 0)
		return ret;
	switch (cmd) {
	case BPF_MAP_UPDATE_ELEM:
	case BPF_MAP_DELETE_ELEM:
	case BPF_MAP_LOOKUP_AND_DELETE_ELEM:
	case BPF_MAP_FREEZE:
		fd = BPF_CORE_READ(attr, map_fd);
		break;
	case BPF_MAP_UPDATE_BATCH:
	case BPF_MAP_DELETE_BATCH:
	case BPF_MAP_LOOKUP_AND_DELETE_BATCH:
		fd = BPF_CORE_READ(attr, batch.map_fd);
		break;
	case BPF_PROG_TEST_RUN:
		fd = BPF_CORE_READ(attr, test.prog_fd);
		want = BPF_TYPE_PROG;
		op = BIMA_PROTECT_PROG;
		break;
	case BPF_LINK_UPDATE:
		fd = BPF_CORE_READ(attr, link_update.link_fd);
		want = BPF_TYPE_LINK;
		op = BIMA_PROTECT_BPF_LINK;
		break;
	case BPF_LINK_DETACH:
		fd = BPF_CORE_READ(attr, link_detach.link_fd);
		want = BPF_TYPE_LINK;
		op = BIMA_PROTECT_BPF_LINK;
		break;
	case BPF_OBJ_PIN:
		fd = BPF_CORE_READ(attr, bpf_fd);
		want = BPF_TYPE_UNSPEC; /* any of the three */
		op = BIMA_PROTECT_OBJ_PIN;
		break;
	default:
		return 0; /* reading, listing, getting fds, loading */
	}
	cfg = protect_config();
	if (!cfg || bima_program_runs(cfg))
		return 0;
	type = file_bpf_object(task_fd(fd), &obj);
	if (want != BPF_TYPE_UNSPEC && type != want)
		return 0; /* the command fails on its own */
	return bima_object(cfg, type, obj) ? protect_refuse(op) : 0;
}

/*
 * A shared writable mapping of a map: the ring buffer's consumer position,
 * which frees records. And an executable one, of anything, into a process
 * that runs bima (bima_code_mapped). A private mapping, as an exec makes of
 * each program's and library's data, writes neither a file nor a map (the
 * kernel maps no BPF map private: bpf_map_mmap refuses it with EINVAL), and
 * returns before the tests of the configuration, the daemon and the file's
 * name: about 440 instructions an exec of a static program (hooks.sh
 * --icount, 6.12 and 6.1).
 */
SEC("lsm/mmap_file")
int BPF_PROG(bima_protect_mmap, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	struct bima_config *cfg;
	enum bpf_type type;
	void *obj = NULL;

	if (ret != 0)
		return ret;
	if (prot & PROT_EXEC) {
		ret = bima_code_mapped(file);
		if (ret)
			return ret;
	}
	if (!file || !(prot & PROT_WRITE) || !(flags & MAP_SHARED))
		return 0;
	cfg = protect_config();
	if (!cfg)
		return 0;
	/* A shared writable mapping of a protected file, through an fd that predates protection */
	if (protected_fs(cfg, file) && protected_dentry(cfg, BPF_CORE_READ(file, f_path.dentry)))
		return protect_refuse(BIMA_PROTECT_WRITE);
	/* The cheaper test first: most writable mappings are of no BPF map. */
	type = file_bpf_object(file, &obj);
	if (type != BPF_TYPE_MAP || bima_program_runs(cfg))
		return 0;
	return bima_object(cfg, type, obj) ? protect_refuse(BIMA_PROTECT_MAP) : 0;
}

/*
 * An fd of a map is made (BPF_OBJ_GET, BPF_MAP_GET_FD_BY_ID). While no
 * daemon runs, a read-write fd of the ring buffer is refused to all but a
 * bima that starts: it could take records out (the consumer position),
 * which a later daemon would never log. Read-only fds, and every fd while
 * a daemon runs, are given out for inspection (bpftool 7.1 asks for
 * read-write fds to list maps); what is done with them is refused above.
 */
SEC("lsm/bpf_map")
int BPF_PROG(bima_protect_map_fd, struct bpf_map *map, fmode_t fmode, int ret)
{
	struct bima_config *cfg;

	if (ret != 0)
		return ret;
	if (!(fmode & FMODE_WRITE) || daemon_runs())
		return 0;
	cfg = protect_config();
	if (!cfg || !cfg->protect_events_id || BPF_CORE_READ(map, id) != cfg->protect_events_id)
		return 0;
	return protect_refuse(BIMA_PROTECT_MAP_FD);
}

/* The start time that, with its tgid, names task's process (bima_daemon). */
static __always_inline __u64 process_start(struct task_struct *task)
{
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/*
 * Make the process that runs this (BPF_PROG_RUN, by `bima run` before it
 * writes the log) the daemon, as the kernel knows it: its host tgid and its
 * start time, not a pid userspace hands in, which a PID namespace would
 * change and a later process could reuse. -EBUSY, claiming nothing, while
 * self-protection is on and another daemon is alive: its exit clears the
 * claim (bima_protect_exit), so a daemon recorded is a daemon running.
 */
SEC("syscall")
int bima_daemon_claim(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 tgid = bpf_get_current_pid_tgid() >> 32, cur, start = process_start(task);
	__u32 zero = 0;
	struct bima_config *cfg;
	struct bima_daemon *d;

	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	d = bpf_map_lookup_elem(&bima_daemon, &zero);
	if (!cfg || !d)
		return -EINVAL;
	cur = d->tgid;
	if (cur == tgid && d->start_boottime == start)
		goto out; /* already the daemon */
	if (cur && (cfg->flags & BIMA_CFG_PROTECT))
		return -EBUSY;
	if (__sync_val_compare_and_swap(&d->tgid, cur, 0) != cur)
		return -EBUSY; /* another claim, or an exit, came first */
	d->start_boottime = start;
	d->tgid = tgid;
out:
	cfg->daemon_tgid = tgid;
	return 0;
}

/*
 * The daemon's last thread exits: it is no longer the daemon, in every
 * mode, so a later process with its pid is measured like any other (and,
 * under self-protection, nothing is refused until the next daemon claims).
 * No successor can have claimed meanwhile under self-protection: a claim
 * is refused while the daemon recorded is alive (bima_daemon_claim). Any
 * process's exit takes it out of bima_tainted.
 */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(bima_protect_exit, struct task_struct *p)
{
	struct bima_config *cfg;
	struct bima_daemon *d;
	struct proc_id id;
	__u32 zero = 0;
	__u64 tgid;

	if (p->signal->live.counter)
		return 0; /* not its process's last thread */
	tgid = p->tgid;
	id.tgid = tgid;
	id.start_boottime = p->group_leader->start_boottime;
	untaint(&id);
	cfg = bpf_map_lookup_elem(&bima_config, &zero);
	d = bpf_map_lookup_elem(&bima_daemon, &zero);
	if (!cfg || !d || !tgid || tgid != d->tgid || id.start_boottime != d->start_boottime)
		return 0;
	if (__sync_val_compare_and_swap(&d->tgid, tgid, 0) == tgid && cfg->daemon_tgid == tgid)
		cfg->daemon_tgid = 0;
	return 0;
}

#endif /* BIMA_PROTECT_BPF_H */
