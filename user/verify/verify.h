/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `bima verify`: replay an epoch's log, check what it says of itself (each
 * entry's template hash, the chain of snapshots and their quotes), and
 * compare it with the TPM's PCRs, or offline with a quote of them.
 */
#ifndef BIMA_VERIFY_H
#define BIMA_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes of `bima verify`. */
enum verify_result {
	VERIFY_OK = 0,	     /* the log replays to the TPM's (or the quote's) PCR values */
	VERIFY_MISMATCH = 1, /* the log is corrupt, altered, or does not match */
	VERIFY_ERROR = 2,    /* could not verify: usage, I/O or TPM error */
};

struct verify_opts {
	const char *log_dir;
	const char *epoch_dir; /* NULL: the TPM's current epoch, or the quote's */
	const char *tcti;      /* the TPM, unless quote is given */
	const char *quote;     /* PREFIX of PREFIX.attest and PREFIX.sig: no TPM needed */
	const char *ak_pem;    /* the attestation key (PEM); else the log directory's */
	uint8_t nonce[64];     /* what the quote must be over */
	size_t nonce_len;
	uint64_t since;	   /* start from this anchor; 0: from the start, or the oldest anchor */
	bool reject_uhash; /* a log with entries hashed in userspace (uhash.h) fails */
	const char *runtime_policy; /* a Keylime runtime policy every entry must pass */
	bool by_container;	    /* summarise the file entries per container (views.h) */
	const char *allowlist;	    /* and count their digests not in it */
	FILE *json;		    /* print the summary as JSON here; NULL: as text */
};

int verify_run(const struct verify_opts *o);

#endif
