/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What `bima quote` hands a remote verifier: a directory holding a fresh
 * quote and the log it covers, laid out as a log directory (log.h):
 *
 *   DIR/quote.attest, DIR/quote.sig  the quote, over the verifier's nonce
 *   DIR/epoch-R-S/                   the epoch's log from anchor N on, or all
 *                                    of it: anchor-ID.bin and quote-ID.* of
 *                                    the snapshots from N on, and the segments
 *                                    after the one N closes
 *
 * `bima verify --log-dir DIR --quote DIR/quote --ak AK.pem --nonce HEX`
 * checks it offline, with no TPM. The quote is taken before the log is
 * copied, so the log may run ahead of it, never behind; the last segment
 * is copied up to its last whole entry.
 */
#ifndef BIMA_BUNDLE_H
#define BIMA_BUNDLE_H

#include <stdint.h>

#include "tpm.h"

/* DIR/quote.attest and DIR/quote.sig; errors are logged. */
int bundle_write_quote(const char *out_dir, const struct tpm_quote *q);
/* Copy epoch_dir's log from anchor since (0: all of it) into out_dir; errors are logged. */
int bundle_write_log(const char *epoch_dir, uint64_t since, const char *out_dir);

#endif
