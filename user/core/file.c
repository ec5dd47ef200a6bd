// SPDX-License-Identifier: GPL-2.0-only
/* A small file replaced whole; a file or a directory root's alone (file.h). */
#define _GNU_SOURCE /* mkostemp */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= n;
	}
	return 0;
}

/* The rename durable too: after a crash, the file is the old one or the new one. */
static void sync_dir_of(const char *path)
{
	char dir[PATH_MAX];
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

int file_replace(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	int fd, err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = fchmod(fd, mode) ? -errno : write_all(fd, data, len);
	err = err ?: fsync(fd) ? -errno : 0;
	close(fd);
	err = err ?: rename(tmp, path) ? -errno : 0;
	if (err) {
		unlink(tmp);
		return err;
	}
	sync_dir_of(path);
	return 0;
}

bool file_root_only(const struct stat *st)
{
	return st->st_uid == 0 && !(st->st_mode & 022);
}

int file_root_dir(const char *dir, struct stat *st)
{
	if (lstat(dir, st))
		return -errno;
	return S_ISDIR(st->st_mode) && file_root_only(st) ? 0 : -EPERM;
}
