/* SPDX-License-Identifier: GPL-2.0-only */
/* The kernel's own IMA measurement list, read through securityfs. */
#ifndef BIMA_KERNEL_IMA_H
#define BIMA_KERNEL_IMA_H

#include <stdint.h>

#include "buf.h"

#define KERNEL_IMA_DIR "/sys/kernel/security/ima"

/* Append the binary list to out; -ENOENT when the kernel has no IMA. */
int kernel_ima_read(struct buf *out);
/* Number of entries in the kernel's list; -ENOENT when the kernel has no IMA. */
int kernel_ima_count(uint64_t *count);

#endif
