/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Snapshots. A snapshot is an ima-buf entry named snapshot_aggregate whose
 * buffer is ASCII text:
 *
 *   id=2 prev=1 epoch=3-0 entries=1234 seq=5678 segment=3 segment_sha256=HEX
 *   segment_xor=HEX pcr=10 sha1=HEX sha256=HEX ...        (one line)
 *
 * id: this snapshot's, above every earlier one (and every anchor the kernel
 * holds); prev: the id of the epoch's previous snapshot, 0 for the first;
 * epoch: the TPM's reset and restart counts; entries: the epoch's log
 * entries before this one; seq: the kernel's sequence counter when it was
 * taken; segment, segment_sha256 and segment_xor: the segment it closes,
 * the sha256 of that segment's bytes before this entry, and the XOR of
 * those entries' template hashes (the same in any order: it tells
 * reordered entries from changed ones); then the PCR and its value in each
 * bank before this entry.
 * After it is extended, the segment is closed and the kernel records the
 * anchor (bima_anchor in bpf/bima.h), with the PCR values after it.
 */
#ifndef BIMA_SNAPSHOT_H
#define BIMA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../../bpf/bima.h"
#include "buf.h"
#include "hashalg.h"
#include "template.h"

#define SNAPSHOT_NAME "snapshot_aggregate"

struct snapshot {
	uint64_t id, prev, entries, seq;
	uint32_t reset, restart; /* the TPM epoch */
	uint32_t segment, pcr;
	uint8_t segment_sha256[32];
	uint8_t segment_xor[TEMPLATE_DIGEST_SIZE];
	size_t nbanks;
	const struct hashalg *banks[BIMA_ANCHOR_BANKS];
	uint8_t pcr_value[BIMA_ANCHOR_BANKS][HASHALG_MAX_SIZE];
};

int snapshot_format(const struct snapshot *s, struct buf *out);
/*
 * Parse a snapshot_aggregate buffer; -EINVAL if it is not one, -ERANGE (s
 * filled) if it names a PCR past 23, which no TPM has.
 */
int snapshot_parse(const char *text, size_t len, struct snapshot *s);
/*
 * The digests of a segment's bytes that a snapshot holds: their sha256 and
 * the XOR of their entries' template hashes. -EBADMSG if an entry is bad.
 */
int snapshot_segment_digests(const uint8_t *p, size_t len, uint8_t sha256[32],
			     uint8_t hashes_xor[TEMPLATE_DIGEST_SIZE]);

#endif
