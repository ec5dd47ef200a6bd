/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a log records of itself that went wrong or happened, gathered entry
 * by entry while verify reads it and told after its verdict: losses,
 * violations, torn or inconsistent logs, tails extended from the log
 * alone, userspace hashes, kexecs, and every load's sequence numbers
 * (bima_seq), checked for gaps.
 */
#ifndef BIMA_LOGNOTES_H
#define BIMA_LOGNOTES_H

#include <stdbool.h>
#include <stdint.h>

#include "seqset.h"
#include "template.h"

#define LOADS_MAX 64

/* One load of the BPF programs: the sequence numbers logged, and the losses. */
struct load {
	char id[32];
	struct seqset seqs;
	uint64_t lost;
	uint64_t settled;   /* the highest number in its bima_seq entries but the last */
	uint64_t last;	    /* the highest number in its last bima_seq entry */
	uint64_t in_flight; /* after check_seqs: numbers missing that may be on their way */
	bool gap;	    /* after check_seqs: numbers missing, not on their way */
};

/* What the log itself records that went wrong or happened: told after the verdict. */
struct notes {
	uint64_t lost, loss_entries; /* events lost, and the bima_lost_events entries saying so */
	uint64_t unhashed;	     /* measurements whose file the kernel could not hash */
	uint64_t violations, torn, inconsistent, kexecs;
	uint64_t tails, tail_entries; /* bima_tail_extended entries, and the entries they name */
	char tail[160];		      /* the last one's range, as printed */
	uint64_t uhashed;	      /* entries hashed in userspace (UHASH_NAME marks) */
	unsigned int uhash_segment, uhash_index; /* where the first mark is */
	struct load loads[LOADS_MAX];
	size_t nloads;
	struct load *last_load; /* the load of the last bima_seq entry */
	uint64_t after_seq;	/* entries after the last bima_seq entry, or a load's start */
	bool records;		/* a load's records were seen (its bima_policy, a bima_seq) */
	bool bad_seq;		/* a bima_seq entry could not be read, or too many loads */
	bool from_anchor;	/* the log is read from an anchor: the numbers before are not */
};

/* Note what entry e (its fields f) records; a violation's data counts as nothing. */
void note_entry(const struct template_entry *e, const struct template_fields *f, struct notes *n);
/*
 * Per load, every sequence number up to the highest must be logged or
 * counted lost (but those still on their way at the very end of the last
 * load). Prints a FAIL line for each load with numbers missing; returns how
 * many.
 */
int check_seqs(struct notes *n);
/* Print the notes, after the verdict; frees the loads' sequence sets. */
void print_notes(struct notes *n);

#endif
