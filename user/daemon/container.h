/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who measured a file: the task's cgroup v2 cgroup and mount namespace,
 * and the container the cgroup belongs to, by the cgroup layouts of the
 * container runtimes:
 *
 *   docker      .../docker-<id>.scope (systemd driver), /docker/<id> (cgroupfs)
 *   containerd  .../cri-containerd-<id>.scope (kubelet, systemd driver)
 *   cri         /kubepods/<qos>/pod<uid>/<id> (kubelet, cgroupfs driver)
 *   cri-o       .../crio-<id>.scope
 *   podman      .../libpod-<id>.scope, /libpod_parent/libpod-<id>
 *   nspawn      /machine.slice/machine-<name>.scope (systemd-machined)
 *
 * <id> is 12 to 64 lowercase hex digits. The outermost component that
 * matches names the container, so a container's own sub-cgroups belong to
 * it; conmon's scopes (libpod-conmon-<id>, crio-conmon-<id>) are not
 * containers. The daemon learns cgroup paths from the kernel's cgroup
 * records (bima.h), and looks up those made before it with
 * open_by_handle_at(2) on the cgroup2 mount.
 */
#ifndef BIMA_CONTAINER_H
#define BIMA_CONTAINER_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"

#define CONTAINER_RUNTIME_LEN 16
#define CONTAINER_ID_LEN 128
#define CONTAINER_MARK_NAME "bima_container" /* the ima-buf entry of ima-ng logs */

struct container {
	char runtime[CONTAINER_RUNTIME_LEN]; /* "" on the host */
	char id[CONTAINER_ID_LEN];	     /* "" on the host */
};

/* An entry's attribution. */
struct attribution {
	uint64_t cgroup_id;
	uint64_t mnt_ns;
	struct container ct;
	const char *cgroup; /* the cgroup's path below the cgroup2 root; "" if not known */
};

/* The container a cgroup path belongs to; an empty one for the host. */
void container_from_path(const char *cgroup, struct container *ct);

/*
 * Whether the entry's container matches the one asked for: "host" for no
 * container, else a prefix of the id (as docker's short ids), or
 * "runtime:prefix".
 */
bool container_matches(const struct container *ct, const char *want);

/* The daemon's cgroup table: cgroup id -> path and container. */
struct cgroups;

/* Find the cgroup2 mount (none: lookups give "not known"). */
int cgroups__new(struct cgroups **out);
void cgroups__free(struct cgroups *cg);
/* The cgroup2 mount it looks cgroups up in, or NULL. */
const char *cgroups_mount(const struct cgroups *cg);
/* A cgroup made (path below the root) or removed, from the kernel's records. */
void cgroups_made(struct cgroups *cg, uint64_t id, const char *path);
void cgroups_removed(struct cgroups *cg, uint64_t id);
/* Fill a's cgroup and container for cgroup id; a->cgroup stays valid until the next call. */
void cgroups_lookup(struct cgroups *cg, uint64_t id, struct attribution *a);

/*
 * What tells an ima-ng entry (its SHA-1 template hash) from the same entry
 * in another container, for the daemon's "logged once" rule: the SHA-1 of
 * the template hash, the cgroup id and the mount namespace (u64 LE each).
 * It is only ever kept in the daemon's memory.
 */
int container_entry_key(const uint8_t digest[20], const struct attribution *a, uint8_t key[20]);

/*
 * The buffer of a bima_container mark: "cgroup=ID mntns=N runtime=R
 * container=C path=P", R and C "-" when empty, P the rest of the buffer.
 */
int container_mark_format(struct buf *out, const struct attribution *a);
/* Parse one; a->cgroup points into the buffer copy in store. -EBADMSG if malformed. */
int container_mark_parse(const uint8_t *p, uint32_t len, struct attribution *a, struct buf *store);

#endif
