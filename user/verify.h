/* SPDX-License-Identifier: GPL-2.0-only */
/* `bima verify`: replay an epoch's log and compare it with the TPM. */
#ifndef BIMA_VERIFY_H
#define BIMA_VERIFY_H

#include <stdbool.h>

/* Exit codes of `bima verify`. */
enum verify_result {
	VERIFY_OK = 0,	     /* the log replays to the TPM's PCR values */
	VERIFY_MISMATCH = 1, /* the log is corrupt or does not match the TPM */
	VERIFY_ERROR = 2,    /* could not verify: usage, I/O or TPM error */
};

/*
 * epoch_dir NULL: the epoch the TPM is in now. reject_uhash: a log with
 * entries hashed in userspace (uhash.h) fails.
 */
int verify_run(const char *log_dir, const char *epoch_dir, const char *tcti, bool reject_uhash);

#endif
