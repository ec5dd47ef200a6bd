// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* vasprintf */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "hashalg.h"
#include "loader.h"
#include "loader_int.h"
#include "measure.skel.h"
#include "msg.h"
#include "protect.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define LSM_LIST "/sys/kernel/security/lsm"

/* Pin kinds, in the order they are removed: links first, so nothing new arrives. */
static const char *const pin_kinds[] = { "links", "progs", "maps" };

/*
 * The LSM hooks, one program each, named as its pin and its link. A kernel
 * without an optional hook (no bpf_lsm_<hook> in its BTF) runs without it.
 */
static const struct hook {
	const char *prog;
	const char *lsm;
	const char *what; /* what it measures, with IMA's func names; NULL: nothing */
	bool required;
} hooks[] = {
	{ "bima_bprm_check", "bprm_check_security", "exec (BPRM_CHECK)", true },
	{ "bima_mmap_file", "mmap_file", "executable mmap (MMAP_CHECK)", true },
	{ "bima_kernel_read_file", "kernel_read_file",
	  "kernel file reads (MODULE_CHECK, FIRMWARE_CHECK, KEXEC_KERNEL_CHECK, "
	  "KEXEC_INITRAMFS_CHECK, POLICY_CHECK)",
	  false },
	{ "bima_kernel_load_data", "kernel_load_data",
	  "kernel loads from memory (init_module, kexec_load, ...: logged unhashed)", false },
	{ "bima_file_post_open", "file_post_open", "opens (FILE_CHECK)", false },
	{ "bima_bpf_prog", "bpf_prog", "BPF programs (BPF_CHECK)", false },
	/*
	 * Not a measurement: a writer's open makes the re-measurement cache
	 * forget the file; and self-protection refuses opening bima's files
	 * for writing (protect.c).
	 */
	{ "bima_file_open", "file_open", NULL, true },
};

#define N_HOOKS (sizeof(hooks) / sizeof(hooks[0]))

/* Whether the hook's link is pinned, so the hook is attached. */
static bool hook_pinned(const struct hook *h)
{
	char link[256];

	snprintf(link, sizeof(link), "%s/links/%s", LOADER_PIN_DIR, h->prog);
	return !access(link, F_OK);
}

static int libbpf_msg(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char *line = NULL; /* whole: a verifier log is one message of many lines */
	int n;

	if (level == LIBBPF_DEBUG && msg_verbosity < 2)
		return 0;
	n = vasprintf(&line, fmt, ap);
	if (n < 0)
		return 0;
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	msg(level == LIBBPF_WARN ? MSG_WARN : MSG_DEBUG, "%s", line); /* has "libbpf: " */
	free(line);
	return 0;
}

/* BPF LSM must be in the kernel's active LSM list, or nothing attaches. */
static int check_bpf_lsm(void)
{
	char list[512] = "";
	FILE *f = fopen(LSM_LIST, "r");

	if (!f) {
		pr_err("%s: %s; is securityfs mounted?", LSM_LIST, strerror(errno));
		return -ENOENT;
	}
	if (!fgets(list, sizeof(list), f))
		list[0] = '\0';
	fclose(f);
	list[strcspn(list, "\n")] = '\0';
	for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","))
		if (!strcmp(tok, "bpf"))
			return 0;
	pr_err("BPF LSM is not active (%s: \"%s\"): boot with \"bpf\" in the lsm= kernel "
	       "parameter, e.g. lsm=<the list above>,bpf",
	       LSM_LIST, list);
	return -EOPNOTSUPP;
}

/* sha256 of this build's BPF object: adoption needs the same layout of everything. */
static void object_id(uint8_t id[BIMA_OBJECT_ID_LEN])
{
	size_t size;
	const void *elf = measure_bpf__elf_bytes(&size);

	hashalg_digest(hashalg_by_name("sha256", 6), elf, size, id);
}

static const char *short_id(const uint8_t *id, char *hex)
{
	hex_encode(id, 8, hex);
	return hex;
}

__u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/*
 * Become the daemon (bima_daemon_claim): the hooks record this process as
 * the kernel knows it. -EBUSY while another daemon that protects runs.
 */
static int claim(int claim_fd)
{
	LIBBPF_OPTS(bpf_test_run_opts, run);

	if (bpf_prog_test_run_opts(claim_fd, &run))
		return -errno;
	return (int)run.retval;
}

/*
 * Record the files this process maps executable, its dynamic loader and
 * libraries, as bima's code (bima_code): a process that runs bima may map
 * these under --fail-closed, or while self-protection has no daemon, and
 * nothing else keeps its exemptions. With upgrades, also what the same
 * paths name now (the bima program as BIMA_CODE_PROGRAM), so that the bima
 * an upgrade installed can start after this daemon. Errors are warned of.
 */
static void record_code(int code_fd, bool upgrades)
{
	char line[4096 + 128], exe[4096], *path, *end;
	struct bima_file_id id;
	struct stat st;
	ssize_t n;
	__u8 kind;
	int err = 0;
	FILE *f;

	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	end = strstr(exe, " (deleted)");
	if (end && !end[10])
		*end = '\0';
	f = fopen("/proc/self/maps", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!protect_code_line(line, &id))
			continue;
		kind = BIMA_CODE_LIBRARY;
		path = strchr(line, '/'); /* the first '/' of a line starts its path */
		if (path) {
			path[strcspn(path, "\n")] = '\0';
			end = strstr(path, " (deleted)"); /* replaced since it was mapped */
			if (end && !end[10])
				*end = '\0';
			if (!strcmp(path, exe))
				kind = BIMA_CODE_PROGRAM;
		}
		if (kind == BIMA_CODE_LIBRARY && bpf_map_update_elem(code_fd, &id, &kind, BPF_ANY))
			err = err ?: -errno;
		if (!upgrades || !path || stat(path, &st) || !S_ISREG(st.st_mode))
			continue;
		id.dev = (__u64)major(st.st_dev) << 20 | minor(st.st_dev);
		id.ino = st.st_ino;
		if (bpf_map_update_elem(code_fd, &id, &kind, BPF_ANY))
			err = err ?: -errno;
	}
	fclose(f);
	if (err)
		pr_warn("cannot record all of bima's code in bima_code: %s; a bima that maps "
			"the rest is not exempt from --fail-closed nor self-protection",
			strerror(-err));
}

/*
 * Claim the objects for this daemon (not measured), and record this
 * build's object id and how it wants to fail; the bima program's inode is
 * let through when failing closed. Updates only what the daemon owns;
 * drops_logged is kept. With events_fd -1, the ring buffer's id for
 * self-protection stays as it was.
 */
static int write_config(int fd, int claim_fd, int code_fd, int events_fd,
			const struct loader_opts *opts)
{
	struct bima_config cfg;
	struct stat st;
	__u32 zero = 0;
	int err;

	err = claim(claim_fd);
	if (err)
		return err;
	record_code(code_fd, false);
	if (bpf_map_lookup_elem(fd, &zero, &cfg))
		return -errno;
	if (stat("/proc/self/exe", &st))
		return -errno;
	cfg.flags = opts->fail_closed ? BIMA_CFG_FAIL_CLOSED : 0;
	cfg.heartbeat_ns = monotonic_ns();
	cfg.grace_ns = opts->grace_ms * 1000000ull;
	cfg.max_lag_ns = opts->max_lag_ms * 1000000ull;
	cfg.unextended_ns = 0; /* the daemon says so once its entries wait */
	cfg.pcr = opts->pcr;
	cfg.exempt_dev = (__u64)major(st.st_dev) << 20 | minor(st.st_dev); /* MKDEV() */
	cfg.exempt_ino = st.st_ino;
	object_id(cfg.object_id);
	set_own(&cfg, opts);
	err = set_protection(&cfg, fd, events_fd, opts);
	if (err)
		return err;
	return bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * Write pol into the policy map's idle slot, then run bima_policy_switch to
 * put it in force, which logs the switch. Callers on pinned objects hold
 * the pin directory's lock, so no other switch writes the slot meanwhile.
 */
static int switch_policy(int stats_fd, int policy_fd, int switch_fd, const struct bima_policy *pol)
{
	struct bima_policy_switch ctx;
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
	struct bima_stats st;
	__u32 zero = 0, slot;

	if (bpf_map_lookup_elem(stats_fd, &zero, &st))
		return -errno;
	ctx.gen = st.policy_gen;
	slot = (ctx.gen + 1) & 1;
	if (bpf_map_update_elem(policy_fd, &slot, pol, BPF_ANY) ||
	    bpf_prog_test_run_opts(switch_fd, &run))
		return -errno;
	return (int)run.retval;
}

static int policy_error(int err)
{
	pr_err("cannot put the policy in force: %s%s", strerror(-err),
	       err == -ENOSPC	? " (the ring buffer has no room for the record of the change; "
				  "nothing changed, try again when a daemon has drained it)"
	       : err == -EAGAIN ? " (another policy was put in force at the same time)"
				: "");
	return err;
}

static int pin(const char *kind, const char *name, int err)
{
	if (err)
		pr_err("cannot pin %s/%s/%s: %s", LOADER_PIN_DIR, kind, name, strerror(-err));
	return err;
}

static int pin_all(struct loader *l)
{
	static const char *const dirs[] = { LOADER_PIN_DIR, LOADER_PIN_DIR "/maps",
					    LOADER_PIN_DIR "/progs", LOADER_PIN_DIR "/links" };
	struct measure_bpf *s = l->skel;
	struct bpf_program *prog;
	struct bpf_map *map;
	char path[256];
	int err;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0700)) {
			pr_err("%s: %s", dirs[i], strerror(errno));
			return -errno;
		}
	bpf_object__for_each_map (map, s->obj) {
		if (bpf_map__is_internal(map))
			continue;
		snprintf(path, sizeof(path), "%s/maps/%s", LOADER_PIN_DIR, bpf_map__name(map));
		err = pin("maps", bpf_map__name(map), bpf_map__pin(map, path));
		if (err)
			return err;
	}
	bpf_object__for_each_program (prog, s->obj) {
		if (!bpf_program__autoload(prog))
			continue;
		snprintf(path, sizeof(path), "%s/progs/%s", LOADER_PIN_DIR,
			 bpf_program__name(prog));
		err = pin("progs", bpf_program__name(prog), bpf_program__pin(prog, path));
		if (err)
			return err;
	}
	for (int i = 0; i < s->skeleton->prog_cnt; i++) {
		const struct bpf_prog_skeleton *p = &s->skeleton->progs[i];

		if (!*p->link)
			continue;
		snprintf(path, sizeof(path), "%s/links/%s", LOADER_PIN_DIR, p->name);
		err = pin("links", p->name, bpf_link__pin(*p->link, path));
		if (err)
			return err;
	}
	return 0;
}

/*
 * Files on overlayfs are cached through overlayfs's own types (struct
 * ovl_inode: bpf/overlay.bpf.h), which libbpf finds in the overlay
 * module's BTF only if the module is loaded when the programs are. Ask the
 * kernel for the filesystem first, as a mount would (fsopen() loads its
 * module), and say so when its types cannot be had.
 */
static void want_overlay(const struct btf *vmlinux)
{
	int fd = fsopen("overlay", FSOPEN_CLOEXEC);

	if (fd < 0)
		return; /* no overlayfs now (a module loaded later is not cached: docs/cache.md) */
	close(fd);
	if (btf__find_by_name_kind(vmlinux, "ovl_inode", BTF_KIND_STRUCT) > 0 ||
	    !access("/sys/kernel/btf/overlay", R_OK))
		return;
	pr_warn("overlayfs has no BTF (/sys/kernel/btf/overlay): files on overlayfs are hashed "
		"at every access");
}

/* Switch off the optional hooks this kernel lacks; fail if it lacks a required one. */
static int select_hooks(struct measure_bpf *s)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	char fn[64];
	int err = 0;

	if (!vmlinux) {
		pr_err("cannot read the kernel's BTF (/sys/kernel/btf/vmlinux): %s; bima needs "
		       "CONFIG_DEBUG_INFO_BTF",
		       strerror(errno));
		return -errno;
	}
	protect_select(s->obj, vmlinux);
	want_overlay(vmlinux);
	for (size_t i = 0; i < N_HOOKS; i++) {
		snprintf(fn, sizeof(fn), "bpf_lsm_%s", hooks[i].lsm);
		if (btf__find_by_name_kind(vmlinux, fn, BTF_KIND_FUNC) > 0)
			continue;
		if (hooks[i].required) {
			pr_err("this kernel has no %s LSM hook for BPF: bima cannot %s%s",
			       hooks[i].lsm, hooks[i].what ? "measure " : "track writes",
			       hooks[i].what ?: "");
			err = -ENOTSUP;
			break;
		}
		pr_warn("this kernel has no %s LSM hook for BPF: %s are not measured", hooks[i].lsm,
			hooks[i].what);
		bpf_program__set_autoload(bpf_object__find_program_by_name(s->obj, hooks[i].prog),
					  false);
	}
	btf__free(vmlinux);
	return err;
}

static int load(struct loader *l, const struct loader_opts *opts)
{
	int err;

	err = check_bpf_lsm();
	if (err)
		return err;
	l->skel = measure_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(-err));
		return err;
	}
	err = select_hooks(l->skel);
	if (err)
		return err;
	err = bpf_map__set_max_entries(l->skel->maps.bima_events, opts->ringbuf_size);
	if (err) {
		pr_err("ring buffer size %u: %s", opts->ringbuf_size, strerror(-err));
		return err;
	}
	err = measure_bpf__load(l->skel);
	if (err) {
		pr_err("cannot load the BPF programs: %s (run with -vv for the verifier log)",
		       strerror(-err));
		return err;
	}
	l->events_fd = bpf_map__fd(l->skel->maps.bima_events);
	l->stats_fd = bpf_map__fd(l->skel->maps.bima_stats);
	l->config_fd = bpf_map__fd(l->skel->maps.bima_config);
	l->policy_fd = bpf_map__fd(l->skel->maps.bima_policy);
	l->switch_fd = bpf_program__fd(l->skel->progs.bima_policy_switch);
	l->anchors_fd = bpf_map__fd(l->skel->maps.bima_anchors);
	l->anchor_fd = bpf_program__fd(l->skel->progs.bima_anchor_add);
	l->claim_fd = bpf_program__fd(l->skel->progs.bima_daemon_claim);
	l->code_fd = bpf_map__fd(l->skel->maps.bima_code);
	l->reader_fd = bpf_map__fd(l->skel->maps.bima_reader);
	if (bpf_map_freeze(l->anchors_fd) ||
	    bpf_map_freeze(bpf_map__fd(l->skel->maps.bima_daemon))) {
		err = -errno;
		pr_err("cannot freeze the bima_anchors and bima_daemon maps: %s", strerror(-err));
		return err;
	}
	err = write_config(l->config_fd, l->claim_fd, l->code_fd, l->events_fd, opts);
	if (err) {
		pr_err("cannot configure the BPF programs: %s", strerror(-err));
		return err;
	}
	/* Before the hooks attach: the policy's record is the first, sequence number 0. */
	err = switch_policy(l->stats_fd, l->policy_fd, l->switch_fd, opts->policy);
	if (err)
		return policy_error(err);
	err = measure_bpf__attach(l->skel);
	if (err) {
		pr_err("cannot attach the BPF-LSM programs: %s%s", strerror(-err),
		       err == -EPERM ? " (this kernel refuses BPF trampolines; it cannot run "
				       "BPF-LSM programs)"
				     : "");
		return err;
	}
	err = pin_all(l);
	/* Again, now that the pin directory, which self-protection covers, exists. */
	err = err ?: write_config(l->config_fd, l->claim_fd, l->code_fd, l->events_fd, opts);
	if (err)
		loader_unload(l); /* a partial pin set would only confuse the next start */
	return err;
}

/* Hold the pin directory's lock (policy switches) until the fd is closed. */
static int lock_pins(void)
{
	int fd = open(LOADER_PIN_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0 || flock(fd, LOCK_EX)) {
		pr_err("cannot lock %s: %s", LOADER_PIN_DIR, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	return fd;
}

/* A pinned map opened read-only: all that a command which only looks needs. */
int get_rdonly(const char *path)
{
	LIBBPF_OPTS(bpf_obj_get_opts, o, .file_flags = BPF_F_RDONLY);

	return bpf_obj_get_opts(path, &o);
}

/*
 * Read the pinned configuration, and whether this build pinned it: the
 * same BPF object, so the same layout of every record and map.
 */
static bool same_build(int config_fd, struct bima_config *cfg, struct bpf_map_info *info)
{
	uint8_t mine[BIMA_OBJECT_ID_LEN];
	__u32 len = sizeof(*info), zero = 0;

	object_id(mine);
	memset(info, 0, sizeof(*info));
	return !bpf_obj_get_info_by_fd(config_fd, info, &len) && info->value_size == sizeof(*cfg) &&
	       !bpf_map_lookup_elem(config_fd, &zero, cfg) &&
	       !memcmp(cfg->object_id, mine, sizeof(mine));
}

/* The pinned configuration, if this build pinned it; -ESTALE (reported) otherwise. */
int pinned_config(int config_fd, struct bima_config *cfg)
{
	uint8_t mine[BIMA_OBJECT_ID_LEN];
	struct bpf_map_info info;
	char a[17], b[17];

	if (same_build(config_fd, cfg, &info))
		return 0;
	object_id(mine);
	pr_err("the objects pinned in %s come from another bima build (BPF object %s, "
	       "this build's is %s); they keep measuring, but this bima cannot read "
	       "their records. Run the bima that loaded them, or remove them with "
	       "`bima stop --unload --force` (their queued records are then lost, and "
	       "the log cannot say how many) and start this one",
	       LOADER_PIN_DIR,
	       info.value_size == sizeof(*cfg) ? short_id(cfg->object_id, a) : "unknown",
	       short_id(mine, b));
	return -ESTALE;
}

/* Open the pins of a complete set. */
static int open_pins(struct loader *l)
{
	l->own_fds = true;
	l->events_fd = bpf_obj_get(PIN("maps", "bima_events"));
	l->stats_fd = bpf_obj_get(PIN("maps", "bima_stats"));
	l->config_fd = bpf_obj_get(PIN("maps", "bima_config"));
	l->policy_fd = bpf_obj_get(PIN("maps", "bima_policy"));
	l->switch_fd = bpf_obj_get(PIN("progs", "bima_policy_switch"));
	l->anchors_fd = bpf_obj_get(PIN("maps", "bima_anchors"));
	l->anchor_fd = bpf_obj_get(PIN("progs", "bima_anchor_add"));
	l->claim_fd = bpf_obj_get(PIN("progs", "bima_daemon_claim"));
	l->code_fd = bpf_obj_get(PIN("maps", "bima_code"));
	l->reader_fd = bpf_obj_get(PIN("maps", "bima_reader"));
	if (l->events_fd >= 0 && l->stats_fd >= 0 && l->config_fd >= 0 && l->policy_fd >= 0 &&
	    l->switch_fd >= 0 && l->anchors_fd >= 0 && l->anchor_fd >= 0 && l->claim_fd >= 0 &&
	    l->code_fd >= 0 && l->reader_fd >= 0)
		return 0;
	pr_err("%s holds an incomplete set of bima's objects (%s); remove it with `bima stop "
	       "--unload --force` and start again",
	       LOADER_PIN_DIR, strerror(errno));
	return -ENOENT;
}

/* Take over the objects a previous daemon pinned, if this build made them. */
static int adopt(struct loader *l, const struct loader_opts *opts)
{
	struct bima_config cfg;
	int err;

	err = open_pins(l) ?: pinned_config(l->config_fd, &cfg);
	if (err)
		return err;
	for (size_t i = 0; i < N_HOOKS; i++)
		if (hooks[i].required && !hook_pinned(&hooks[i])) {
			pr_err("%s/links/%s is missing: that hook is not attached; remove the "
			       "pins with `bima stop --unload` and start again",
			       LOADER_PIN_DIR, hooks[i].prog);
			return -ENOENT;
		}
	if (opts->protect) {
		err = protect_check_pins(LOADER_PIN_DIR);
		if (err)
			return err;
	}
	err = write_config(l->config_fd, l->claim_fd, l->code_fd, l->events_fd, opts);
	if (err == -EPERM) {
		pr_err("cannot configure the pinned BPF programs: %s: self-protection lets only a "
		       "bima that runs its own code take over, not one that is traced (ptrace, "
		       "strace, gdb) or runs a library of its own (LD_PRELOAD)",
		       strerror(-err));
		return err;
	}
	if (err) {
		pr_err("cannot configure the BPF programs: %s", strerror(-err));
		return err;
	}
	if (opts->policy_given) {
		int lock = lock_pins();

		err = lock < 0 ? lock
			       : switch_policy(l->stats_fd, l->policy_fd, l->switch_fd,
					       opts->policy);
		if (lock >= 0)
			close(lock);
		if (err)
			return policy_error(err);
	}
	return 0;
}

static struct loader *loader_alloc(void)
{
	struct loader *l = calloc(1, sizeof(*l));

	if (l)
		l->events_fd = l->stats_fd = l->config_fd = l->policy_fd = l->switch_fd =
			l->anchors_fd = l->anchor_fd = l->claim_fd = l->code_fd = l->reader_fd = -1;
	return l;
}

int loader__open(const struct loader_opts *opts, struct loader **out)
{
	struct statfs fs;
	struct loader *l;
	int err;

	libbpf_set_print(libbpf_msg);
	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		pr_err("/sys/fs/bpf is not a BPF filesystem: mount -t bpf bpf /sys/fs/bpf");
		return -ENOENT;
	}
	l = loader_alloc();
	if (!l)
		return -ENOMEM;
	if (!access(LOADER_PIN_DIR, F_OK))
		err = adopt(l, opts);
	else if (opts->adopt_only)
		err = -ENOENT;
	else
		err = load(l, opts);
	if (err) {
		loader__free(l);
		return err;
	}
	*out = l;
	return 0;
}

void loader__free(struct loader *l)
{
	if (!l)
		return;
	/* The daemon lets go: a bima or a library upgraded meanwhile is bima's code too. */
	if (l->code_fd >= 0)
		record_code(l->code_fd, true);
	if (l->own_fds) {
		if (l->events_fd >= 0)
			close(l->events_fd);
		if (l->stats_fd >= 0)
			close(l->stats_fd);
		if (l->config_fd >= 0)
			close(l->config_fd);
		if (l->policy_fd >= 0)
			close(l->policy_fd);
		if (l->switch_fd >= 0)
			close(l->switch_fd);
		if (l->anchors_fd >= 0)
			close(l->anchors_fd);
		if (l->anchor_fd >= 0)
			close(l->anchor_fd);
		if (l->claim_fd >= 0)
			close(l->claim_fd);
		if (l->code_fd >= 0)
			close(l->code_fd);
		if (l->reader_fd >= 0)
			close(l->reader_fd);
	}
	measure_bpf__destroy(l->skel); /* the pinned links keep the hooks attached */
	free(l);
}

static void unprotect(const struct loader *l);

void loader_unload(struct loader *l)
{
	char path[512];
	struct dirent *de;
	DIR *d;

	unprotect(l);
	/* Our own link fds would keep the hooks attached after the pins are gone. */
	if (l && l->skel)
		measure_bpf__detach(l->skel);
	for (size_t i = 0; i < sizeof(pin_kinds) / sizeof(pin_kinds[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", LOADER_PIN_DIR, pin_kinds[i]);
		d = opendir(path);
		if (!d)
			continue;
		while ((de = readdir(d))) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s/%s", LOADER_PIN_DIR, pin_kinds[i],
				 de->d_name);
			if (unlink(path))
				pr_err("cannot remove %s: %s", path, strerror(errno));
			else
				pr_info("removed %s", path);
		}
		closedir(d);
		snprintf(path, sizeof(path), "%s/%s", LOADER_PIN_DIR, pin_kinds[i]);
		rmdir(path);
	}
	if (rmdir(LOADER_PIN_DIR) && errno != ENOENT)
		pr_err("cannot remove %s: %s", LOADER_PIN_DIR, strerror(errno));
}

int loader_pinned_policy(const struct bima_policy *pol)
{
	struct loader *l = loader_alloc();
	struct bima_config cfg;
	int lock, err;

	if (!l)
		return -ENOMEM;
	lock = lock_pins();
	err = lock < 0 ? lock : open_pins(l) ?: pinned_config(l->config_fd, &cfg);
	if (!err) {
		err = switch_policy(l->stats_fd, l->policy_fd, l->switch_fd, pol);
		if (err)
			policy_error(err);
	}
	if (lock >= 0)
		close(lock);
	loader__free(l);
	return err;
}

void loader_describe(char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < N_HOOKS; i++)
		if (hooks[i].what && hook_pinned(&hooks[i]) && len < size)
			len += snprintf(buf + len, size - len, "%s%s", len ? ", " : "",
					hooks[i].what);
}

/*
 * Before the pins go: the kernel detaches a hook some time after its link
 * is unpinned, and the hook that notices the daemon's exit may go first.
 */
static void unprotect(const struct loader *l)
{
	int fd = l ? l->config_fd : bpf_obj_get(PIN("maps", "bima_config"));
	struct bpf_map_info info;
	struct bima_config cfg;
	__u32 zero = 0;

	if (fd >= 0 && same_build(fd, &cfg, &info) && (cfg.flags & BIMA_CFG_PROTECT)) {
		cfg.flags &= ~BIMA_CFG_PROTECT;
		if (bpf_map_update_elem(fd, &zero, &cfg, BPF_ANY))
			pr_warn("cannot turn self-protection off before unpinning: %s",
				strerror(errno));
	}
	if (!l && fd >= 0)
		close(fd);
}

int loader_claim(const struct loader_opts *opts)
{
	struct bpf_map_info info;
	struct bima_config cfg;
	int fd, claim_fd, code_fd, events_fd, err = 0;

	fd = bpf_obj_get(PIN("maps", "bima_config"));
	if (fd < 0)
		return 0;
	if (!same_build(fd, &cfg, &info)) {
		close(fd);
		return 0;
	}
	claim_fd = bpf_obj_get(PIN("progs", "bima_daemon_claim"));
	code_fd = bpf_obj_get(PIN("maps", "bima_code"));
	events_fd = get_rdonly(PIN("maps", "bima_events"));
	err = claim_fd < 0 || code_fd < 0 ? -ENOENT
					  : write_config(fd, claim_fd, code_fd, events_fd, opts);
	if (err == -EBUSY)
		pr_err("bima (pid %u) runs, and protects its log and %s: stop it first (`bima "
		       "stop`)",
		       !bpf_map_lookup_elem(fd, &(__u32){ 0 }, &cfg) ? cfg.daemon_tgid : 0,
		       LOADER_PIN_DIR);
	else if (err)
		pr_err("cannot configure the BPF programs: %s", strerror(-err));
	if (events_fd >= 0)
		close(events_fd);
	if (claim_fd >= 0)
		close(claim_fd);
	if (code_fd >= 0)
		close(code_fd);
	close(fd);
	return err;
}
