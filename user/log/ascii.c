// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ascii.h"
#include "log.h"
#include "msg.h"

struct ascii {
	int fd;
	off_t durable; /* bytes made durable: whole lines */
	char path[LOG_PATH_MAX + 64];
};

/* Point link at path, replacing what it points at with a rename. */
static int make_link(const char *path, const char *link)
{
	char dir[LOG_PATH_MAX], tmp[LOG_PATH_MAX + 8], *slash;
	char now[LOG_PATH_MAX + 64];
	ssize_t n = readlink(link, now, sizeof(now) - 1);

	if (n > 0 && (now[n] = '\0', !strcmp(now, path)))
		return 0;
	snprintf(dir, sizeof(dir), "%s", link);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			return -errno;
	}
	snprintf(tmp, sizeof(tmp), "%s.new", link);
	unlink(tmp);
	if (symlink(path, tmp) || rename(tmp, link))
		return -errno;
	return 0;
}

int ascii__open(const char *epoch_dir, const char *link, struct ascii **out)
{
	struct ascii *a = calloc(1, sizeof(*a));
	int err = 0, dfd;

	if (!a)
		return -ENOMEM;
	snprintf(a->path, sizeof(a->path), "%s/" ASCII_NAME, epoch_dir);
	a->fd = open(a->path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (a->fd < 0) {
		err = -errno;
		pr_err("%s: cannot open the ASCII list: %s", a->path, strerror(-err));
		free(a);
		return err;
	}
	/* Its name must be durable before a line in it is. */
	dfd = open(epoch_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		err = -errno;
	if (dfd >= 0)
		close(dfd);
	a->durable = lseek(a->fd, 0, SEEK_END);
	err = err ?: make_link(a->path, link);
	if (err) {
		pr_err("%s -> %s: %s", link, a->path, strerror(-err));
		ascii__close(a);
		return err;
	}
	*out = a;
	return 0;
}

void ascii__close(struct ascii *a)
{
	if (!a)
		return;
	close(a->fd);
	free(a);
}

const char *ascii_path(const struct ascii *a)
{
	return a->path;
}

/* Cut the list to length bytes, durably: only what no durable entry has a line in. */
static int cut(struct ascii *a, off_t length)
{
	if (ftruncate(a->fd, length) || fdatasync(a->fd))
		return -errno;
	a->durable = length;
	return 0;
}

/* The lines of an encoded list, appended to out. */
static int render(const struct buf *entries, struct buf *out)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	size_t used;
	int err = 0;

	for (size_t off = 0; !err && off < entries->len; off += used)
		err = template_decode(entries->p + off, entries->len - off, &e, &used, why)
			      ?: template_format_ascii(out, &e, why);
	return err;
}

/* Write lines with one write() and make them durable, or cut them off again. */
static int write_lines(struct ascii *a, const struct buf *lines)
{
	ssize_t n;
	int err = 0;

	if (!lines->len)
		return 0;
	do
		n = write(a->fd, lines->p, lines->len);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)lines->len)
		err = n < 0 ? -errno : -ENOSPC; /* a short write: the disk is full */
	if (!err && fdatasync(a->fd))
		err = -errno;
	if (err) {
		if (cut(a, a->durable))
			pr_err("%s: cannot cut back to %lld bytes after a failed write: %s",
			       a->path, (long long)a->durable, strerror(errno));
		return err;
	}
	a->durable += n;
	return 0;
}

int ascii_cut_back(struct ascii *a, off_t length)
{
	return cut(a, length);
}

off_t ascii_size(const struct ascii *a)
{
	return a->durable;
}

int ascii_append(struct ascii *a, const struct buf *entries)
{
	struct buf lines = {};
	int err = render(entries, &lines) ?: write_lines(a, &lines);

	buf_free(&lines);
	return err;
}

/* Where line n (from 0) of p[0..len) starts, and how many whole lines there are. */
static size_t line_start(const uint8_t *p, size_t len, uint64_t n, uint64_t *lines)
{
	size_t off = 0, at = len;
	uint64_t count = 0;
	const uint8_t *nl;

	while (off < len && (nl = memchr(p + off, '\n', len - off))) {
		if (count == n)
			at = off;
		count++;
		off = nl - p + 1;
	}
	*lines = count;
	return count <= n ? off : at; /* past the last whole line: a torn one is cut */
}

/* Whether line n of p[0..len) is entry e's; -EBADMSG, said, if not. */
static int same_line(const struct ascii *a, const uint8_t *p, size_t len, uint64_t n,
		     const struct template_entry *e)
{
	char why[TEMPLATE_WHY_LEN];
	struct buf line = {};
	uint64_t count;
	size_t at = line_start(p, len, n, &count);
	int err = template_format_ascii(&line, e, why);

	if (!err && (at + line.len > len || memcmp(p + at, line.p, line.len))) {
		pr_err("%s: line %llu is not the log's entry %llu: the list was altered", a->path,
		       (unsigned long long)n + 1, (unsigned long long)n + 1);
		err = -EBADMSG;
	}
	buf_free(&line);
	return err;
}

int ascii_reconcile(struct ascii *a, const char *epoch_dir)
{
	const struct snapshot *start;
	struct log_cursor *c = NULL;
	struct template_entry e;
	struct buf lines = {};
	char why[TEMPLATE_WHY_LEN];
	uint64_t have, index = 0;
	uint8_t *map = NULL;
	size_t size, keep;
	int err, next = 0;

	size = lseek(a->fd, 0, SEEK_END);
	if (size) {
		/*
		 * Private: a shared mapping of a file open for writing may be
		 * writable (VM_MAYWRITE), which 9p without a cache refuses
		 * with EINVAL; read-only, the two see the same bytes.
		 */
		map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, a->fd, 0);
		if (map == MAP_FAILED)
			return -errno;
	}
	err = log_cursor__open(epoch_dir, 0, &c);
	if (err == -ENOENT)
		err = 0; /* no log yet */
	start = c ? log_cursor_start(c) : NULL;
	index = start ? start->entries : 0;
	keep = line_start(map, size, UINT64_MAX, &have);
	if (!err && keep < size) {
		pr_warn("%s: cut a torn last line of %zu bytes (a write that never completed)",
			a->path, size - keep);
		err = cut(a, keep);
	}
	if (!err && start && have < index) {
		pr_err("%s: %llu lines, but the log starts at anchor %llu, entry %llu: the lines "
		       "before it cannot be made again",
		       a->path, (unsigned long long)have, (unsigned long long)start->id,
		       (unsigned long long)index);
		err = -ENODATA;
	}
	while (!err && c && (next = log_cursor_next(c, &e)) > 0) {
		if (index + 1 == have) /* the last line there must be this entry's */
			err = same_line(a, map, keep, index, &e);
		if (index++ < have)
			continue;
		err = template_format_ascii(&lines, &e, why);
		if (err)
			pr_err("%s: no line for the log's entry %llu: %s", a->path,
			       (unsigned long long)index, why);
		if (!err && lines.len >= 1 << 20) {
			err = write_lines(a, &lines);
			lines.len = 0;
		}
	}
	if (!err && next < 0) /* the start said what it does with a log it cannot read */
		pr_warn("%s: its lines stop where the log cannot be read: %s", a->path,
			log_cursor_error(c));
	if (err < 0)
		goto out;
	if (have > index) { /* lines of entries the binary log does not have */
		size_t at = line_start(map, keep, index, &have);

		pr_warn("%s: cut %zu bytes after line %llu: entries that were never durable in "
			"the log (a failed write, or a crash), so never extended",
			a->path, keep - at, (unsigned long long)index);
		err = cut(a, at);
		have = index;
	}
	err = err ?: write_lines(a, &lines);
	if (!err && index > have)
		pr_info("%s: appended the lines of %llu entries the log had", a->path,
			(unsigned long long)(index - have));
out:
	if (map)
		munmap(map, size);
	log_cursor__free(c);
	buf_free(&lines);
	return err;
}
