// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "ak.h"
#include "log.h"
#include "msg.h"
#include "protect.h"

/* The initial PID namespace's inode (PROC_PID_INIT_INO), as /proc/self/ns/pid names it. */
#define INIT_PID_NS "pid:[4026531836]"

/*
 * The programs of bpf/protect.bpf.h, named as their pins and links, and
 * the hooks they need. A program is written for a hook's parameters as
 * Linux 6.1 to 6.12 have them: a kernel whose hook has others runs without
 * it, as one that lacks the hook does. Opening for writing is refused by
 * bima_file_open, which every kernel has and the loader always attaches
 * (the re-measurement cache needs it too: loader.c, hooks).
 */
static const struct protect_prog {
	const char *prog;
	const char *hook;   /* the LSM hook (bpf_lsm_HOOK) or, without nargs, tracepoint */
	unsigned int nargs; /* the hook's parameters */
	bool required;	    /* without it, no self-protection */
	const char *what;   /* what it refuses */
} progs[] = {
	{ "bima_protect_exit", "sched_process_exit", 0, true, "(the daemon's exit)" },
	{ "bima_protect_create", "inode_create", 3, true, "creating files" },
	{ "bima_protect_mkdir", "inode_mkdir", 3, false, "creating directories" },
	{ "bima_protect_mknod", "inode_mknod", 4, false, "creating device nodes and sockets" },
	{ "bima_protect_symlink", "inode_symlink", 3, false, "creating symbolic links" },
	{ "bima_protect_link", "inode_link", 3, false, "hard links" },
	{ "bima_protect_unlink", "inode_unlink", 2, true, "unlinking" },
	{ "bima_protect_rmdir", "inode_rmdir", 2, false, "removing directories" },
	{ "bima_protect_rename", "inode_rename", 4, true, "renaming" },
	{ "bima_protect_truncate", "path_truncate", 1, false, "truncating by name" },
	{ "bima_protect_ftruncate", "file_truncate", 1, false,
	  "ftruncate through a descriptor opened before protection (which path_truncate "
	  "refuses where the kernel has no file_truncate)" },
	{ "bima_protect_chmod", "path_chmod", 2, false, "chmod" },
	{ "bima_protect_chown", "path_chown", 3, false, "chown" },
	{ "bima_protect_bpf", "bpf", 3, true, "changing bima's BPF objects" },
	{ "bima_protect_mmap", "mmap_file", 4, false, "mapping bima's maps writable" },
	{ "bima_protect_map_fd", "bpf_map", 2, false,
	  "read-write fds of the ring buffer while no daemon runs" },
	{ "bima_protect_mprotect", "file_mprotect", 3, false,
	  "code made executable by mprotect in a process that runs bima" },
	{ "bima_protect_exec", "sched_process_exec", 0, true,
	  "(an exec ending a taint, or a traced exec of bima making one)" },
	{ "bima_protect_ptrace", "ptrace_access_check", 2, true,
	  "attaching to a process that runs bima (ptrace, process_vm_writev, pidfd_getfd)" },
	{ "bima_protect_kill", "task_kill", 4, true,
	  "signals that would end the daemon while entries wait for the TPM" },
};

#define N_PROGS (sizeof(progs) / sizeof(progs[0]))

static bool hook_available(const struct btf *vmlinux, const struct protect_prog *p)
{
	const struct btf_type *t;
	char name[64];
	int id;

	if (!p->nargs) {
		snprintf(name, sizeof(name), "btf_trace_%s", p->hook);
		return btf__find_by_name_kind(vmlinux, name, BTF_KIND_TYPEDEF) > 0;
	}
	snprintf(name, sizeof(name), "bpf_lsm_%s", p->hook);
	id = btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC);
	t = id > 0 ? btf__type_by_id(vmlinux, id) : NULL;
	t = t ? btf__type_by_id(vmlinux, t->type) : NULL;
	return t && btf_is_func_proto(t) && btf_vlen(t) == p->nargs;
}

int protect_parse(const char *s, enum protect_mode *mode)
{
	if (!strcmp(s, "yes"))
		*mode = PROTECT_YES;
	else if (!strcmp(s, "no"))
		*mode = PROTECT_NO;
	else
		return -EINVAL;
	return 0;
}

bool protect_own_name(const char *name)
{
	size_t len = strlen(name);

	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "lost+found"))
		return true;
	if (!strncmp(name, "epoch-", 6))
		return true;
	if (!strcmp(name, AK_PUB) || !strcmp(name, AK_PRIV))
		return true;
	/* log_write_file()'s temporary files: .NAME.tmp */
	return len > 5 && name[0] == '.' && !strcmp(name + len - 4, ".tmp") &&
	       (!strncmp(name + 1, AK_PUB, strlen(AK_PUB)) ||
		!strncmp(name + 1, AK_PRIV, strlen(AK_PRIV)));
}

int protect_dir_is_own(const char *dir, char *other, size_t size)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int own = 1;

	if (!d)
		return -errno;
	while (own && (de = readdir(d)))
		if (!protect_own_name(de->d_name)) {
			snprintf(other, size, "%s", de->d_name);
			own = 0;
		}
	closedir(d);
	return own;
}

int protect_ident(const char *path, __u64 *dev, __u64 *ino)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	*dev = (__u64)major(st.st_dev) << 20 | minor(st.st_dev); /* MKDEV() */
	*ino = st.st_ino;
	return 0;
}

bool protect_code_line(const char *line, struct bima_file_id *id)
{
	unsigned int major, minor;
	unsigned long ino;
	char perms[5];

	if (sscanf(line, "%*x-%*x %4s %*x %x:%x %lu", perms, &major, &minor, &ino) != 4)
		return false;
	if (strlen(perms) != 4 || perms[2] != 'x' || !ino)
		return false;
	id->dev = (__u64)major << 20 | minor; /* MKDEV(), as the kernel prints s_dev */
	id->ino = ino;
	return true;
}

void protect_select(struct bpf_object *obj, const struct btf *vmlinux)
{
	for (size_t i = 0; i < N_PROGS; i++)
		if (!hook_available(vmlinux, &progs[i]))
			bpf_program__set_autoload(
				bpf_object__find_program_by_name(obj, progs[i].prog), false);
}

/* Why this daemon cannot protect, into why; false if it can. */
static bool unsafe(struct btf *vmlinux, char *why, size_t size)
{
	char ns[64] = "";
	ssize_t n;

	if (!vmlinux) {
		snprintf(why, size, "the kernel's BTF cannot be read");
		return true;
	}
	for (size_t i = 0; i < N_PROGS; i++)
		if (progs[i].required && !hook_available(vmlinux, &progs[i])) {
			snprintf(why, size, "this kernel has no %s hook for BPF", progs[i].hook);
			return true;
		}
	n = readlink("/proc/self/ns/pid", ns, sizeof(ns) - 1);
	ns[n > 0 ? n : 0] = '\0';
	if (strcmp(ns, INIT_PID_NS)) {
		snprintf(why, size,
			 "bima runs in a PID namespace of its own (%s), where its pid is not the "
			 "one the hooks see",
			 ns[0] ? ns : "unknown");
		return true;
	}
	return false;
}

int protect_decide(enum protect_mode mode, const char *log_dir, bool *on)
{
	struct btf *vmlinux;
	char why[160], other[256];
	int err, own;

	*on = false;
	if (mode == PROTECT_NO)
		return 0;
	err = log_make_dir(log_dir);
	if (err) {
		pr_err("%s: %s", log_dir, strerror(-err));
		return err;
	}
	vmlinux = btf__load_vmlinux_btf();
	if (unsafe(vmlinux, why, sizeof(why))) {
		btf__free(vmlinux);
		if (mode == PROTECT_YES) {
			pr_err("--protect yes: no self-protection here: %s", why);
			return -EINVAL;
		}
		pr_notice("self-protection is off: %s", why);
		return 0;
	}
	own = protect_dir_is_own(log_dir, other, sizeof(other));
	if (own < 0) {
		btf__free(vmlinux);
		pr_err("%s: %s", log_dir, strerror(-own));
		return own;
	}
	if (!own && mode == PROTECT_AUTO) {
		btf__free(vmlinux);
		pr_notice("self-protection is off: %s holds \"%s\", which is not bima's, and "
			  "everything beneath the log directory would be protected; give bima a "
			  "directory of its own, or --protect yes",
			  log_dir, other);
		return 0;
	}
	if (!own)
		pr_warn("--protect yes: everything beneath %s is protected, \"%s\" too", log_dir,
			other);
	for (size_t i = 0; i < N_PROGS; i++)
		if (!hook_available(vmlinux, &progs[i]))
			pr_warn("this kernel has no %s hook for BPF (with these parameters): "
				"self-protection does not refuse %s",
				progs[i].hook, progs[i].what);
	btf__free(vmlinux);
	*on = true;
	return 0;
}

int protect_check_pins(const char *pin_dir)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char link[256];
	int err = 0;

	if (!vmlinux)
		return -errno;
	for (size_t i = 0; i < N_PROGS && !err; i++) {
		snprintf(link, sizeof(link), "%s/links/%s", pin_dir, progs[i].prog);
		if (!hook_available(vmlinux, &progs[i]) || !access(link, F_OK))
			continue;
		pr_err("%s is missing: self-protection does not refuse %s; remove the pins with "
		       "`bima stop --unload` and start again (or run with --protect no)",
		       link, progs[i].what);
		err = -ENOENT;
	}
	btf__free(vmlinux);
	return err;
}

void protect_report(const struct bima_stats *st, uint64_t *reported)
{
	static const char *const ops[] = {
		[BIMA_PROTECT_WRITE] = "open for writing",
		[BIMA_PROTECT_TRUNCATE] = "truncate",
		[BIMA_PROTECT_ATTR] = "chmod or chown",
		[BIMA_PROTECT_CREATE] = "create",
		[BIMA_PROTECT_UNLINK] = "unlink or rmdir",
		[BIMA_PROTECT_RENAME] = "rename",
		[BIMA_PROTECT_LINK] = "hard link",
		[BIMA_PROTECT_MAP] = "write a map",
		[BIMA_PROTECT_PROG] = "run a program",
		[BIMA_PROTECT_BPF_LINK] = "detach or update a link",
		[BIMA_PROTECT_OBJ_PIN] = "pin an object",
		[BIMA_PROTECT_MAP_FD] = "a read-write fd of the ring buffer",
		[BIMA_PROTECT_PTRACE] = "attach to a process that runs bima",
		[BIMA_PROTECT_SIGNAL] = "a signal that would end the daemon while entries wait",
	};
	uint32_t op = st->protect_last_op;

	if (st->protect_denied <= *reported)
		return;
	pr_warn("self-protection refused %lu operation(s) on the log or bima's BPF objects (%lu "
		"since the programs were loaded); the last: %s, by pid %u (%.16s)",
		(unsigned long)(st->protect_denied - *reported), (unsigned long)st->protect_denied,
		op < sizeof(ops) / sizeof(ops[0]) && ops[op] ? ops[op] : "?", st->protect_last_tgid,
		st->protect_last_comm);
	*reported = st->protect_denied;
}
