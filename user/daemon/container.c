// SPDX-License-Identifier: GPL-2.0-only
/* Cgroups and containers; see container.h. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "container.h"
#include "template.h"
#include "hashalg.h"

#define FILEID_KERNFS 0xfe     /* a kernfs node by its 64-bit id: a cgroup by its cgroup id */
#define BUCKETS 4096	       /* a power of two */
#define CGROUPS_MAX (64 << 10) /* cgroups kept; beyond, the table starts again from empty */
#define HEX_ID_MIN 12
#define HEX_ID_MAX 64
#define CGROUP_ROOT_ID 1 /* the cgroup2 root's kernfs id */

struct node {
	struct node *next;
	uint64_t id;
	char *path; /* "" when it could not be looked up */
	struct container ct;
};

struct cgroups {
	struct node *bucket[BUCKETS];
	size_t count;
	int mount_fd;	 /* the cgroup2 mount, or -1 */
	char *mount_dir; /* and its path */
};

static bool hex_id(const char *s, size_t len)
{
	if (len < HEX_ID_MIN || len > HEX_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* s[0..len) is prefix, then a hex id, then ".scope" if scope; the id into ct. */
static bool prefixed_id(const char *s, size_t len, const char *prefix, bool scope_optional,
			const char *runtime, struct container *ct)
{
	size_t plen = strlen(prefix), slen = strlen(".scope");

	if (len <= plen || strncmp(s, prefix, plen))
		return false;
	s += plen;
	len -= plen;
	if (len > slen && !memcmp(s + len - slen, ".scope", slen))
		len -= slen;
	else if (!scope_optional)
		return false;
	if (!hex_id(s, len))
		return false;
	snprintf(ct->runtime, sizeof(ct->runtime), "%s", runtime);
	snprintf(ct->id, sizeof(ct->id), "%.*s", (int)len, s);
	return true;
}

/* A machine's name, as systemd escapes it in its unit name: "\x2d" for '-'. */
static void unescape_unit(const char *s, size_t len, char *out, size_t size)
{
	size_t o = 0;

	for (size_t i = 0; i < len && o + 1 < size; i++) {
		unsigned int c;

		if (s[i] == '\\' && i + 3 < len && s[i + 1] == 'x' &&
		    sscanf(s + i + 2, "%2x", &c) == 1) {
			out[o++] = (char)c;
			i += 3;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	return len >= strlen(prefix) && !strncmp(s, prefix, strlen(prefix));
}

void container_from_path(const char *cgroup, struct container *ct)
{
	const char *prev = "", *p = cgroup;
	size_t prev_len = 0;
	bool kubepods = false;

	memset(ct, 0, sizeof(*ct));
	while (*p) {
		const char *end;
		size_t len;

		while (*p == '/')
			p++;
		end = strchrnul(p, '/');
		len = end - p;
		if (!len)
			break;
		if (prefixed_id(p, len, "docker-", false, "docker", ct) ||
		    prefixed_id(p, len, "cri-containerd-", false, "containerd", ct) ||
		    prefixed_id(p, len, "crio-", false, "cri-o", ct) ||
		    prefixed_id(p, len, "libpod-", true, "podman", ct))
			return;
		if (hex_id(p, len) && prev_len == strlen("docker") && !strncmp(prev, "docker", 6)) {
			snprintf(ct->runtime, sizeof(ct->runtime), "docker");
			snprintf(ct->id, sizeof(ct->id), "%.*s", (int)len, p);
			return;
		}
		if (hex_id(p, len) && kubepods && starts(prev, prev_len, "pod")) {
			snprintf(ct->runtime, sizeof(ct->runtime), "cri");
			snprintf(ct->id, sizeof(ct->id), "%.*s", (int)len, p);
			return;
		}
		if (prev_len == strlen("machine.slice") &&
		    !strncmp(prev, "machine.slice", prev_len) && starts(p, len, "machine-") &&
		    len > strlen("machine-.scope") && !memcmp(p + len - 6, ".scope", 6)) {
			snprintf(ct->runtime, sizeof(ct->runtime), "nspawn");
			unescape_unit(p + 8, len - 8 - 6, ct->id, sizeof(ct->id));
			return;
		}
		kubepods |= starts(p, len, "kubepods");
		prev = p;
		prev_len = len;
		p = end;
	}
}

bool container_matches(const struct container *ct, const char *want)
{
	const char *colon = strchr(want, ':'), *id = want;

	if (!strcmp(want, "host"))
		return !ct->runtime[0];
	if (colon) {
		if (strncmp(ct->runtime, want, colon - want) || ct->runtime[colon - want])
			return false;
		id = colon + 1;
	}
	return ct->runtime[0] && *id && !strncmp(ct->id, id, strlen(id));
}

/* The cgroup2 mount point from mountinfo: "ID PARENT MAJ:MIN ROOT POINT ... - cgroup2 ..." */
static char *cgroup2_mount(void)
{
	char line[4096], point[4096], *found = NULL;
	FILE *f = fopen("/proc/self/mountinfo", "r");

	while (f && !found && fgets(line, sizeof(line), f)) {
		char *dash = strstr(line, " - cgroup2 ");
		char *in, *out;

		if (!dash || sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1)
			continue;
		/* mountinfo escapes space, tab, newline and '\' as \ooo */
		for (in = out = point; *in; out++) {
			unsigned int c;

			if (*in == '\\' && sscanf(in + 1, "%3o", &c) == 1) {
				*out = (char)c;
				in += 4;
			} else {
				*out = *in++;
			}
		}
		*out = '\0';
		found = strdup(point);
	}
	if (f)
		fclose(f);
	return found;
}

int cgroups__new(struct cgroups **out)
{
	struct cgroups *cg = calloc(1, sizeof(*cg));

	if (!cg)
		return -ENOMEM;
	cg->mount_fd = -1;
	cg->mount_dir = cgroup2_mount();
	if (cg->mount_dir)
		cg->mount_fd = open(cg->mount_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*out = cg;
	return 0;
}

static void clear(struct cgroups *cg)
{
	for (size_t b = 0; b < BUCKETS; b++)
		while (cg->bucket[b]) {
			struct node *n = cg->bucket[b];

			cg->bucket[b] = n->next;
			free(n->path);
			free(n);
		}
	cg->count = 0;
}

const char *cgroups_mount(const struct cgroups *cg)
{
	return cg->mount_fd >= 0 ? cg->mount_dir : NULL;
}

void cgroups__free(struct cgroups *cg)
{
	if (!cg)
		return;
	clear(cg);
	if (cg->mount_fd >= 0)
		close(cg->mount_fd);
	free(cg->mount_dir);
	free(cg);
}

static struct node **slot(struct cgroups *cg, uint64_t id)
{
	struct node **n = &cg->bucket[(id * 0x9e3779b97f4a7c15ull) >> 52 & (BUCKETS - 1)];

	while (*n && (*n)->id != id)
		n = &(*n)->next;
	return n;
}

static struct node *put(struct cgroups *cg, uint64_t id, const char *path)
{
	struct node **at = slot(cg, id), *n = *at;
	char *copy = strdup(path);

	if (!copy)
		return NULL;
	if (!n) {
		if (cg->count >= CGROUPS_MAX) {
			clear(cg); /* lookups fill it again: only names of cgroups gone are lost */
			at = slot(cg, id);
		}
		n = calloc(1, sizeof(*n));
		if (!n) {
			free(copy);
			return NULL;
		}
		n->id = id;
		*at = n;
		cg->count++;
	}
	free(n->path);
	n->path = copy;
	container_from_path(path, &n->ct);
	return n;
}

void cgroups_made(struct cgroups *cg, uint64_t id, const char *path)
{
	put(cg, id, path);
}

void cgroups_removed(struct cgroups *cg, uint64_t id)
{
	struct node **at = slot(cg, id), *n = *at;

	if (!n)
		return;
	*at = n->next;
	free(n->path);
	free(n);
	cg->count--;
}

/* The path of a live cgroup below the cgroup2 root, by its id; "" if it is gone. */
static void path_by_handle(struct cgroups *cg, uint64_t id, char *out, size_t size)
{
	union {
		struct file_handle fh;
		char room[sizeof(struct file_handle) + sizeof(uint64_t)];
	} h;
	char link[64], full[4096];
	size_t mlen = cg->mount_dir ? strlen(cg->mount_dir) : 0;
	ssize_t n = -1;
	int fd;

	snprintf(out, size, "%s", id == CGROUP_ROOT_ID ? "/" : "");
	if (cg->mount_fd < 0 || id == CGROUP_ROOT_ID)
		return;
	h.fh.handle_bytes = sizeof(id);
	h.fh.handle_type = FILEID_KERNFS;
	memcpy(h.fh.f_handle, &id, sizeof(id));
	fd = open_by_handle_at(cg->mount_fd, &h.fh, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, full, sizeof(full) - 1);
	close(fd);
	if (n <= 0 || (size_t)n < mlen || memcmp(full, cg->mount_dir, mlen))
		return;
	full[n] = '\0';
	snprintf(out, size, "%s", (size_t)n == mlen ? "/" : full + mlen);
}

void cgroups_lookup(struct cgroups *cg, uint64_t id, struct attribution *a)
{
	struct node *n = *slot(cg, id);

	a->cgroup_id = id;
	if (!n) {
		char path[4096];

		path_by_handle(cg, id, path, sizeof(path));
		n = put(cg, id, path); /* also when not found: looked up once */
	}
	a->cgroup = n ? n->path : "";
	if (n)
		a->ct = n->ct;
	else
		memset(&a->ct, 0, sizeof(a->ct));
}

int container_entry_key(const uint8_t digest[20], const struct attribution *a, uint8_t key[20])
{
	uint8_t in[20 + 2 * 8];

	memcpy(in, digest, 20);
	for (int i = 0; i < 8; i++) {
		in[20 + i] = a->cgroup_id >> (8 * i);
		in[28 + i] = a->mnt_ns >> (8 * i);
	}
	return template_hash(in, sizeof(in), key);
}

int container_mark_format(struct buf *out, const struct attribution *a)
{
	char head[64 + CONTAINER_RUNTIME_LEN + CONTAINER_ID_LEN];
	int n = snprintf(
		head, sizeof(head),
		"cgroup=%" PRIu64 " mntns=%" PRIu64 " runtime=%s container=%s path=", a->cgroup_id,
		a->mnt_ns, a->ct.runtime[0] ? a->ct.runtime : "-", a->ct.id[0] ? a->ct.id : "-");

	return buf_put(out, head, n) ?: buf_put(out, a->cgroup, strlen(a->cgroup));
}

/* "key=" then a word up to a space, into out (size bytes); advances *p. */
static bool word(const char **p, const char *end, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key), len;
	const char *sp;

	if ((size_t)(end - *p) < klen || memcmp(*p, key, klen))
		return false;
	*p += klen;
	sp = memchr(*p, ' ', end - *p);
	if (!sp)
		return false;
	len = sp - *p;
	if (!len || len >= size)
		return false;
	memcpy(out, *p, len);
	out[len] = '\0';
	*p = sp + 1;
	return true;
}

int container_mark_parse(const uint8_t *buf, uint32_t len, struct attribution *a, struct buf *store)
{
	const char *p = (const char *)buf, *end = p + len;
	char cgid[24], mntns[24], *e1, *e2;

	memset(a, 0, sizeof(*a));
	if (!word(&p, end, "cgroup=", cgid, sizeof(cgid)) ||
	    !word(&p, end, "mntns=", mntns, sizeof(mntns)) ||
	    !word(&p, end, "runtime=", a->ct.runtime, sizeof(a->ct.runtime)) ||
	    !word(&p, end, "container=", a->ct.id, sizeof(a->ct.id)) || (size_t)(end - p) < 5 ||
	    memcmp(p, "path=", 5))
		return -EBADMSG;
	a->cgroup_id = strtoull(cgid, &e1, 10);
	a->mnt_ns = strtoull(mntns, &e2, 10);
	if (*e1 || *e2)
		return -EBADMSG;
	if (!strcmp(a->ct.runtime, "-"))
		a->ct.runtime[0] = '\0';
	if (!strcmp(a->ct.id, "-"))
		a->ct.id[0] = '\0';
	p += 5;
	store->len = 0;
	if (buf_put(store, p, end - p) || buf_put(store, "", 1))
		return -ENOMEM;
	a->cgroup = (const char *)store->p;
	return 0;
}
