// SPDX-License-Identifier: GPL-2.0-only
#define _GNU_SOURCE /* statx */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include "uhash.h"

#define KERNEL_MINORBITS 20 /* the kernel's dev_t: major << 20 | minor */
#define NSEC_MASK ((1u << 30) - 1)

bool uhash_applies(const struct bima_event *ev)
{
	return ev->hash_algo == -EOPNOTSUPP && ev->hook != BIMA_HOOK_BPF_CHECK && ev->path_len &&
	       !(ev->flags & BIMA_EV_PATH_DENTRY) && ev->path[0] == '/';
}

bool uhash_kernel_has_ima(void)
{
	return !access("/sys/kernel/security/ima", F_OK);
}

/* Whether the open file is the record's inode, in the state the kernel saw. */
static int same_file(int fd, const struct bima_event *ev, char *why)
{
	struct statx sx;
	unsigned int gen;
	uint32_t dev;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_INO | STATX_CTIME | STATX_TYPE, &sx)) {
		snprintf(why, UHASH_WHY_LEN, "statx: %s", strerror(errno));
		return -errno;
	}
	dev = sx.stx_dev_major << KERNEL_MINORBITS | sx.stx_dev_minor;
	if (!S_ISREG(sx.stx_mode) || dev != ev->dev || sx.stx_ino != ev->ino ||
	    (!ioctl(fd, FS_IOC_GETVERSION, &gen) && gen != ev->generation)) {
		snprintf(why, UHASH_WHY_LEN, "the path now names another file");
		return -ESTALE;
	}
	if (sx.stx_ctime.tv_sec != ev->ctime_sec ||
	    (sx.stx_ctime.tv_nsec & NSEC_MASK) != ev->ctime_nsec) {
		snprintf(why, UHASH_WHY_LEN,
			 "the file changed since the kernel saw it (ctime %lld.%09u, then "
			 "%lld.%09u)",
			 (long long)sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec,
			 (long long)ev->ctime_sec, ev->ctime_nsec);
		return -ESTALE;
	}
	return 0;
}

/*
 * Open the record's path for reading, but only once it is known to be the
 * record's file: an O_PATH descriptor first, which opens nothing (a device
 * or FIFO put at the path would have side effects), then the same inode
 * again, for reading, through /proc/self/fd.
 */
static int open_file(const struct bima_event *ev, char *why)
{
	char proc[32];
	int path_fd, fd, err;

	path_fd = open(ev->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (path_fd < 0) {
		err = -errno;
		snprintf(why, UHASH_WHY_LEN, "open: %s", strerror(-err));
		return err;
	}
	err = same_file(path_fd, ev, why);
	if (!err) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", path_fd);
		fd = open(proc, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		err = fd < 0 ? -errno : 0;
		if (err)
			snprintf(why, UHASH_WHY_LEN, "open: %s", strerror(-err));
	}
	close(path_fd);
	return err ?: fd;
}

int uhash_file(const struct bima_event *ev, const struct hashalg *alg, uint8_t *digest,
	       char why[UHASH_WHY_LEN])
{
	int fd, err;

	fd = open_file(ev, why);
	if (fd < 0)
		return fd;
	err = hashalg_fd(alg, fd, digest);
	if (err)
		snprintf(why, UHASH_WHY_LEN, "read: %s", strerror(-err));
	/* A change while hashing moves the change time: check it again. */
	err = err ?: same_file(fd, ev, why);
	close(fd);
	return err;
}
