/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Keylime runtime policies (JSON, format version 1): written from a
 * directory tree or from a log, and a log checked against one with the
 * semantics of Keylime's verifier:
 *
 * - "excludes": regular expressions, one alternation, matched at the start
 *   of an entry's name (Python's re.match); an excluded entry passes;
 * - "digests": for an ima-ng or ima-sig entry, its name maps to the bare
 *   lowercase hex digests allowed for it (boot_aggregate included);
 * - "ima-buf" (and "keyrings"): the same for an ima-buf entry's name and
 *   the digest of its buffer;
 * - anything else fails: a name in no list, a digest not in its list;
 * - a violation (zero template hash) fails, whatever its name and digest,
 *   and before the excludes are tried: the PCR does not cover its data,
 *   which anyone who can write the log can rewrite. Keylime's verifier
 *   skips such an entry's data too and records a "tomtou" failure for it;
 *   bima has no setting that ignores one.
 *
 * The expressions are POSIX extended ones here: what Python's re has
 * beyond them (\d, lookaheads, lazy repeats) is refused, not ignored.
 */
#ifndef BIMA_RUNTIME_POLICY_H
#define BIMA_RUNTIME_POLICY_H

#include <stdbool.h>
#include <stdio.h>

#include "template.h"

struct runtime_policy;

/* Read and check FILE; errors name the file and the cause. -EINVAL if it is not one. */
int runtime_policy_read(const char *path, struct runtime_policy **out);
void runtime_policy_free(struct runtime_policy *p);

enum runtime_verdict {
	RUNTIME_ALLOWED,
	RUNTIME_EXCLUDED,
	RUNTIME_UNKNOWN,     /* its name is in no list */
	RUNTIME_NOT_ALLOWED, /* its digest is not in its name's list */
	RUNTIME_VIOLATION,   /* a violation: its name and digest are not covered */
};

/* What the policy says of an entry (f from template_fields()). */
enum runtime_verdict runtime_policy_check(const struct runtime_policy *p,
					  const struct template_entry *e,
					  const struct template_fields *f);

/*
 * A policy being written: entries added, then printed as JSON. It excludes
 * bima's bookkeeping entries by name (bima_seq, snapshot_aggregate: no file,
 * new contents each time, and checked by the replay itself); not the ones
 * that record a loss or a fault, which must fail a verifier that does not
 * expect them.
 */
struct runtime_policy_out;

int runtime_policy_out__new(struct runtime_policy_out **out);
void runtime_policy_out__free(struct runtime_policy_out *o);
int runtime_policy_out_exclude(struct runtime_policy_out *o, const char *regex);
/* Allow an entry: a file's (ima-ng, ima-sig), or an ima-buf entry's. */
int runtime_policy_out_entry(struct runtime_policy_out *o, const struct template_entry *e,
			     const struct template_fields *f);
/* Hash every regular file under dir (not crossing mounts) and allow it by its name. */
int runtime_policy_out_tree(struct runtime_policy_out *o, const char *dir);
/* Allow every entry of an epoch's log but the bookkeeping ones, faults and violations. */
int runtime_policy_out_log(struct runtime_policy_out *o, const char *epoch_dir);
int runtime_policy_out_print(struct runtime_policy_out *o, FILE *f);

#endif
