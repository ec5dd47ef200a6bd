// SPDX-License-Identifier: GPL-2.0-only
/* A compiled policy, printed a rule a line, as `bima policy check` shows it (policy.h). */
#include <inttypes.h>
#include <stdio.h>

#include "policy.h"

static void print_id(FILE *out, const char *key, uint8_t op, uint32_t id)
{
	fprintf(out, " %s%c%" PRIu32, key,
		op == BIMA_OP_LT   ? '<'
		: op == BIMA_OP_GT ? '>'
				   : '=',
		id);
}

void policy_print(const struct policy *p, FILE *out)
{
	for (size_t i = 0; i < p->nrules; i++) {
		const struct bima_rule *r = &p->rules[i];

		fprintf(out, "%2zu: %s", i + 1,
			r->action == BIMA_MEASURE ? "measure" : "dont_measure");
		if (r->flags & BIMA_RULE_FUNC)
			fprintf(out, " func=%s", policy_func_name(r->func));
		if ((r->flags & (BIMA_RULE_MASK | BIMA_RULE_INMASK)) && policy_may_name(r->mask))
			fprintf(out, " mask=%s%s", r->flags & BIMA_RULE_INMASK ? "^" : "",
				policy_may_name(r->mask));
		if (r->flags & BIMA_RULE_UID)
			print_id(out, "uid", r->uid_op, r->uid);
		if (r->flags & BIMA_RULE_EUID)
			print_id(out, "euid", r->euid_op, r->euid);
		if (r->flags & BIMA_RULE_FOWNER)
			print_id(out, "fowner", r->fowner_op, r->fowner);
		if (r->flags & BIMA_RULE_FGROUP)
			print_id(out, "fgroup", r->fgroup_op, r->fgroup);
		if (r->flags & BIMA_RULE_GID)
			print_id(out, "gid", r->gid_op, r->gid);
		if (r->flags & BIMA_RULE_EGID)
			print_id(out, "egid", r->egid_op, r->egid);
		if (r->flags & BIMA_RULE_FSNAME)
			fprintf(out, " fsname=%.*s", (int)sizeof(r->fsname), r->fsname);
		if (r->flags & BIMA_RULE_FSMAGIC)
			fprintf(out, " fsmagic=0x%" PRIx64, (uint64_t)r->fsmagic);
		if (r->flags & BIMA_RULE_FSUUID) {
			fprintf(out, " fsuuid=");
			for (int b = 0; b < 16; b++)
				fprintf(out, "%s%02x",
					b == 4 || b == 6 || b == 8 || b == 10 ? "-" : "",
					r->fsuuid[b]);
		}
		if (r->flags & BIMA_RULE_PCR)
			fprintf(out, " pcr=%" PRIu32, r->pcr);
		if (r->flags & BIMA_RULE_CGROUP)
			fprintf(out, " cgroup=%s (id %" PRIu64 ", level %" PRIu32 ")",
				p->cgroups[i], (uint64_t)r->cgroup_id, r->cgroup_level);
		fputc('\n', out);
	}
}
