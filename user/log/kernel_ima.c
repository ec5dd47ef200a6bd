// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "kernel_ima.h"

int kernel_ima_read(struct buf *out)
{
	int fd = open(KERNEL_IMA_DIR "/binary_runtime_measurements", O_RDONLY | O_CLOEXEC);
	int err = 0;

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n;

		err = buf_reserve(out, 65536);
		if (err)
			break;
		n = read(fd, out->p + out->len, out->cap - out->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? -errno : 0;
			break;
		}
		out->len += n;
	}
	close(fd);
	return err;
}

int kernel_ima_count(uint64_t *count)
{
	char text[32];
	int fd = open(KERNEL_IMA_DIR "/runtime_measurements_count", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -EIO;
	text[n] = '\0';
	*count = strtoull(text, NULL, 10);
	return 0;
}
