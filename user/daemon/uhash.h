/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Hashing in userspace, for a record whose file the kernel could not hash:
 * bpf_ima_file_hash() returns -EOPNOTSUPP on a kernel without IMA, and for
 * a file IMA will not read (opened with O_DIRECT, say). The file is opened
 * by the record's path and hashed only if it is the record's very inode
 * (device, inode number, generation) and unchanged since the kernel saw it
 * (its change time, before and after hashing). Entries hashed so are marked
 * in the log (UHASH_NAME), and `bima verify --reject-userspace-hashes`
 * refuses them.
 */
#ifndef BIMA_UHASH_H
#define BIMA_UHASH_H

#include <stdbool.h>
#include <stdint.h>

#include "../../bpf/bima.h"
#include "hashalg.h"

#define UHASH_NAME "bima_userspace_hash" /* the ima-buf entry before such an entry */
#define UHASH_WHY_LEN 128

/* Whether the kernel failed in a way userspace can make up for. */
bool uhash_applies(const struct bima_event *ev);
/* Hash the record's file with alg into digest; -errno with the reason in why. */
int uhash_file(const struct bima_event *ev, const struct hashalg *alg, uint8_t *digest,
	       char why[UHASH_WHY_LEN]);
/* Whether this kernel has IMA at all (else every file is hashed in userspace). */
bool uhash_kernel_has_ima(void);

#endif
