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

#include "log.h"
#include "msg.h"

#define SEGMENT_FMT "segment-%06u.bin"

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

/* mkdir -p, then fsync the parent so the new directory survives a crash. */
static int make_dir(const char *dir)
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
	err = make_dir(parent);
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

/* Segment numbers present in dir, sorted; *n of them. */
static int list_segments(const char *dir, unsigned int **out, unsigned int *n)
{
	unsigned int *nums = NULL, cap = 0, count = 0, num;
	struct dirent *de;
	DIR *d = opendir(dir);
	char tail;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "segment-%u.bi%c", &num, &tail) != 2 || tail != 'n' ||
		    strlen(de->d_name) != strlen("segment-000000.bin"))
			continue;
		if (count == cap) {
			unsigned int *p = realloc(nums, (cap = cap ? 2 * cap : 16) * sizeof(*nums));

			if (!p) {
				free(nums);
				closedir(d);
				return -ENOMEM;
			}
			nums = p;
		}
		nums[count++] = num;
	}
	closedir(d);
	for (unsigned int i = 1; i < count; i++) /* insertion sort: segments are few */
		for (unsigned int j = i; j > 0 && nums[j - 1] > nums[j]; j--) {
			num = nums[j];
			nums[j] = nums[j - 1];
			nums[j - 1] = num;
		}
	*out = nums;
	*n = count;
	return 0;
}

int log__open(const char *epoch_dir, struct log **out)
{
	unsigned int *nums = NULL, n = 0, next;
	struct log *l;
	int err, dfd;

	err = make_dir(epoch_dir);
	if (err) {
		pr_err("%s: cannot create log directory: %s", epoch_dir, strerror(-err));
		return err;
	}
	err = list_segments(epoch_dir, &nums, &n);
	if (err) {
		pr_err("%s: cannot list segments: %s", epoch_dir, strerror(-err));
		return err;
	}
	next = n ? nums[n - 1] + 1 : 1;
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

struct log_cursor {
	char dir[LOG_PATH_MAX];
	unsigned int *segs, nsegs, cur; /* cur: index into segs of the mapped segment */
	uint8_t *map;
	size_t size, off;
	unsigned int index;	   /* entries already returned from this segment */
	size_t last_off, last_len; /* the entry last returned */
	char error[2 * LOG_PATH_MAX];
};

int log_cursor__open(const char *epoch_dir, struct log_cursor **out)
{
	struct log_cursor *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	snprintf(c->dir, sizeof(c->dir), "%s", epoch_dir);
	err = list_segments(epoch_dir, &c->segs, &c->nsegs);
	if (err) {
		free(c);
		return err;
	}
	c->cur = (unsigned int)-1;
	*out = c;
	return 0;
}

static void unmap(struct log_cursor *c)
{
	if (c->map && c->size)
		munmap(c->map, c->size);
	c->map = NULL;
	c->size = c->off = 0;
}

void log_cursor__free(struct log_cursor *c)
{
	if (!c)
		return;
	unmap(c);
	free(c->segs);
	free(c);
}

static int map_segment(struct log_cursor *c)
{
	char path[LOG_PATH_MAX + 32];
	struct stat st;
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/" SEGMENT_FMT, c->dir, c->segs[c->cur]);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err = -errno;
		snprintf(c->error, sizeof(c->error), "%s: %s", path, strerror(-err));
		goto out;
	}
	c->size = st.st_size;
	c->off = 0;
	c->index = 0;
	if (c->size) {
		c->map = mmap(NULL, c->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (c->map == MAP_FAILED) {
			err = -errno;
			c->map = NULL;
			c->size = 0;
			snprintf(c->error, sizeof(c->error), "%s: %s", path, strerror(-err));
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return err;
}

int log_cursor_next(struct log_cursor *c, struct template_entry *e)
{
	char why[TEMPLATE_WHY_LEN];
	size_t used;
	int err;

	while (c->cur == (unsigned int)-1 || c->off == c->size) {
		unmap(c);
		if (++c->cur >= c->nsegs) {
			c->cur = c->nsegs;
			return 0;
		}
		err = map_segment(c);
		if (err)
			return err;
	}
	err = template_decode(c->map + c->off, c->size - c->off, e, &used, why);
	if (err) {
		snprintf(c->error, sizeof(c->error),
			 "%s/" SEGMENT_FMT " (segment %u), entry %u at byte %zu: %s", c->dir,
			 c->segs[c->cur], c->segs[c->cur], c->index, c->off, why);
		return err;
	}
	c->last_off = c->off;
	c->last_len = used;
	c->off += used;
	c->index++;
	return 1;
}

void log_cursor_raw(const struct log_cursor *c, const uint8_t **p, size_t *len)
{
	*p = c->map + c->last_off;
	*len = c->last_len;
}

size_t log_cursor_offset(const struct log_cursor *c)
{
	return c->off;
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

const char *log_cursor_error(const struct log_cursor *c)
{
	return c->error;
}

unsigned int log_cursor_segment(const struct log_cursor *c)
{
	return c->cur < c->nsegs ? c->segs[c->cur] : 0;
}

unsigned int log_cursor_index(const struct log_cursor *c)
{
	return c->index ? c->index - 1 : 0;
}

unsigned int log_cursor_segments(const struct log_cursor *c)
{
	return c->nsegs;
}
