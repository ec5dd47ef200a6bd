/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Snapshots. A snapshot is an ima-buf entry named snapshot_aggregate whose
 * buffer is ASCII text:
 *
 *   id=2 prev=1 entries=1234 seq=5678 segment=3 segment_sha256=HEX pcr=10 sha1=HEX sha256=HEX ...
 *
 * id: this snapshot's, above every earlier one (and every anchor the kernel
 * holds); prev: the id of the epoch's previous snapshot, 0 for the first;
 * entries: the epoch's log entries before this one; seq: the kernel's
 * sequence counter when it was taken; segment and segment_sha256: the
 * segment it closes, and the sha256 of that segment's bytes before this
 * entry; then the PCR and its value in each bank before this entry.
 * After it is extended, the segment is closed and the kernel records the
 * anchor (bima_anchor in bpf/bima.h), with the PCR values after it.
 */
#ifndef BIMA_SNAPSHOT_H
#define BIMA_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "../bpf/bima.h"
#include "buf.h"
#include "hashalg.h"

#define SNAPSHOT_NAME "snapshot_aggregate"

struct snapshot {
	uint64_t id, prev, entries, seq;
	uint32_t segment, pcr;
	uint8_t segment_sha256[32];
	size_t nbanks;
	const struct hashalg *banks[BIMA_ANCHOR_BANKS];
	uint8_t pcr_value[BIMA_ANCHOR_BANKS][HASHALG_MAX_SIZE];
};

int snapshot_format(const struct snapshot *s, struct buf *out);
/* Parse a snapshot_aggregate buffer; -EINVAL if it is not one. */
int snapshot_parse(const char *text, size_t len, struct snapshot *s);
/* The sha256 of a file's bytes. */
int snapshot_file_sha256(const char *path, uint8_t out[32]);

#endif
