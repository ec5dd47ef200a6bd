/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `bima keylime check`: what a Keylime agent on this host needs of bima,
 * checked one item a line ("ok:" or "FAIL:"), and the ima_ml_path line for
 * the agent's configuration.
 */
#ifndef BIMA_KEYLIME_H
#define BIMA_KEYLIME_H

/* 0: all is well; 1: something is not; 2: could not check (no TPM). */
int keylime_check(const char *log_dir, const char *tcti, const char *link);

#endif
