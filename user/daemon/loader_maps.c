// SPDX-License-Identifier: GPL-2.0-only
/*
 * The values bima keeps in its maps, read and written while it runs: its
 * configuration (bima_config), counters, policy slots and snapshot anchors,
 * of the programs loaded or of those pinned (loader.h).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "loader_int.h"
#include "measure.skel.h"
#include "msg.h"
#include "protect.h"
#include "runstate.h"

int loader_pinned_config(struct bima_config *cfg)
{
	int fd = get_rdonly(PIN("maps", "bima_config")), err;

	if (fd < 0)
		return -ENOENT;
	err = pinned_config(fd, cfg);
	close(fd);
	return err;
}

int loader_policy(const struct loader *l, struct bima_policy *pol)
{
	struct bima_stats st;
	__u32 slot;
	int err = loader_stats(l, &st);

	slot = st.policy_gen & 1;
	return err ?: bpf_map_lookup_elem(l->policy_fd, &slot, pol) ? -errno : 0;
}

int loader_pinned_daemon(int *pid)
{
	/* Room for the value of any build; daemon_tgid comes first in all of them. */
	union {
		struct bima_config cfg;
		uint8_t any[4096];
	} v;
	struct bpf_map_info info = {};
	__u32 len = sizeof(info), zero = 0;
	int fd = get_rdonly(PIN("maps", "bima_config")), err = 0;

	if (fd < 0)
		return -ENOENT;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) || info.value_size > sizeof(v) ||
	    bpf_map_lookup_elem(fd, &zero, &v))
		err = -EINVAL;
	else
		*pid = v.cfg.daemon_tgid;
	close(fd);
	return err;
}

bool loader_adopted(const struct loader *l)
{
	return !l->skel;
}

int loader_events_fd(const struct loader *l)
{
	return l->events_fd;
}

int loader_reader_fd(const struct loader *l)
{
	return l->reader_fd;
}

void loader_load_id(const struct loader *l, char *buf, size_t size)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	char boot[40] = "";
	FILE *f;

	if (bpf_obj_get_info_by_fd(l->events_fd, &info, &len))
		info.id = 0;
	f = fopen("/proc/sys/kernel/random/boot_id", "r");
	if (f) {
		if (!fgets(boot, sizeof(boot), f))
			boot[0] = '\0';
		fclose(f);
	}
	snprintf(buf, size, "%u-%.8s", info.id, boot);
}

int loader_stats(const struct loader *l, struct bima_stats *st)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(l->stats_fd, &zero, st) ? -errno : 0;
}

int loader_cpu_stats(struct bima_cpu_stats *sum)
{
	int fd = get_rdonly(PIN("maps", "bima_cpu_stats")), n = libbpf_num_possible_cpus(), err = 0;
	struct bima_cpu_stats *cpu;
	__u32 zero = 0;

	if (fd < 0)
		return -errno;
	cpu = n > 0 ? calloc(n, sizeof(*cpu)) : NULL;
	if (!cpu)
		err = n > 0 ? -ENOMEM : n;
	else if (bpf_map_lookup_elem(fd, &zero, cpu))
		err = -errno;
	*sum = (struct bima_cpu_stats){};
	for (int i = 0; !err && i < n; i++)
		sum->cache_hits += cpu[i].cache_hits;
	free(cpu);
	close(fd);
	return err;
}

int loader_config(const struct loader *l, struct bima_config *cfg)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(l->config_fd, &zero, cfg) ? -errno : 0;
}

/*
 * Renew the daemon's sign of life (heartbeat_ns), and drops_logged or
 * unextended_ns where given. Only the daemon writes the configuration.
 */
static int touch_config(const struct loader *l, const uint64_t *drops, const uint64_t *since)
{
	struct bima_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(l->config_fd, &zero, &cfg))
		return -errno;
	if (drops)
		cfg.drops_logged = *drops;
	if (since)
		cfg.unextended_ns = *since;
	cfg.heartbeat_ns = monotonic_ns();
	return bpf_map_update_elem(l->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

int loader_set_drops_logged(const struct loader *l, uint64_t drops)
{
	return touch_config(l, &drops, NULL);
}

int loader_heartbeat(const struct loader *l)
{
	return touch_config(l, NULL, NULL);
}

int loader_set_unextended(const struct loader *l, uint64_t since_ns)
{
	return touch_config(l, NULL, &since_ns);
}

static int last_anchor(int fd, struct bima_anchor *last)
{
	struct bima_anchor a;

	memset(last, 0, sizeof(*last));
	for (__u32 i = 0; i < BIMA_ANCHORS_MAX; i++) {
		if (bpf_map_lookup_elem(fd, &i, &a))
			return -errno;
		if (a.id > last->id)
			*last = a;
	}
	return 0;
}

int loader_last_anchor(const struct loader *l, struct bima_anchor *last)
{
	return last_anchor(l->anchors_fd, last);
}

int loader_add_anchor(const struct loader *l, const struct bima_anchor *a)
{
	LIBBPF_OPTS(bpf_test_run_opts, run, .ctx_in = a, .ctx_size_in = sizeof(*a));

	if (bpf_prog_test_run_opts(l->anchor_fd, &run))
		return -errno;
	return (int)run.retval;
}

int loader_pinned_anchors(struct bima_anchor out[BIMA_ANCHORS_MAX])
{
	int fd = get_rdonly(PIN("maps", "bima_anchors")), err = 0;

	if (fd < 0)
		return -ENOENT;
	for (__u32 i = 0; !err && i < BIMA_ANCHORS_MAX; i++)
		if (bpf_map_lookup_elem(fd, &i, &out[i]))
			err = -errno;
	close(fd);
	return err;
}

int loader_pinned_last_anchor(struct bima_anchor *last)
{
	int fd = get_rdonly(PIN("maps", "bima_anchors")), err;

	if (fd < 0)
		return -ENOENT;
	err = last_anchor(fd, last);
	close(fd);
	return err;
}

/*
 * bima's own files, which the hooks never measure (bima_config.own_ino), in
 * every mode: the log directory, the pin directory (once pinned) and the
 * control socket's lock file; the ASCII list lies in the log directory, and
 * what else bima keeps (the control socket, the list's link) are no regular
 * files, which are never measured. The log directory only if no one but
 * root can put a file in it: else what others put there would not be
 * measured either. What does not exist yet is left out.
 */
void set_own(struct bima_config *cfg, const struct loader_opts *opts)
{
	static bool warned;
	char lock[PATH_MAX];
	struct stat st;
	int n = 0;

	memset(cfg->own_dev, 0, sizeof(cfg->own_dev));
	memset(cfg->own_ino, 0, sizeof(cfg->own_ino));
	if (opts->log_dir && !stat(opts->log_dir, &st) &&
	    (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH)))) {
		if (!warned)
			pr_warn("%s can be written by others than root: bima measures what the "
				"policy selects there, its own log and ASCII list too (a reader of "
				"the list then gets ToMToU violations); make it root's, mode 0700",
				opts->log_dir);
		warned = true;
	} else if (opts->log_dir) {
		n += !protect_ident(opts->log_dir, &cfg->own_dev[n], &cfg->own_ino[n]);
	}
	n += !protect_ident(LOADER_PIN_DIR, &cfg->own_dev[n], &cfg->own_ino[n]);
	if (opts->control) {
		snprintf(lock, sizeof(lock), "%s.lock", opts->control); /* a socket path: short */
		n += !protect_ident(lock, &cfg->own_dev[n], &cfg->own_ino[n]);
	}
	/* Read by every command that takes the daemon's settings (runstate.h). */
	protect_ident(RUNSTATE_PATH, &cfg->own_dev[n], &cfg->own_ino[n]);
}

int loader_set_own(const struct loader *l, const struct loader_opts *opts)
{
	struct bima_config cfg;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(l->config_fd, &zero, &cfg))
		return -errno;
	set_own(&cfg, opts);
	return bpf_map_update_elem(l->config_fd, &zero, &cfg, BPF_ANY) ? -errno : 0;
}

/*
 * The directories protected with all beneath them (the log directory; the
 * pin directory, once pinned), and how the hooks know bima's objects: the
 * BTF object its maps and programs were loaded with, and the id of the ring
 * buffer, which has none.
 */
int set_protection(struct bima_config *cfg, int config_fd, int events_fd,
		   const struct loader_opts *opts)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);
	int err;

	if (!opts->protect)
		return 0;
	memset(cfg->protect_dev, 0, sizeof(cfg->protect_dev));
	memset(cfg->protect_ino, 0, sizeof(cfg->protect_ino));
	err = protect_ident(opts->log_dir, &cfg->protect_dev[0], &cfg->protect_ino[0]);
	if (err) {
		pr_err("%s: %s", opts->log_dir, strerror(-err));
		return err;
	}
	err = protect_ident(LOADER_PIN_DIR, &cfg->protect_dev[1], &cfg->protect_ino[1]);
	if (err && err != -ENOENT)
		return err;
	if (bpf_obj_get_info_by_fd(config_fd, &info, &len))
		return -errno;
	cfg->protect_btf_id = info.btf_id;
	memset(&info, 0, sizeof(info));
	if (events_fd >= 0 && bpf_obj_get_info_by_fd(events_fd, &info, &len))
		return -errno;
	if (events_fd >= 0)
		cfg->protect_events_id = info.id;
	cfg->flags |= BIMA_CFG_PROTECT;
	return 0;
}
