/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Self-protection (`bima run --protect`): while the daemon runs, the BPF
 * hooks of bpf/protect.bpf.h refuse every other process any change to the
 * log directory, the pin directory and bima's BPF objects. This side
 * decides whether a daemon protects, names the programs and the hooks they
 * need, and reports what was refused. See docs/self-protection.md.
 */
#ifndef BIMA_PROTECT_H
#define BIMA_PROTECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "../../bpf/bima.h"

enum protect_mode {
	PROTECT_AUTO = 0, /* not given: on where it is safe (protect_decide) */
	PROTECT_YES,
	PROTECT_NO,
};

/* "yes" or "no"; -EINVAL otherwise. */
int protect_parse(const char *s, enum protect_mode *mode);

/*
 * Whether this daemon protects: PROTECT_NO never; PROTECT_AUTO where it
 * is safe: the kernel has the hooks, the daemon runs in the initial PID
 * namespace (the hooks know it by its pid there), and log_dir holds only
 * what bima puts there; PROTECT_YES also over a log_dir that holds other
 * files (with a warning), else -EINVAL. Creates log_dir if it is missing,
 * so that it can be protected from the start. Says why when it is off.
 */
int protect_decide(enum protect_mode mode, const char *log_dir, bool *on);

/* Whether name, in the top of a log directory, is one of bima's. */
bool protect_own_name(const char *name);
/*
 * Whether dir holds only bima's names (protect_own_name): 1, or 0 with the
 * first other one in other; -errno if it cannot be read.
 */
int protect_dir_is_own(const char *dir, char *other, size_t size);

/* The kernel's names of a file: s_dev in its encoding (major << 20 | minor), i_ino. */
int protect_ident(const char *path, __u64 *dev, __u64 *ino);

/*
 * A line of /proc/PID/maps: whether it maps a file executable, and that
 * file's kernel names (the bima_code map's key) in *id.
 */
bool protect_code_line(const char *line, struct bima_file_id *id);

/* Switch off the programs of self-protection whose hook this kernel lacks. */
void protect_select(struct bpf_object *obj, const struct btf *vmlinux);
/*
 * Adopting pinned objects: every program of self-protection this kernel
 * has is attached (its link is pinned in pin_dir/links); -ENOENT, naming
 * what is missing, otherwise.
 */
int protect_check_pins(const char *pin_dir);

/* Report the refusals since *reported (bima_stats.protect_denied), and move it on. */
void protect_report(const struct bima_stats *st, uint64_t *reported);

#endif
