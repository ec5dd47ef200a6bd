/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Taking a snapshot (snapshot.h) of an epoch's log, in steps, because a
 * daemon's extends may have to wait for the TPM:
 *
 * anchor_begin()  the snapshot_aggregate entry for the log as it stands,
 *                 all of it in the TPM; the caller writes it durably;
 * anchor_close()  then: keep a copy of the entry beside the segments
 *                 (anchor-ID.bin), close the segment for good and open the
 *                 next, which later entries go to;
 * anchor_quote()  once the TPM holds the entry, and nothing after it: quote
 *                 the PCR in the snapshot's banks over the sha256 of its
 *                 text, keep the quote (quote-ID.attest, quote-ID.sig), and
 *                 fill in the anchor for the kernel (bima_anchor_add).
 *
 * Then, with a retention setting, the segments before an older quoted
 * anchor are compressed or removed (anchor_retain).
 */
#ifndef BIMA_ANCHOR_H
#define BIMA_ANCHOR_H

#include <stdbool.h>

#include "../../bpf/bima.h"
#include "epoch.h"
#include "snapshot.h"
#include "tpm.h"

int anchor_begin(const struct epoch *ep, const struct log *log, uint64_t id, uint64_t seq,
		 struct snapshot *s, struct buf *entry);
/* *log becomes the next segment; errors are logged. */
int anchor_close(const struct epoch *ep, const struct snapshot *s, const struct buf *entry,
		 struct log **log);
/*
 * ak may be NULL: no quote. A quote that fails is only a warning: the
 * snapshot stands, without one, and so does its anchor. Returns whether
 * there is a quote.
 */
bool anchor_quote(const struct epoch *ep, struct tpm *tpm, const struct tpm_ak *ak,
		  const struct snapshot *s, struct bima_anchor *a);

enum retention {
	RETAIN_KEEP,	 /* every segment stays as written */
	RETAIN_COMPRESS, /* segment-N.bin becomes segment-N.bin.gz */
	RETAIN_REMOVE,	 /* removed, with the anchor files and quotes before */
};

/* "keep", "compress", "remove"; -EINVAL for anything else. */
int anchor_retention_parse(const char *s, enum retention *out);
/*
 * Apply the retention mode to the segments up to the one that the keep-th
 * newest quoted anchor closes (keep >= 1): verification from that anchor
 * (or a newer one) still works, and with RETAIN_COMPRESS from the start
 * too. Errors are logged; nothing is lost on one (a segment is removed or
 * replaced only once the step before is durable).
 */
int anchor_retain(const char *epoch_dir, enum retention mode, unsigned int keep);

#endif
