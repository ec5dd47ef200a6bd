// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader.h"
#include "measure.skel.h"
#include "msg.h"

#define BPF_FS_MAGIC 0xcafe4a11
#define LSM_LIST "/sys/kernel/security/lsm"

struct loader {
	struct measure_bpf *skel;
	bool pinned;
};

static int libbpf_msg(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[1024];
	size_t n;

	if (level == LIBBPF_DEBUG && msg_verbosity < 2)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	msg(level == LIBBPF_WARN ? MSG_WARN : MSG_DEBUG, "%s", line); /* has "libbpf: " */
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

static int pin(const char *what, const char *name, int (*fn)(void *, const char *), void *obj)
{
	char path[256];
	int err;

	snprintf(path, sizeof(path), "%s/%s/%s", LOADER_PIN_DIR, what, name);
	err = fn(obj, path);
	if (err)
		pr_err("cannot pin %s: %s", path, strerror(-err));
	return err;
}

static int pin_map(void *m, const char *p)
{
	return bpf_map__pin(m, p);
}
static int pin_prog(void *p, const char *path)
{
	return bpf_program__pin(p, path);
}
static int pin_link(void *l, const char *p)
{
	return bpf_link__pin(l, p);
}

static int make_pin_dirs(void)
{
	static const char *const dirs[] = { LOADER_PIN_DIR, LOADER_PIN_DIR "/maps",
					    LOADER_PIN_DIR "/progs", LOADER_PIN_DIR "/links" };
	struct statfs fs;

	if (statfs("/sys/fs/bpf", &fs) || fs.f_type != BPF_FS_MAGIC) {
		pr_err("/sys/fs/bpf is not a BPF filesystem: mount -t bpf bpf /sys/fs/bpf");
		return -ENOENT;
	}
	if (!access(LOADER_PIN_DIR, F_OK)) {
		pr_err("%s exists: another bima is running, or one stopped without cleaning "
		       "up; if none runs, remove it (rm -r %s) and start again",
		       LOADER_PIN_DIR, LOADER_PIN_DIR);
		return -EEXIST;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (mkdir(dirs[i], 0700)) {
			pr_err("%s: %s", dirs[i], strerror(errno));
			return -errno;
		}
	return 0;
}

static int pin_all(struct loader *l)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int err;

	err = make_pin_dirs();
	if (err)
		return err;
	l->pinned = true;
	bpf_object__for_each_map (map, l->skel->obj) {
		if (bpf_map__is_internal(map))
			continue;
		err = pin("maps", bpf_map__name(map), pin_map, map);
		if (err)
			return err;
	}
	bpf_object__for_each_program (prog, l->skel->obj) {
		err = pin("progs", bpf_program__name(prog), pin_prog, prog);
		if (err)
			return err;
	}
	err = pin("links", "bima_bprm_check", pin_link, l->skel->links.bima_bprm_check);
	err = err ?: pin("links", "bima_mmap_file", pin_link, l->skel->links.bima_mmap_file);
	return err;
}

static void unpin_all(struct loader *l)
{
	static const char *const dirs[] = { LOADER_PIN_DIR "/maps", LOADER_PIN_DIR "/progs",
					    LOADER_PIN_DIR "/links", LOADER_PIN_DIR };
	struct bpf_program *prog;
	struct bpf_map *map;

	if (!l->pinned)
		return;
	bpf_object__for_each_map (map, l->skel->obj)
		bpf_map__unpin(map, NULL);
	bpf_object__for_each_program (prog, l->skel->obj) {
		char path[256];

		snprintf(path, sizeof(path), "%s/progs/%s", LOADER_PIN_DIR,
			 bpf_program__name(prog));
		bpf_program__unpin(prog, path);
	}
	if (l->skel->links.bima_bprm_check)
		bpf_link__unpin(l->skel->links.bima_bprm_check);
	if (l->skel->links.bima_mmap_file)
		bpf_link__unpin(l->skel->links.bima_mmap_file);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		rmdir(dirs[i]);
	l->pinned = false;
}

int loader__open(const struct loader_opts *opts, struct loader **out)
{
	struct bima_config cfg = { .daemon_tgid = getpid() };
	struct loader *l;
	__u32 zero = 0;
	int err;

	libbpf_set_print(libbpf_msg);
	err = check_bpf_lsm();
	if (err)
		return err;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->skel = measure_bpf__open();
	if (!l->skel) {
		err = -errno;
		pr_err("cannot open the BPF object: %s", strerror(-err));
		goto fail;
	}
	err = bpf_map__set_max_entries(l->skel->maps.bima_events, opts->ringbuf_size);
	if (err) {
		pr_err("ring buffer size %u: %s", opts->ringbuf_size, strerror(-err));
		goto fail;
	}
	err = measure_bpf__load(l->skel);
	if (err) {
		pr_err("cannot load the BPF programs: %s (run with -v for the verifier log)",
		       strerror(-err));
		goto fail;
	}
	err = bpf_map_update_elem(bpf_map__fd(l->skel->maps.bima_config), &zero, &cfg, BPF_ANY);
	if (err) {
		err = -errno;
		pr_err("cannot configure the BPF programs: %s", strerror(-err));
		goto fail;
	}
	err = measure_bpf__attach(l->skel);
	if (err) {
		pr_err("cannot attach the BPF-LSM programs: %s%s", strerror(-err),
		       err == -EPERM ? " (this kernel refuses BPF trampolines; it cannot run "
				       "BPF-LSM programs)"
				     : "");
		goto fail;
	}
	err = pin_all(l);
	if (err)
		goto fail;
	*out = l;
	return 0;
fail:
	loader__free(l);
	return err;
}

void loader_detach(struct loader *l)
{
	unpin_all(l);
	bpf_link__destroy(l->skel->links.bima_bprm_check);
	bpf_link__destroy(l->skel->links.bima_mmap_file);
	l->skel->links.bima_bprm_check = NULL;
	l->skel->links.bima_mmap_file = NULL;
}

void loader__free(struct loader *l)
{
	if (!l)
		return;
	if (l->skel)
		loader_detach(l);
	measure_bpf__destroy(l->skel);
	free(l);
}

int loader_events_fd(const struct loader *l)
{
	return bpf_map__fd(l->skel->maps.bima_events);
}

int loader_stats(const struct loader *l, struct bima_stats *st)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(bpf_map__fd(l->skel->maps.bima_stats), &zero, st) ? -errno : 0;
}
