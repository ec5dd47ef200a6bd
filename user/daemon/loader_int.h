/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The loader's state, shared by loader.c (load, adopt, pin, unload) and
 * loader_maps.c (the values bima keeps in its maps, read and written while
 * it runs); not for other modules, which have loader.h.
 */
#ifndef BIMA_LOADER_INT_H
#define BIMA_LOADER_INT_H

#include <stdbool.h>

#include "loader.h"

#define PIN(kind, name) LOADER_PIN_DIR "/" kind "/" name

struct loader {
	struct measure_bpf *skel; /* NULL when the pins were adopted */
	int events_fd, stats_fd, config_fd, policy_fd, switch_fd, anchors_fd, anchor_fd;
	int claim_fd;  /* bima_daemon_claim */
	int code_fd;   /* bima_code */
	int reader_fd; /* bima_reader */
	bool own_fds;  /* the fds are ours to close (adopted), not the skeleton's */
};

/* A pinned object, opened read-only (BPF_F_RDONLY), or below 0. */
int get_rdonly(const char *path);
/* The pinned bima_config's value, if the pins are of this build. */
int pinned_config(int config_fd, struct bima_config *cfg);
__u64 monotonic_ns(void);
/* bima's own files, which the hooks never measure (bima_config.own_ino). */
void set_own(struct bima_config *cfg, const struct loader_opts *opts);
/* Self-protection: what the hooks of bpf/protect.bpf.h compare. */
int set_protection(struct bima_config *cfg, int config_fd, int events_fd,
		   const struct loader_opts *opts);

#endif
