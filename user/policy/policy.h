/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bima's measurement policy: IMA's policy language (measure, dont_measure;
 * func=, mask=, uid=, euid=, gid=, egid=, fowner=, fgroup= with =, < and >;
 * fsmagic=, fsname=, fsuuid=, pcr=, template=) plus cgroup=, compiled into struct bima_rule
 * (bpf/bima.h), the first matching rule deciding, as in IMA. An IMA policy
 * loads as it is: its other actions are skipped, and dont_measure rules
 * bima cannot evaluate dropped, each with a warning (POLICY_STRICT).
 */
#ifndef BIMA_POLICY_H
#define BIMA_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/bima.h"

#define POLICY_CGROUP_ROOT "/sys/fs/cgroup"

struct policy {
	struct bima_rule rules[BIMA_RULES_MAX];
	char *cgroups[BIMA_RULES_MAX]; /* each rule's cgroup= path (a layout's, found), or NULL */
	unsigned int lines[BIMA_RULES_MAX]; /* each rule's line in the text */
	size_t nrules;
	struct bima_policy map; /* the rules and the text's sha256, for the bima_policy map */
};

/*
 * The built-in policy as policy text: IMA's ima_policy=tcb, the kexec rules
 * IMA's architecture policy adds on a secure-boot machine, and BPF_CHECK.
 */
extern const char policy_default[];

/*
 * Refuse what IMA would do differently and bima can do without: rules of
 * IMA's other actions (appraise, audit, hash), dont_measure rules with a
 * condition bima cannot evaluate, and lines kernel IMA refuses. Without it,
 * the first two are skipped and all are warned of.
 */
#define POLICY_STRICT 0x1

/*
 * Compile policy text. Each error is printed to err as "NAME:LINE:COLUMN:
 * reason", each warning as "NAME:LINE:COLUMN: warning: reason", and all are
 * reported; returns the number of errors (0: p is ready), or a negative
 * errno. cgroup= paths are taken under cgroup_root; flags are POLICY_*.
 */
int policy_compile(struct policy *p, const char *text, const char *name, const char *cgroup_root,
		   unsigned int flags, FILE *err);
/*
 * Read and compile the policy file path, or the built-in policy when path
 * is NULL, and fill p->map. Errors are printed as policy_compile's; returns
 * their number, or -errno (reported) when the file cannot be read.
 */
int policy_read(struct policy *p, const char *path, unsigned int flags);
/* Name each rule whose pcr= is not pcr; returns how many there are. */
int policy_check_pcr(const struct policy *p, const char *name, uint32_t pcr);
/* IMA's func name for an enum bima_hook, such as "BPRM_CHECK"; NULL if none. */
const char *policy_func_name(unsigned int hook);
/* The name of a mask= bit (MAY_EXEC, ...), or NULL. */
const char *policy_may_name(unsigned int bit);
/* Print the compiled rules, one per line, in the policy language. */
void policy_print(const struct policy *p, FILE *out);
void policy_free(struct policy *p);

#endif
