// SPDX-License-Identifier: GPL-2.0-only
/* The on-disk log: segments of an epoch; the layout is in log.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <zlib.h>

#include "log.h"
#include "log_files.h"
#include "msg.h"
#include "snapshot.h"
#include "tpm.h"

struct log {
	int fd;
	off_t durable; /* bytes made durable by log_sync(); nothing after it is trusted */
	unsigned int segment;
	char path[LOG_PATH_MAX];
};

int log_epoch_dir(char *out, size_t len, const char *log_dir, uint32_t reset, uint32_t restart)
{
	int n = snprintf(out, len, "%s/epoch-%u-%u", log_dir, reset, restart);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int log_latest_epoch(char *out, size_t len, const char *log_dir)
{
	unsigned int reset, restart, best_reset = 0, best_restart = 0;
	bool found = false;
	struct dirent *de;
	DIR *d = opendir(log_dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "epoch-%u-%u", &reset, &restart) != 2)
			continue;
		if (!found || reset > best_reset ||
		    (reset == best_reset && restart > best_restart)) {
			best_reset = reset;
			best_restart = restart;
			found = true;
		}
	}
	closedir(d);
	if (!found)
		return -ENOENT;
	return log_epoch_dir(out, len, log_dir, best_reset, best_restart);
}

static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err = 0;

	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}

/* mkdir -p, then fsync the parent so the new directory survives a crash. */
int log_make_dir(const char *dir)
{
	char parent[LOG_PATH_MAX], *slash;
	int fd, err;

	if (!mkdir(dir, 0700))
		goto sync_parent;
	if (errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	if (snprintf(parent, sizeof(parent), "%s", dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return -ENOENT;
	*slash = '\0';
	err = log_make_dir(parent);
	if (err)
		return err;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
sync_parent:
	if (snprintf(parent, sizeof(parent), "%s/..", dir) >= (int)sizeof(parent))
		return -ENAMETOOLONG;
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fsync(fd) ? -errno : 0;
	close(fd);
	return err;
}

/* Whether a name is a segment's, and its number; *gz for a compressed one. */
static bool segment_name(const char *name, unsigned int *num, bool *gz)
{
	size_t len = strlen(name);
	char tail;

	if (sscanf(name, "segment-%u.bi%c", num, &tail) != 2 || tail != 'n')
		return false;
	*gz = len == strlen("segment-000000.bin.gz") && !strcmp(name + len - 3, ".gz");
	return len == strlen("segment-000000.bin") || *gz;
}

int list_segments(const char *dir, unsigned int **out, unsigned int *n, uint8_t **gz)
{
	unsigned int *nums = NULL, cap = 0, count = 0, num;
	uint8_t *flags = NULL;
	struct dirent *de;
	DIR *d = opendir(dir);
	bool z;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		unsigned int at;

		if (!segment_name(de->d_name, &num, &z))
			continue;
		for (at = 0; at < count && nums[at] != num; at++)
			;
		if (at == count) {
			if (count == cap) {
				unsigned int *p =
					realloc(nums, (cap = cap ? 2 * cap : 16) * sizeof(*nums));
				uint8_t *f = p ? realloc(flags, cap) : NULL;

				if (p)
					nums = p;
				if (!f) {
					free(nums);
					free(flags);
					closedir(d);
					return -ENOMEM;
				}
				flags = f;
			}
			nums[count] = num;
			flags[count++] = z;
		} else {
			flags[at] &= z;
		}
	}
	closedir(d);
	for (unsigned int i = 1; i < count; i++) /* insertion sort: segments are few */
		for (unsigned int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
			uint8_t f = flags[j];

			num = nums[j];
			nums[j] = nums[j - 1];
			nums[j - 1] = num;
			flags[j] = flags[j - 1];
			flags[j - 1] = f;
		}
	*out = nums;
	*n = count;
	if (gz)
		*gz = flags;
	else
		free(flags);
	return 0;
}

static unsigned int anchored_segment(const char *dir);

int log__open(const char *epoch_dir, struct log **out)
{
	unsigned int *nums = NULL, n = 0, next;
	struct log *l;
	int err, dfd;

	err = log_make_dir(epoch_dir);
	if (err) {
		pr_err("%s: cannot create log directory: %s", epoch_dir, strerror(-err));
		return err;
	}
	err = list_segments(epoch_dir, &nums, &n, NULL);
	if (err) {
		pr_err("%s: cannot list segments: %s", epoch_dir, strerror(-err));
		return err;
	}
	/* With every segment removed by retention, the numbers go on after the last anchor's. */
	next = n ? nums[n - 1] + 1 : anchored_segment(epoch_dir) + 1;
	free(nums);

	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	if (snprintf(l->path, sizeof(l->path), "%s/" SEGMENT_FMT, epoch_dir, next) >=
	    (int)sizeof(l->path)) {
		free(l);
		return -ENAMETOOLONG;
	}
	l->segment = next;
	l->fd = open(l->path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
	if (l->fd < 0) {
		err = -errno;
		pr_err("%s: cannot create segment: %s", l->path, strerror(-err));
		free(l);
		return err;
	}
	/* The new name must be durable before anything in it is extended. */
	dfd = open(epoch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd)) {
		err = -errno;
		pr_err("%s: cannot sync directory: %s", epoch_dir, strerror(-err));
		if (dfd >= 0)
			close(dfd);
		log__close(l);
		return err;
	}
	close(dfd);
	*out = l;
	return 0;
}

void log__close(struct log *l)
{
	if (!l)
		return;
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

const char *log_path(const struct log *l)
{
	return l->path;
}

unsigned int log_segment(const struct log *l)
{
	return l->segment;
}

size_t log_durable(const struct log *l)
{
	return l->durable;
}

int log_seal(struct log *l)
{
	int err = log_sync(l);

	if (!err && fchmod(l->fd, 0400))
		err = -errno;
	if (err)
		pr_err("%s: cannot close the segment: %s", l->path, strerror(-err));
	return err;
}

/* Cut off what a failed write or sync left after the durable part. */
static int cut_back(struct log *l, int err)
{
	if (ftruncate(l->fd, l->durable) || fdatasync(l->fd))
		pr_err("%s: cannot cut back to %lld bytes after a failed write: %s", l->path,
		       (long long)l->durable, strerror(errno));
	return err;
}

int log_append(struct log *l, const void *data, size_t len)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t n = write(l->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return cut_back(l, -errno);
		p += n;
		len -= n;
	}
	return 0;
}

int log_sync(struct log *l)
{
	off_t end = lseek(l->fd, 0, SEEK_END);

	/* After a failed fdatasync the state of the pages is unknown: rewrite them. */
	if (end < 0 || fdatasync(l->fd))
		return cut_back(l, -errno);
	l->durable = end;
	return 0;
}

int log_anchor_path(char *out, size_t len, const char *epoch_dir, uint64_t id)
{
	int n = snprintf(out, len, "%s/" LOG_ANCHOR_FMT, epoch_dir, (unsigned long long)id);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int log_read_file(const char *path, struct buf *b)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;
	ssize_t n;

	if (fd < 0)
		return -errno;
	b->len = 0;
	do {
		err = buf_reserve(b, 1 << 16);
		n = err ? 0 : read(fd, b->p + b->len, b->cap - b->len);
		if (n < 0)
			err = -errno;
		else
			b->len += n;
	} while (!err && n > 0);
	close(fd);
	return err;
}

int log_anchor_read(const char *epoch_dir, uint64_t id, struct buf *entry, struct snapshot *s)
{
	char path[LOG_PATH_MAX + 32], why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	struct template_fields f;
	size_t used;
	int err;

	if (log_anchor_path(path, sizeof(path), epoch_dir, id))
		return -ENAMETOOLONG;
	err = log_read_file(path, entry);
	if (err)
		return err;
	if (template_decode(entry->p, entry->len, &e, &used, why) || used != entry->len ||
	    template_fields(&e, &f, why) || !template_record(&e, &f, SNAPSHOT_NAME))
		return -EBADMSG;
	err = snapshot_parse((const char *)f.extra, f.extra_len, s);
	return err == -ERANGE ? err : err || s->id != id ? -EBADMSG : 0;
}

int each_anchor(const char *dir, int (*fn)(uint64_t id, void *arg), void *arg)
{
	unsigned long long id;
	struct dirent *de;
	DIR *d = opendir(dir);
	char tail;
	int ret = 0;

	if (!d)
		return -errno;
	while (!ret && (de = readdir(d)))
		if (sscanf(de->d_name, "anchor-%llu.bi%c", &id, &tail) == 2 && tail == 'n')
			ret = fn(id, arg);
	closedir(d);
	return ret;
}

struct last_anchor {
	const char *dir;
	unsigned int segment;
	struct buf entry;
};

static int note_anchor(uint64_t id, void *arg)
{
	struct last_anchor *la = arg;
	struct snapshot s;

	if (!log_anchor_read(la->dir, id, &la->entry, &s) && s.segment > la->segment)
		la->segment = s.segment;
	return 0;
}

/* The highest segment an anchor file of dir closes, or 0. */
static unsigned int anchored_segment(const char *dir)
{
	struct last_anchor la = { .dir = dir };

	each_anchor(dir, note_anchor, &la);
	buf_free(&la.entry);
	return la.segment;
}

int log_write_file(const char *epoch_dir, const char *name, const void *data, size_t len)
{
	char tmp[LOG_PATH_MAX + 64], path[LOG_PATH_MAX + 64];
	int fd, err = 0;

	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", epoch_dir, name);
	snprintf(path, sizeof(path), "%s/%s", epoch_dir, name);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
	if (fd < 0)
		return -errno;
	if (write(fd, data, len) != (ssize_t)len || fsync(fd))
		err = errno ? -errno : -EIO;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err ?: sync_dir(epoch_dir);
}

static int collect_anchor(uint64_t id, void *arg)
{
	struct buf *ids = arg;

	return buf_put(ids, &id, sizeof(id)) ? -ENOMEM : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

int log_anchors(const char *epoch_dir, struct buf *ids)
{
	int err;

	ids->len = 0;
	err = each_anchor(epoch_dir, collect_anchor, ids);
	if (!err)
		qsort(ids->p, ids->len / sizeof(uint64_t), sizeof(uint64_t), cmp_u64);
	return err;
}

int log_bytes(const char *epoch_dir, uint64_t *bytes)
{
	DIR *d = opendir(epoch_dir);
	struct dirent *de;
	unsigned int num;
	uint64_t sum = 0;
	struct stat st;
	bool z;

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (segment_name(de->d_name, &num, &z) &&
		    !fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW))
			sum += st.st_size;
	closedir(d);
	*bytes = sum;
	return 0;
}

int log_compress_segment(const char *epoch_dir, unsigned int seg)
{
	char path[LOG_PATH_MAX + 32], tmp[LOG_PATH_MAX + 40], gz[LOG_PATH_MAX + 40];
	uint8_t chunk[1 << 16];
	gzFile z = NULL;
	ssize_t n = 0;
	int in, out = -1, err = 0;

	snprintf(path, sizeof(path), "%s/" SEGMENT_FMT, epoch_dir, seg);
	snprintf(gz, sizeof(gz), "%s.gz", path);
	snprintf(tmp, sizeof(tmp), "%s/." SEGMENT_FMT ".gz.tmp", epoch_dir, seg);
	in = open(path, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0400);
	if (out < 0 || !(z = gzdopen(dup(out), "wb6")))
		err = -errno ?: -ENOMEM;
	while (!err && (n = read(in, chunk, sizeof(chunk))) > 0)
		if (gzwrite(z, chunk, n) != n)
			err = -EIO;
	if (!err && n < 0)
		err = -errno;
	if (z && gzclose(z) != Z_OK && !err)
		err = -EIO;
	if (!err && fsync(out))
		err = -errno;
	close(in);
	if (out >= 0)
		close(out);
	/* The compressed copy is durable under its name before the plain one goes. */
	if (!err && rename(tmp, gz))
		err = -errno;
	err = err ?: sync_dir(epoch_dir);
	if (!err && unlink(path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err ?: sync_dir(epoch_dir);
}

int log_remove_file(const char *epoch_dir, const char *name)
{
	char path[LOG_PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", epoch_dir, name);
	return unlink(path) ? -errno : 0;
}

int log_cut_segment(const char *epoch_dir, unsigned int seg, size_t length)
{
	char path[LOG_PATH_MAX + 32];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/" SEGMENT_FMT, epoch_dir, seg);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || ftruncate(fd, length) || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	return err;
}
