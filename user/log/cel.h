/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An epoch's log in the TCG Canonical Event Log format (CEL), in its JSON
 * encoding: `bima log --format cel-json` and `--format cel-json-array`.
 *
 * One record per log entry, in log order, each an object
 *
 *   {"recnum":N,"pcr":P,
 *    "digests":[{"hashAlg":"sha1","digest":HEX},{"hashAlg":"sha256",...},...],
 *    "content_type":"ima_template",
 *    "content":{"template_name":NAME,"template_data":HEX}}
 *
 * recnum counts from 0; pcr is the entry's PCR; each digest is what was
 * extended into that bank of the PCR for the entry (the bank's hash of the
 * template data, 0xff... for a violation, the zero-padded SHA-1 template
 * hash for a bank the kernel extends so: replay.h), lowercase hex, as
 * systemd's tpm2-measure.log, libcel and tpm2-tss's FAPI write them;
 * template_name is IMA's (ima-ng, ima-buf, bima-ct, ...); template_data is
 * the entry's template data, the bytes the digests hash, in lowercase hex
 * (so a path's bytes, whatever they are, never reach the JSON raw).
 *
 * The banks are those the log's first snapshot_aggregate names (the banks
 * the daemon extends), and a bank is zero-padded SHA-1 if the snapshots'
 * PCR values say so; a log with no snapshot gets all four banks a TPM may
 * have (sha1, sha256, sha384, sha512), each its own hash. A log that starts
 * at an anchor (retention removed the segments before it) is refused: CEL
 * has no record for a PCR's starting value, so no replay from zero could
 * match it.
 *
 * Framing: CEL_JSON_SEQ writes RFC 7464 JSON text sequences, each record
 * after an ASCII RS (0x1e) and before a LF, as systemd writes
 * /run/log/systemd/tpm2-measure.log (but with recnum, as CEL has it);
 * CEL_JSON_ARRAY writes one JSON array of the records.
 */
#ifndef BIMA_CEL_H
#define BIMA_CEL_H

#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "template.h"
#include "tpm.h"

enum cel_framing {
	CEL_JSON_SEQ,
	CEL_JSON_ARRAY,
};

/* "cel-json" or "cel-json-array"; -EINVAL for any other name. */
int cel_framing_parse(const char *name, enum cel_framing *out);

/* Append entry e as one CEL-JSON record (no framing), with the n digests in d. */
int cel_format_record(struct buf *out, uint64_t recnum, const struct template_entry *e,
		      const struct tpm_digest *d, size_t n);

/*
 * Write the log of epoch_dir to out as CEL-JSON records. Returns 0, or
 * -errno after saying on stderr what and where (a corrupt entry: its
 * segment and index, after the records before it).
 */
int cel_write_epoch(FILE *out, const char *epoch_dir, enum cel_framing framing);

#endif
