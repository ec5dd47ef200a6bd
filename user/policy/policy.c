// SPDX-License-Identifier: GPL-2.0-only
/* The policy language: see policy.h, and bima-policy(5). */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "hashalg.h"
#include "policy.h"

/* IMA's func names; a hook's first name is the one bima prints. */
static const struct {
	const char *name;
	int hook; /* 0: IMA has it, bima does not measure it */
} funcs[] = {
	{ "BPRM_CHECK", BIMA_HOOK_BPRM_CHECK },
	{ "MMAP_CHECK", BIMA_HOOK_MMAP_CHECK },
	{ "FILE_MMAP", BIMA_HOOK_MMAP_CHECK }, /* IMA's old name */
	{ "FILE_CHECK", BIMA_HOOK_FILE_CHECK },
	{ "PATH_CHECK", BIMA_HOOK_FILE_CHECK }, /* IMA's old name */
	{ "MODULE_CHECK", BIMA_HOOK_MODULE_CHECK },
	{ "FIRMWARE_CHECK", BIMA_HOOK_FIRMWARE_CHECK },
	{ "KEXEC_KERNEL_CHECK", BIMA_HOOK_KEXEC_KERNEL_CHECK },
	{ "KEXEC_INITRAMFS_CHECK", BIMA_HOOK_KEXEC_INITRAMFS_CHECK },
	{ "POLICY_CHECK", BIMA_HOOK_POLICY_CHECK },
	{ "BPF_CHECK", BIMA_HOOK_BPF_CHECK }, /* bima's own */
	{ "MMAP_CHECK_REQPROT", BIMA_HOOK_MMAP_CHECK_REQPROT },
	{ "CREDS_CHECK", BIMA_HOOK_CREDS_CHECK },
	{ "KEXEC_CMDLINE", 0 },
	{ "KEY_CHECK", 0 },
	{ "CRITICAL_DATA", 0 },
	{ "SETXATTR_CHECK", 0 },
};

static const struct {
	const char *name;
	unsigned int bit;
} mays[] = {
	{ "MAY_EXEC", BIMA_MAY_EXEC },
	{ "MAY_WRITE", BIMA_MAY_WRITE },
	{ "MAY_READ", BIMA_MAY_READ },
	{ "MAY_APPEND", BIMA_MAY_APPEND },
};

/*
 * IMA's keys that bima cannot evaluate. A dont_measure rule with one is
 * dropped (with a warning, or refused under POLICY_STRICT): without it,
 * bima measures more than IMA would, never less. A measure rule with one is
 * refused, with what to write instead.
 */
static const struct {
	const char *key;
	const char *why;
} unevaluable[] = {
	{ "obj_user", "an LSM label" },
	{ "obj_role", "an LSM label" },
	{ "obj_type", "an LSM label" },
	{ "subj_user", "an LSM label" },
	{ "subj_role", "an LSM label" },
	{ "subj_type", "an LSM label" },
	{ "fowner_gid", "the file's group" },
	{ "keyrings", "a keyring (func=KEY_CHECK)" },
	{ "label", "critical data (func=CRITICAL_DATA)" },
	{ "digest_type", "a digest type (fs-verity)" },
};

/* IMA's appraisal options: refused on a measure rule, as IMA refuses them there. */
static const char *const appraisal[] = {
	"appraise_type",
	"appraise_flag",
	"appraise_algos",
};

/* IMA's templates (template=): bima writes its own for every entry. */
static const char *const templates[] = {
	"ima", "ima-ng", "ima-ngv2", "ima-sig", "ima-sigv2", "ima-buf", "ima-modsig", "evm-sig",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Where the parser is, for errors and warnings. */
struct cursor {
	const char *name;
	unsigned int line;
	const char *line_start;
	FILE *err;
	unsigned int flags; /* POLICY_* */
	int errors;
	/* This line: a measure rule's func bima does not measure was refused. */
	bool func_refused;
	/* This line: the first condition bima cannot evaluate, or none. */
	const char *unevaluable;
	size_t unevaluable_len;
	const char *unevaluable_why;
	/* Rules of IMA's other actions skipped: how many, and the first's line. */
	unsigned int skipped, skipped_line;
	/* The first pcr= and its line: one log replays one PCR. */
	uint32_t pcr;
	unsigned int pcr_line;
};

static void report(struct cursor *c, const char *at, const char *label, const char *fmt, va_list ap)
{
	fprintf(c->err, "%s:%u:%u: %s", c->name, c->line, (unsigned int)(at - c->line_start) + 1,
		label);
	vfprintf(c->err, fmt, ap);
	fputc('\n', c->err);
}

static void fail(struct cursor *c, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct cursor *c, const char *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report(c, at, "", fmt, ap);
	va_end(ap);
	c->errors++;
}

/* What bima can do without and IMA would not: a warning, an error under POLICY_STRICT. */
static void flag(struct cursor *c, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void flag(struct cursor *c, const char *at, const char *fmt, ...)
{
	bool strict = c->flags & POLICY_STRICT;
	va_list ap;

	va_start(ap, fmt);
	report(c, at, strict ? "" : "warning: ", fmt, ap);
	va_end(ap);
	if (strict)
		c->errors++;
}

static bool in_list(const char *const *list, size_t n, const char *s, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(list[i]) == len && !memcmp(list[i], s, len))
			return true;
	return false;
}

/* A token is [at, at+len); its value starts after the operator. */
static bool parse_u32(const char *v, size_t len, uint32_t max, uint32_t *out)
{
	uint64_t n = 0;

	if (!len)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		n = n * 10 + (v[i] - '0');
		if (n > max)
			return false;
	}
	*out = n;
	return true;
}

static bool parse_hex(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;
	size_t i = 0;

	if (len > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X'))
		i = 2;
	if (i == len || len - i > 16)
		return false;
	for (; i < len; i++) {
		int d = v[i] >= '0' && v[i] <= '9'   ? v[i] - '0'
			: v[i] >= 'a' && v[i] <= 'f' ? v[i] - 'a' + 10
			: v[i] >= 'A' && v[i] <= 'F' ? v[i] - 'A' + 10
						     : -1;

		if (d < 0)
			return false;
		n = n << 4 | d;
	}
	*out = n;
	return true;
}

/* 8-4-4-4-12 hex digits, as IMA's fsuuid= and the kernel's uuid_parse(). */
static bool parse_uuid(const char *v, size_t len, uint8_t out[16])
{
	static const int dash[] = { 8, 13, 18, 23 };
	size_t n = 0;

	if (len != 36)
		return false;
	for (size_t i = 0; i < ARRAY_LEN(dash); i++)
		if (v[dash[i]] != '-')
			return false;
	for (size_t i = 0; i < len; i += 2) {
		uint64_t byte;

		if (v[i] == '-')
			i++;
		if (!parse_hex(v + i, 2, &byte))
			return false;
		out[n++] = byte;
	}
	return n == 16;
}

#define CGROUP_DEPTH_MAX 12 /* how deep a container's cgroup is looked for */

/*
 * The cgroup below root (full: root + rel) whose container matches want,
 * the outermost of it; count says how many containers matched.
 */
static void find_container(char *full, size_t root_len, const char *want, unsigned int depth,
			   char *found, size_t size, unsigned int *count)
{
	size_t len = strlen(full);
	struct container ct;
	struct dirent *d;
	DIR *dir;

	container_from_path(full + root_len, &ct);
	if (ct.runtime[0] && container_matches(&ct, want)) {
		if (++*count == 1) /* its sub-cgroups are not looked at: they are its own */
			snprintf(found, size, "%s", full + root_len);
		return;
	}
	if (depth == CGROUP_DEPTH_MAX || !(dir = opendir(full)))
		return;
	while ((d = readdir(dir)))
		if (d->d_type == DT_DIR && d->d_name[0] != '.' &&
		    len + 1 + strlen(d->d_name) < PATH_MAX) {
			snprintf(full + len, PATH_MAX - len, "/%s", d->d_name);
			find_container(full, root_len, want, depth + 1, found, size, count);
			full[len] = '\0';
		}
	closedir(dir);
}

/*
 * cgroup= of a container runtime's layout (container.h): "kubepods" (the
 * kubelet's, /kubepods.slice or /kubepods), "machine" (/machine.slice:
 * podman, nspawn), or "RUNTIME:ID" (one container's cgroup, ID a prefix);
 * the path into out. Else the value is taken as a path.
 */
static bool cgroup_layout(struct cursor *c, const char *at, const char *v, size_t len,
			  const char *root, char *out, size_t size)
{
	char want[256], full[PATH_MAX];
	unsigned int count = 0;
	struct stat st;

	if (len == strlen("kubepods") && !strncmp(v, "kubepods", len)) {
		snprintf(full, sizeof(full), "%s/kubepods.slice", root);
		snprintf(out, size, "%s", stat(full, &st) ? "/kubepods" : "/kubepods.slice");
		return true;
	}
	if (len == strlen("machine") && !strncmp(v, "machine", len)) {
		snprintf(out, size, "/machine.slice");
		return true;
	}
	if (!memchr(v, ':', len) || len >= sizeof(want)) {
		fail(c, at,
		     "cgroup=: \"%.*s\" is neither an absolute cgroup path (such as "
		     "/system.slice) nor kubepods, machine or RUNTIME:ID",
		     (int)len, v);
		return false;
	}
	snprintf(want, sizeof(want), "%.*s", (int)len, v);
	snprintf(full, sizeof(full), "%s", root);
	find_container(full, strlen(root), want, 0, out, size, &count);
	if (count != 1)
		fail(c, at, "cgroup=%s: %s", want,
		     count ? "more than one container matches: give more of the id"
			   : "no running container's cgroup matches (docker, containerd, cri, "
			     "cri-o, podman or nspawn, and a prefix of its id)");
	return count == 1;
}

/* cgroup=PATH: the cgroup's id is its directory's inode number in cgroup2. */
static bool parse_cgroup(struct cursor *c, const char *at, const char *v, size_t len,
			 const char *root, struct bima_rule *r, char **path)
{
	char full[4096], layout[PATH_MAX];
	unsigned int level = 0;
	struct stat st;
	int serr;

	if (len && v[0] != '/') {
		if (!cgroup_layout(c, at, v, len, root, layout, sizeof(layout)))
			return false;
		v = layout;
		len = strlen(layout);
	}
	if (!len) {
		fail(c, at, "cgroup=: no cgroup given");
		return false;
	}
	snprintf(full, sizeof(full), "%s%.*s", root, (int)len, v);
	serr = stat(full, &st) ? errno : S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
	if (serr) {
		fail(c, at, "cgroup=%.*s: no such cgroup (%s: %s)", (int)len, v, full,
		     strerror(serr));
		return false;
	}
	for (size_t i = 0; i < len; i++)
		if (v[i] == '/' && i + 1 < len && v[i + 1] != '/')
			level++;
	r->cgroup_id = st.st_ino;
	r->cgroup_level = level;
	*path = strndup(v, len);
	return *path != NULL;
}

static bool parse_id(struct cursor *c, const char *at, const char *key, char op, const char *v,
		     size_t len, uint32_t *id, uint8_t *rule_op)
{
	if (!parse_u32(v, len, UINT32_MAX - 1, id)) {
		fail(c, at, "%s%c: \"%.*s\" is not a numeric id", key, op, (int)len, v);
		return false;
	}
	*rule_op = op == '<' ? BIMA_OP_LT : op == '>' ? BIMA_OP_GT : BIMA_OP_EQ;
	return true;
}

/* "BPRM_CHECK, MMAP_CHECK, ...": the funcs bima measures, by the names it prints. */
static void print_funcs(FILE *out)
{
	const char *sep = "";

	for (size_t i = 0; i < ARRAY_LEN(funcs); i++)
		if (funcs[i].hook && policy_func_name(funcs[i].hook) == funcs[i].name) {
			fprintf(out, "%s%s", sep, funcs[i].name);
			sep = ", ";
		}
}

/*
 * A condition bima cannot evaluate: a dont_measure rule with it is dropped
 * (parse_line), a measure rule refused.
 */
static void unevaluable_condition(struct cursor *c, const struct bima_rule *r, const char *at,
				  size_t len, const char *why)
{
	if (r->action == BIMA_DONT_MEASURE) {
		if (!c->unevaluable) {
			c->unevaluable = at;
			c->unevaluable_len = len;
			c->unevaluable_why = why;
		}
		return;
	}
	fail(c, at,
	     "%.*s: %s, which bima cannot evaluate; without the condition, the rule measures "
	     "more than IMA would",
	     (int)len, at, why);
}

static void parse_func(struct cursor *c, const char *v, size_t vlen, struct bima_rule *r)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(funcs); i++)
		if (strlen(funcs[i].name) == vlen && !memcmp(funcs[i].name, v, vlen))
			break;
	if (i < ARRAY_LEN(funcs) && funcs[i].hook) {
		r->func = funcs[i].hook;
	} else if (i < ARRAY_LEN(funcs) && r->action == BIMA_DONT_MEASURE) {
		unevaluable_condition(c, r, v - 5, vlen + 5, "a func bima does not measure");
	} else if (i < ARRAY_LEN(funcs)) {
		fail(c, v,
		     "func=%s: IMA has it, bima does not measure it; leave the rule to kernel "
		     "IMA's policy",
		     funcs[i].name);
		c->func_refused = true;
	} else {
		fprintf(c->err, "%s:%u:%u: func=%.*s: no such func (", c->name, c->line,
			(unsigned int)(v - c->line_start) + 1, (int)vlen, v);
		print_funcs(c->err);
		fputs(")\n", c->err);
		c->errors++;
	}
}

static void parse_pcr(struct cursor *c, const char *v, size_t vlen, struct bima_rule *r)
{
	if (!parse_u32(v, vlen, 63, &r->pcr)) {
		fail(c, v, "pcr=%.*s: not a PCR number (0-23)", (int)vlen, v);
	} else if (r->pcr > 23) {
		fail(c, v, "pcr=%u: IMA takes up to 63, but a TPM has 24 PCRs (0-23)", r->pcr);
	} else if (r->action == BIMA_DONT_MEASURE) {
		flag(c, v - 4,
		     "pcr= on a dont_measure rule: kernel IMA refuses the line (nothing it "
		     "matches is extended); bima ignores it");
	} else if (c->pcr_line && c->pcr != r->pcr) {
		fail(c, v,
		     "pcr=%u, but line %u has pcr=%u: one log replays one PCR, so a policy "
		     "names one at most",
		     r->pcr, c->pcr_line, c->pcr);
	} else if (!c->pcr_line) {
		c->pcr = r->pcr;
		c->pcr_line = c->line;
	}
}

static void parse_template(struct cursor *c, const char *at, const char *v, size_t vlen,
			   const struct bima_rule *r)
{
	if (r->action != BIMA_MEASURE)
		fail(c, at, "template= is for measure rules (kernel IMA refuses it elsewhere)");
	else if (!in_list(templates, ARRAY_LEN(templates), v, vlen))
		fail(c, v,
		     "template=%.*s: not one of IMA's templates (ima, ima-ng, ima-ngv2, ima-sig, "
		     "ima-sigv2, ima-buf, ima-modsig, evm-sig)",
		     (int)vlen, v);
	else if (vlen != strlen("ima-ng") || memcmp(v, "ima-ng", vlen))
		flag(c, at,
		     "template=%.*s: bima writes its own template for every entry (ima-ng, or "
		     "bima-ct with `bima run --template bima-ct`); the rule is kept without it",
		     (int)vlen, v);
}

/* A token with no operator: IMA's permit_directio is the one such condition. */
static void parse_flag(struct cursor *c, const char *at, size_t len)
{
	if (len == strlen("permit_directio") && !memcmp(at, "permit_directio", len))
		flag(c, at,
		     "permit_directio: IMA's, for direct I/O on appraised files; bima measures a "
		     "file however it is opened, and ignores it");
	else
		fail(c, at, "\"%.*s\" is not a condition (key=value)", (int)len, at);
}

/* A key bima does not evaluate, or no key at all: the token [at, at+len). */
static void parse_other(struct cursor *c, const char *at, size_t len, size_t klen,
			const struct bima_rule *r, const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(unevaluable); i++)
		if (!strcmp(key, unevaluable[i].key)) {
			/* On a rule refused for its func already (keyrings=, label=): that says it
			 * all. */
			if (!c->func_refused)
				unevaluable_condition(c, r, at, len, unevaluable[i].why);
			return;
		}
	if (in_list(appraisal, ARRAY_LEN(appraisal), key, klen))
		fail(c, at, "%s= is an appraisal option: kernel IMA refuses it on a %s rule", key,
		     r->action == BIMA_MEASURE ? "measure" : "dont_measure");
	else if (!strcmp(key, "lsm"))
		fail(c, at,
		     "lsm=: no such key in IMA or bima; IMA's LSM conditions are obj_user=, "
		     "obj_role=, obj_type=, subj_user=, subj_role= and subj_type=");
	else
		fail(c, at, "unknown key \"%s\"", key);
}

/* The keys that take a numeric id, and where a rule keeps it and how it compares. */
static const struct id_key {
	const char *key;
	uint16_t flag;
	size_t id, op; /* offsets in struct bima_rule */
} id_keys[] = {
#define RULE_AT(field) offsetof(struct bima_rule, field)
	{ "uid", BIMA_RULE_UID, RULE_AT(uid), RULE_AT(uid_op) },
	{ "euid", BIMA_RULE_EUID, RULE_AT(euid), RULE_AT(euid_op) },
	{ "fowner", BIMA_RULE_FOWNER, RULE_AT(fowner), RULE_AT(fowner_op) },
	{ "fgroup", BIMA_RULE_FGROUP, RULE_AT(fgroup), RULE_AT(fgroup_op) },
	{ "gid", BIMA_RULE_GID, RULE_AT(gid), RULE_AT(gid_op) },
	{ "egid", BIMA_RULE_EGID, RULE_AT(egid), RULE_AT(egid_op) },
#undef RULE_AT
};

static const struct id_key *id_key(const char *key)
{
	for (size_t i = 0; i < ARRAY_LEN(id_keys); i++)
		if (!strcmp(key, id_keys[i].key))
			return &id_keys[i];
	return NULL;
}

/* mask=MAY_... or mask=^MAY_...: the flag it sets. */
static uint16_t parse_mask(struct cursor *c, const char *v, size_t vlen, struct bima_rule *r)
{
	bool in = vlen && v[0] == '^';

	for (size_t i = 0; i < ARRAY_LEN(mays); i++)
		if (strlen(mays[i].name) == vlen - in && !memcmp(mays[i].name, v + in, vlen - in))
			r->mask = mays[i].bit;
	if (!r->mask)
		fail(c, v,
		     "mask=%.*s: not one of MAY_EXEC, MAY_WRITE, MAY_READ, "
		     "MAY_APPEND (with ^ for \"contains\")",
		     (int)vlen, v);
	return in ? BIMA_RULE_INMASK : BIMA_RULE_MASK;
}

/* fsname=, fsmagic= or fsuuid=: the flag it sets, or 0 for another key. */
static uint16_t parse_fs(struct cursor *c, const char *key, const char *v, size_t vlen,
			 struct bima_rule *r)
{
	uint64_t x;

	if (!strcmp(key, "fsname")) {
		if (vlen && vlen < sizeof(r->fsname) && !memchr(v, '\0', vlen))
			memcpy(r->fsname, v, vlen);
		else
			fail(c, v, "fsname=%.*s: not a file system type's name of 1 to %zu bytes",
			     (int)vlen, v, sizeof(r->fsname) - 1);
		return BIMA_RULE_FSNAME;
	}
	if (!strcmp(key, "fsmagic")) {
		if (parse_hex(v, vlen, &x))
			r->fsmagic = x;
		else
			fail(c, v, "fsmagic=%.*s: not a hexadecimal number", (int)vlen, v);
		return BIMA_RULE_FSMAGIC;
	}
	if (!strcmp(key, "fsuuid")) {
		if (!parse_uuid(v, vlen, r->fsuuid))
			fail(c, v, "fsuuid=%.*s: not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			     (int)vlen, v);
		return BIMA_RULE_FSUUID;
	}
	return 0;
}

/* One key=value (or key<value, key>value) token of a rule. */
static void parse_condition(struct cursor *c, const char *at, size_t len, struct bima_rule *r,
			    const char *cgroup_root, char **cgroup)
{
	size_t klen = strcspn(at, "=<>");
	const char *v = at + klen + 1;
	size_t vlen = len - klen - 1;
	const struct id_key *id;
	char key[32], op;
	uint16_t flag;

	if (klen >= len) {
		parse_flag(c, at, len);
		return;
	}
	if (klen >= sizeof(key)) {
		fail(c, at, "\"%.*s\" is not a condition (key=value)", (int)len, at);
		return;
	}
	snprintf(key, sizeof(key), "%.*s", (int)klen, at);
	op = at[klen];
	id = id_key(key);
	if (op != '=' && !id) {
		fail(c, at, "%s takes '=', not '%c'", key, op);
		return;
	}
	if (id) {
		flag = id->flag;
		parse_id(c, v, key, op, v, vlen, (uint32_t *)((char *)r + id->id),
			 (uint8_t *)r + id->op);
	} else if (!strcmp(key, "func")) {
		flag = BIMA_RULE_FUNC;
		parse_func(c, v, vlen, r);
	} else if (!strcmp(key, "mask")) {
		flag = parse_mask(c, v, vlen, r);
	} else if (!strcmp(key, "pcr")) {
		flag = r->action == BIMA_MEASURE ? BIMA_RULE_PCR : 0;
		parse_pcr(c, v, vlen, r);
	} else if (!strcmp(key, "cgroup")) {
		flag = BIMA_RULE_CGROUP;
		parse_cgroup(c, v, v, vlen, cgroup_root, r, cgroup);
	} else if (!strcmp(key, "template")) {
		parse_template(c, at, v, vlen, r);
		return;
	} else if (!(flag = parse_fs(c, key, v, vlen, r))) {
		parse_other(c, at, len, klen, r, key);
		return;
	}
	if (r->flags & flag)
		fail(c, at, "%s is given twice in this rule", key);
	r->flags |= flag;
}

static bool is_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r';
}

static bool is_other_action(const char *tok, size_t len)
{
	static const char *const actions[] = { "appraise", "dont_appraise", "audit", "hash",
					       "dont_hash" };

	return in_list(actions, ARRAY_LEN(actions), tok, len);
}

/*
 * One line: an action, then conditions. Returns true when it holds a rule
 * for bima: not for a line of another IMA action, skipped (counted in c),
 * nor for a dont_measure rule that bima cannot evaluate, dropped.
 */
static bool parse_line(struct cursor *c, const char *s, const char *end, struct bima_rule *r,
		       const char *cgroup_root, char **cgroup)
{
	const char *tok;
	size_t len;
	bool first = true;

	memset(r, 0, sizeof(*r));
	c->unevaluable = NULL;
	c->func_refused = false;
	while (s < end) {
		while (s < end && is_space(*s))
			s++;
		if (s < end && *s == '#' && !first)
			flag(c, s,
			     "a comment after a rule: kernel IMA refuses the line; put the comment "
			     "on a line of its own");
		if (s == end || *s == '#')
			break;
		tok = s;
		while (s < end && !is_space(*s))
			s++;
		len = s - tok;
		if (!first) {
			parse_condition(c, tok, len, r, cgroup_root, cgroup);
			continue;
		}
		first = false;
		if (len == 7 && !memcmp(tok, "measure", 7)) {
			r->action = BIMA_MEASURE;
		} else if (len == 12 && !memcmp(tok, "dont_measure", 12)) {
			r->action = BIMA_DONT_MEASURE;
		} else if (is_other_action(tok, len) && (c->flags & POLICY_STRICT)) {
			fail(c, tok, "\"%.*s\": bima only measures (measure, dont_measure)",
			     (int)len, tok);
			return false;
		} else if (is_other_action(tok, len)) {
			if (!c->skipped++)
				c->skipped_line = c->line;
			return false;
		} else {
			fail(c, tok, "\"%.*s\" is not an action (measure, dont_measure)", (int)len,
			     tok);
			return false;
		}
	}
	if (c->unevaluable) {
		flag(c, c->unevaluable,
		     "dont_measure with %.*s (%s, which bima cannot evaluate): the rule is "
		     "dropped, so bima measures what it would have left out",
		     (int)c->unevaluable_len, c->unevaluable, c->unevaluable_why);
		return false;
	}
	return !first;
}

int policy_compile(struct policy *p, const char *text, const char *name, const char *cgroup_root,
		   unsigned int flags, FILE *err)
{
	struct cursor c = { .name = name, .err = err, .flags = flags };
	const char *s = text;

	memset(p, 0, sizeof(*p));
	while (*s) {
		const char *end = strchr(s, '\n');
		struct bima_rule r;
		char *cgroup = NULL;
		int before;

		if (!end)
			end = s + strlen(s);
		c.line++;
		c.line_start = s;
		before = c.errors;
		if (parse_line(&c, s, end, &r, cgroup_root, &cgroup) && c.errors == before) {
			if (p->nrules == BIMA_RULES_MAX) {
				fail(&c, s, "more than %d rules", BIMA_RULES_MAX);
				free(cgroup);
			} else {
				p->cgroups[p->nrules] = cgroup;
				p->lines[p->nrules] = c.line;
				p->rules[p->nrules++] = r;
				cgroup = NULL;
			}
		}
		free(cgroup);
		s = *end ? end + 1 : end;
	}
	if (c.skipped)
		fprintf(err,
			"%s: warning: %u rule(s) of IMA's appraise, dont_appraise, audit, hash or "
			"dont_hash actions skipped, the first at line %u: bima only measures, and "
			"IMA decides what to measure by the measure and dont_measure rules alone, "
			"so what is measured does not change (--strict refuses them)\n",
			name, c.skipped, c.skipped_line);
	return c.errors;
}

int policy_read(struct policy *p, const char *path, unsigned int flags)
{
	const char *name = path ?: "built-in policy";
	char *text = NULL;
	size_t len = 0;
	ssize_t n = 0;
	int errors;
	FILE *f;

	if (path) {
		f = fopen(path, "r");
		n = f ? getdelim(&text, &len, '\0', f) : -1;
		if (n <= 0) {
			int err = n == 0 || (f && !ferror(f)) ? -ENODATA : -errno;

			fprintf(stderr, "bima: policy %s: %s\n", path,
				err == -ENODATA ? "empty file" : strerror(-err));
			if (f)
				fclose(f);
			free(text);
			return err;
		}
		fclose(f);
	}
	errors = policy_compile(p, text ?: policy_default, name, POLICY_CGROUP_ROOT, flags, stderr);
	if (!errors) {
		const char *t = text ?: policy_default;

		p->map.nrules = p->nrules;
		memcpy(p->map.rules, p->rules, sizeof(p->rules));
		hashalg_digest(hashalg_by_name("sha256", 6), t, text ? (size_t)n : strlen(t),
			       p->map.digest);
	}
	free(text);
	return errors;
}

int policy_check_pcr(const struct policy *p, const char *name, uint32_t pcr)
{
	int bad = 0;

	for (size_t i = 0; i < p->nrules; i++)
		if ((p->rules[i].flags & BIMA_RULE_PCR) && p->rules[i].pcr != pcr) {
			fprintf(stderr,
				"bima: policy %s:%u: pcr=%u, but bima extends PCR %u: one log "
				"replays one PCR; remove pcr= or restart bima with --pcr %u\n",
				name, p->lines[i], p->rules[i].pcr, pcr, p->rules[i].pcr);
			bad++;
		}
	return bad;
}

const char *policy_func_name(unsigned int hook)
{
	for (size_t f = 0; f < ARRAY_LEN(funcs); f++)
		if (funcs[f].hook && funcs[f].hook == (int)hook)
			return funcs[f].name;
	return NULL;
}

const char *policy_may_name(unsigned int bit)
{
	for (size_t m = 0; m < ARRAY_LEN(mays); m++)
		if (mays[m].bit == bit)
			return mays[m].name;
	return NULL;
}

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		free(p->cgroups[i]);
	p->nrules = 0;
}
