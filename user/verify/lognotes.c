// SPDX-License-Identifier: GPL-2.0-only
/* What a log records of itself; the contract is in lognotes.h. */
#include <stdio.h>
#include <string.h>

#include "lognotes.h"
#include "uhash.h"

static struct load *find_load(struct notes *n, const char *id)
{
	for (size_t i = 0; i < n->nloads; i++)
		if (!strcmp(n->loads[i].id, id))
			return &n->loads[i];
	if (n->nloads == LOADS_MAX) {
		n->bad_seq = true;
		return NULL;
	}
	snprintf(n->loads[n->nloads].id, sizeof(n->loads[0].id), "%s", id);
	return &n->loads[n->nloads++];
}

/* "load=L seq=RANGES" */
static void note_seqs(struct notes *n, const char *text, size_t len)
{
	char head[64], id[32];
	struct seqset one = {};
	const uint64_t *r;
	int at = 0, err = 0;
	struct load *l;

	/* The buffer is not NUL-terminated: scan a bounded copy of its head. */
	snprintf(head, sizeof(head), "%.*s", (int)len, text);
	if (sscanf(head, "load=%31s seq=%n", id, &at) != 1 || !at || !(l = find_load(n, id)) ||
	    seqset_parse(&one, text + at, len - at) || !seqset_ranges(&one)) {
		n->bad_seq = true;
		seqset_free(&one);
		return;
	}
	seqset_merge(&one);
	r = (const uint64_t *)one.ranges.p;
	for (size_t i = 0; !err && i < seqset_ranges(&one); i++)
		err = seqset_add(&l->seqs, r[2 * i], r[2 * i + 1]);
	n->bad_seq |= err != 0;
	if (l->last > l->settled)
		l->settled = l->last;
	l->last = seqset_max(&one);
	n->last_load = l;
	seqset_free(&one);
}

void note_entry(const struct template_entry *e, const struct template_fields *fp, struct notes *n)
{
	static const uint8_t zero[HASHALG_MAX_SIZE];
	const struct template_fields f = *fp;
	char text[128];
	unsigned long long count;
	char load[32];
	struct load *l;
	const char *at;

	n->after_seq++;
	/* A violation's data is not covered by the PCR: it counts as none of these. */
	if (!f.covered) {
		n->violations++;
		return;
	}
	if (!f.extra) {
		n->unhashed += !memcmp(f.digest, zero, f.alg->size);
		/* A load's first record, sequence number 0, is its policy. */
		if (f.path[0] == 'b' && !strcmp(f.path, "bima_policy") && !n->records) {
			n->records = true;
			n->after_seq = 1;
		}
		return;
	}
	if (template_record(e, fp, "bima_seq")) {
		note_seqs(n, (const char *)f.extra, f.extra_len);
		n->records = true;
		n->after_seq = 0;
		return;
	}
	snprintf(text, sizeof(text), "%.*s", (int)f.extra_len, (const char *)f.extra);
	if (template_record(e, fp, "bima_lost_events") && sscanf(text, "lost=%llu", &count) == 1) {
		n->lost += count;
		n->loss_entries++;
		at = strstr(text, " load=");
		if (at && sscanf(at, " load=%31s", load) == 1 && (l = find_load(n, load)))
			l->lost += count;
	}
	if (template_record(e, fp, "bima_tail_extended")) {
		unsigned int seg1, seg2;
		size_t bytes, b1, b2;
		char tail[256];

		snprintf(tail, sizeof(tail), "%.*s", (int)f.extra_len, (const char *)f.extra);
		n->tails++;
		if (sscanf(tail,
			   "entries=%llu bytes=%zu first_segment=%u first_byte=%zu "
			   "last_segment=%u last_byte=%zu",
			   &count, &bytes, &seg1, &b1, &seg2, &b2) == 6) {
			n->tail_entries += count;
			snprintf(n->tail, sizeof(n->tail),
				 "%llu entr%s, segment %u byte %zu to segment %u byte %zu", count,
				 count == 1 ? "y" : "ies", seg1, b1, seg2, b2);
		} else {
			snprintf(n->tail, sizeof(n->tail), "its buffer is unreadable");
		}
	}
	n->torn += template_record(e, fp, "bima_log_torn");
	n->inconsistent += template_record(e, fp, "bima_log_inconsistent");
	n->kexecs += template_record(e, fp, "kexec_execute");
	n->uhashed += template_record(e, fp, UHASH_NAME);
}

/*
 * Per load, the numbers 0..max must all be logged, but for as many as were
 * counted lost: one more is a measurement missing, a record that left the
 * ring buffer unlogged. Only at the very end of the log's last load may a
 * number be still on its way (a record that took its number before one
 * logged already, and was not yet in the ring buffer when the daemon read
 * it): above the numbers of every bima_seq entry of that load but its last.
 * Prints a FAIL line for each load with numbers missing; returns how many.
 */
int check_seqs(struct notes *n)
{
	int bad = 0;

	for (size_t i = 0; i < n->nloads; i++) {
		struct load *l = &n->loads[i];
		const uint64_t *r;
		uint64_t low, missing = 0, tail = 0, first = 0, last = 0, lost = l->lost;
		uint64_t edge = l == n->last_load ? l->settled : UINT64_MAX;

		seqset_merge(&l->seqs);
		if (!seqset_ranges(&l->seqs))
			continue;
		r = (const uint64_t *)l->seqs.ranges.p;
		/* From an anchor, the numbers below the first one logged were logged before it. */
		low = n->from_anchor ? r[0] : 0;
		/* The holes: [low, r[0]) and between the ranges; each split at the edge. */
		for (size_t k = 0; k < seqset_ranges(&l->seqs); k++) {
			uint64_t from = k ? r[2 * k - 1] + 1 : low, to = r[2 * k]; /* [from, to) */
			uint64_t below = from < edge ? (to < edge ? to : edge) - from : 0;

			if (from >= to)
				continue;
			if (below && !missing)
				first = from;
			if (below)
				last = from + below - 1;
			missing += below;
			tail += to - from - below;
		}
		/* The losses count numbers without naming them: those settled first. */
		if (missing > lost) {
			bad++;
			l->gap = true;
			printf("FAIL: load %s: sequence numbers %llu to %llu neither logged nor "
			       "counted lost: %llu measurement(s) missing (records taken from the "
			       "ring buffer and never logged)\n",
			       l->id, (unsigned long long)first, (unsigned long long)last,
			       (unsigned long long)(missing - lost));
			lost = 0;
		} else {
			lost -= missing;
		}
		l->in_flight = tail > lost ? tail - lost : 0;
	}
	return bad;
}

static void print_seq_notes(struct notes *n)
{
	uint64_t records = 0;
	bool whole = !n->bad_seq;

	if (n->bad_seq)
		printf("note: a bima_seq entry could not be read; sequence numbers are not "
		       "checked in full\n");
	for (size_t i = 0; i < n->nloads; i++) {
		struct load *l = &n->loads[i];

		if (!seqset_ranges(&l->seqs))
			continue;
		records += l->seqs.covered;
		whole &= !l->gap;
		if (l->in_flight) {
			whole = false;
			printf("note: load %s: %llu sequence number(s) below %llu, above those of "
			       "its earlier bima_seq entries, not yet logged: records still on "
			       "their way at the end of the log\n",
			       l->id, (unsigned long long)l->in_flight,
			       (unsigned long long)seqset_max(&l->seqs));
		}
		if (l->seqs.repeated)
			printf("note: load %s: %llu record(s) logged twice (a daemon stopped after "
			       "writing them, before it freed them)\n",
			       l->id, (unsigned long long)l->seqs.repeated);
	}
	if (n->nloads && whole)
		printf("note: %llu kernel record(s) in %zu load(s): every sequence number logged "
		       "or counted lost\n",
		       (unsigned long long)records, n->nloads);
	/* A daemon covers records in a bima_seq entry within 60 s or 1,024 records, at a stop. */
	if (n->records && n->after_seq)
		printf("note: %llu entr%s after the last bima_seq entry: the sequence numbers of "
		       "their records are not in one yet (the records stay in "
		       "the ring buffer until a daemon writes one)\n",
		       (unsigned long long)n->after_seq, n->after_seq == 1 ? "y" : "ies");
	for (size_t i = 0; i < n->nloads; i++)
		seqset_free(&n->loads[i].seqs);
}

void print_notes(struct notes *n)
{
	if (n->lost)
		printf("note: %llu measurement(s) lost, recorded in %llu bima_lost_events "
		       "entr%s\n",
		       (unsigned long long)n->lost, (unsigned long long)n->loss_entries,
		       n->loss_entries == 1 ? "y" : "ies");
	if (n->unhashed)
		printf("note: %llu file(s) the kernel could not hash, logged with an all-zero "
		       "digest\n",
		       (unsigned long long)n->unhashed);
	if (n->uhashed)
		printf("note: %llu file(s) hashed in userspace, not by the kernel (each after a "
		       "%s entry)\n",
		       (unsigned long long)n->uhashed, UHASH_NAME);
	if (n->violations)
		printf("note: %llu violation entr%s (zero template hash: the PCR does not cover "
		       "their data, which verify reads nothing of)\n",
		       (unsigned long long)n->violations, n->violations == 1 ? "y" : "ies");
	if (n->torn)
		printf("note: %llu torn entr%s cut at a daemon start (bima_log_torn)\n",
		       (unsigned long long)n->torn, n->torn == 1 ? "y" : "ies");
	if (n->tails)
		printf("note: %llu entr%s extended from the log alone (at a daemon start, or when "
		       "the TPM came back), not from records a daemon read, in %llu "
		       "bima_tail_extended entr%s (the last: %s); "
		       "the TPM covers them but does not say bima wrote them\n",
		       (unsigned long long)n->tail_entries, n->tail_entries == 1 ? "y" : "ies",
		       (unsigned long long)n->tails, n->tails == 1 ? "y" : "ies", n->tail);
	if (n->inconsistent)
		printf("note: %llu bima_log_inconsistent entr%s: a daemon found the TPM and the "
		       "log apart\n",
		       (unsigned long long)n->inconsistent, n->inconsistent == 1 ? "y" : "ies");
	if (n->kexecs)
		printf("note: %llu kexec%s into a kernel that continued this epoch "
		       "(kexec_execute)\n",
		       (unsigned long long)n->kexecs, n->kexecs == 1 ? "" : "s");
	print_seq_notes(n);
}
