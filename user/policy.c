// SPDX-License-Identifier: GPL-2.0-only
/* The policy language: see policy.h, and the README's "Policy" section. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "container.h"
#include "hashalg.h"
#include "policy.h"

/* IMA's tcb policy (ima_policy=tcb) as of Linux 6.12, in its own language. */
const char policy_default[] =
	"# bima's default policy: IMA's ima_policy=tcb\n"
	"dont_measure fsmagic=0x9fa0\n"			   /* proc */
	"dont_measure fsmagic=0x62656572\n"		   /* sysfs */
	"dont_measure fsmagic=0x64626720\n"		   /* debugfs */
	"dont_measure fsmagic=0x1021994 func=FILE_CHECK\n" /* tmpfs: opens only */
	"dont_measure fsmagic=0x1cd1\n"			   /* devpts */
	"dont_measure fsmagic=0x42494e4d\n"		   /* binfmt_misc */
	"dont_measure fsmagic=0x73636673\n"		   /* securityfs */
	"dont_measure fsmagic=0xf97cff8c\n"		   /* selinuxfs */
	"dont_measure fsmagic=0x43415d53\n"		   /* smackfs */
	"dont_measure fsmagic=0x27e0eb\n"		   /* cgroup */
	"dont_measure fsmagic=0x63677270\n"		   /* cgroup2 */
	"dont_measure fsmagic=0x6e736673\n"		   /* nsfs */
	"dont_measure fsmagic=0xde5e81e4\n"		   /* efivarfs */
	"measure func=MMAP_CHECK mask=MAY_EXEC\n"
	"measure func=BPRM_CHECK mask=MAY_EXEC\n"
	"measure func=FILE_CHECK mask=^MAY_READ euid=0\n"
	"measure func=FILE_CHECK mask=^MAY_READ uid=0\n"
	"measure func=MODULE_CHECK\n"
	"measure func=FIRMWARE_CHECK\n"
	"measure func=POLICY_CHECK\n"
	"# and what IMA's architecture policy adds under secure boot\n"
	"measure func=KEXEC_KERNEL_CHECK\n"
	"measure func=KEXEC_INITRAMFS_CHECK\n"
	"# and bima's own: every BPF program\n"
	"measure func=BPF_CHECK\n";

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
	{ "MMAP_CHECK_REQPROT", 0 },
	{ "CREDS_CHECK", 0 },
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

/* IMA keys bima does not take: named in the error, so it is not "unknown". */
static const char *const unsupported[] = {
	"obj_user",  "obj_role",    "obj_type",	       "subj_user",	"subj_role",
	"subj_type", "fsname",	    "appraise_type",   "appraise_flag", "gid",
	"egid",	     "fowner_gid",  "appraise_algos",  "template",	"keyrings",
	"label",     "digest_type", "permit_directio",
};

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Where the parser is, for errors. */
struct cursor {
	const char *name;
	unsigned int line;
	const char *line_start;
	FILE *err;
	int errors;
};

static void fail(struct cursor *c, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct cursor *c, const char *at, const char *fmt, ...)
{
	va_list ap;

	fprintf(c->err, "%s:%u:%u: ", c->name, c->line, (unsigned int)(at - c->line_start) + 1);
	va_start(ap, fmt);
	vfprintf(c->err, fmt, ap);
	va_end(ap);
	fputc('\n', c->err);
	c->errors++;
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

/* One key=value (or key<value, key>value) token of a rule. */
static void parse_condition(struct cursor *c, const char *at, size_t len, struct bima_rule *r,
			    const char *cgroup_root, char **cgroup)
{
	size_t klen = strcspn(at, "=<>");
	const char *v = at + klen + 1;
	size_t vlen = len - klen - 1;
	char key[32], op;
	uint16_t flag = 0;
	uint64_t x;

	if (klen >= len || klen >= sizeof(key)) {
		fail(c, at, "\"%.*s\" is not a condition (key=value)", (int)len, at);
		return;
	}
	snprintf(key, sizeof(key), "%.*s", (int)klen, at);
	op = at[klen];
	if (op != '=' && strcmp(key, "uid") && strcmp(key, "euid") && strcmp(key, "fowner") &&
	    strcmp(key, "fgroup")) {
		fail(c, at, "%s takes '=', not '%c'", key, op);
		return;
	}
	if (!strcmp(key, "func")) {
		size_t i;

		flag = BIMA_RULE_FUNC;
		for (i = 0; i < ARRAY_LEN(funcs); i++)
			if (strlen(funcs[i].name) == vlen && !memcmp(funcs[i].name, v, vlen))
				break;
		if (i < ARRAY_LEN(funcs) && !funcs[i].hook)
			fail(c, v, "func=%s: IMA has it, bima does not measure it", funcs[i].name);
		else if (i < ARRAY_LEN(funcs))
			r->func = funcs[i].hook;
		else
			fail(c, v,
			     "func=%.*s: no such func (BPRM_CHECK, MMAP_CHECK, FILE_CHECK, "
			     "MODULE_CHECK, FIRMWARE_CHECK, KEXEC_KERNEL_CHECK, "
			     "KEXEC_INITRAMFS_CHECK, POLICY_CHECK)",
			     (int)vlen, v);
	} else if (!strcmp(key, "mask")) {
		bool in = vlen && v[0] == '^';

		flag = in ? BIMA_RULE_INMASK : BIMA_RULE_MASK;
		for (size_t i = 0; i < ARRAY_LEN(mays); i++)
			if (strlen(mays[i].name) == vlen - in &&
			    !memcmp(mays[i].name, v + in, vlen - in))
				r->mask = mays[i].bit;
		if (!r->mask)
			fail(c, v,
			     "mask=%.*s: not one of MAY_EXEC, MAY_WRITE, MAY_READ, "
			     "MAY_APPEND (with ^ for \"contains\")",
			     (int)vlen, v);
	} else if (!strcmp(key, "uid")) {
		flag = BIMA_RULE_UID;
		parse_id(c, v, key, op, v, vlen, &r->uid, &r->uid_op);
	} else if (!strcmp(key, "euid")) {
		flag = BIMA_RULE_EUID;
		parse_id(c, v, key, op, v, vlen, &r->euid, &r->euid_op);
	} else if (!strcmp(key, "fowner")) {
		flag = BIMA_RULE_FOWNER;
		parse_id(c, v, key, op, v, vlen, &r->fowner, &r->fowner_op);
	} else if (!strcmp(key, "fgroup")) {
		flag = BIMA_RULE_FGROUP;
		parse_id(c, v, key, op, v, vlen, &r->fgroup, &r->fgroup_op);
	} else if (!strcmp(key, "fsmagic")) {
		flag = BIMA_RULE_FSMAGIC;
		if (parse_hex(v, vlen, &x))
			r->fsmagic = x;
		else
			fail(c, v, "fsmagic=%.*s: not a hexadecimal number", (int)vlen, v);
	} else if (!strcmp(key, "fsuuid")) {
		flag = BIMA_RULE_FSUUID;
		if (!parse_uuid(v, vlen, r->fsuuid))
			fail(c, v, "fsuuid=%.*s: not a UUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)",
			     (int)vlen, v);
	} else if (!strcmp(key, "pcr")) {
		flag = BIMA_RULE_PCR;
		if (!parse_u32(v, vlen, 23, &r->pcr))
			fail(c, v, "pcr=%.*s: not a PCR number (0-23)", (int)vlen, v);
	} else if (!strcmp(key, "cgroup")) {
		flag = BIMA_RULE_CGROUP;
		parse_cgroup(c, v, v, vlen, cgroup_root, r, cgroup);
	} else {
		for (size_t i = 0; i < ARRAY_LEN(unsupported); i++)
			if (!strcmp(key, unsupported[i])) {
				fail(c, at, "%s= is IMA's, and not supported by bima", key);
				return;
			}
		fail(c, at, "unknown key \"%s\"", key);
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

/* One line: an action, then conditions. Returns true when it held a rule. */
static bool parse_line(struct cursor *c, const char *s, const char *end, struct bima_rule *r,
		       const char *cgroup_root, char **cgroup)
{
	const char *tok;
	size_t len;
	bool first = true;

	memset(r, 0, sizeof(*r));
	while (s < end) {
		while (s < end && is_space(*s))
			s++;
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
		if (len == 7 && !memcmp(tok, "measure", 7))
			r->action = BIMA_MEASURE;
		else if (len == 12 && !memcmp(tok, "dont_measure", 12))
			r->action = BIMA_DONT_MEASURE;
		else if ((len == 8 && !memcmp(tok, "appraise", 8)) ||
			 (len == 13 && !memcmp(tok, "dont_appraise", 13)) ||
			 (len == 5 && !memcmp(tok, "audit", 5)) ||
			 (len == 4 && !memcmp(tok, "hash", 4)) ||
			 (len == 9 && !memcmp(tok, "dont_hash", 9)))
			fail(c, tok, "\"%.*s\": bima only measures (measure, dont_measure)",
			     (int)len, tok);
		else
			fail(c, tok, "\"%.*s\" is not an action (measure, dont_measure)", (int)len,
			     tok);
	}
	return !first;
}

int policy_compile(struct policy *p, const char *text, const char *name, const char *cgroup_root,
		   FILE *err)
{
	struct cursor c = { .name = name, .err = err };
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
	return c.errors;
}

int policy_read(struct policy *p, const char *path)
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
	errors = policy_compile(p, text ?: policy_default, name, POLICY_CGROUP_ROOT, stderr);
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
		if (r->flags & (BIMA_RULE_MASK | BIMA_RULE_INMASK))
			for (size_t m = 0; m < ARRAY_LEN(mays); m++)
				if (mays[m].bit == r->mask)
					fprintf(out, " mask=%s%s",
						r->flags & BIMA_RULE_INMASK ? "^" : "",
						mays[m].name);
		if (r->flags & BIMA_RULE_UID)
			print_id(out, "uid", r->uid_op, r->uid);
		if (r->flags & BIMA_RULE_EUID)
			print_id(out, "euid", r->euid_op, r->euid);
		if (r->flags & BIMA_RULE_FOWNER)
			print_id(out, "fowner", r->fowner_op, r->fowner);
		if (r->flags & BIMA_RULE_FGROUP)
			print_id(out, "fgroup", r->fgroup_op, r->fgroup);
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

void policy_free(struct policy *p)
{
	for (size_t i = 0; i < p->nrules; i++)
		free(p->cgroups[i]);
	p->nrules = 0;
}
