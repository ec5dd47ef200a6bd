// SPDX-License-Identifier: GPL-2.0-only
/* Per-container views; see views.h. */
#include <errno.h>
#include <inttypes.h>
#include <json.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "views.h"

#define NOT_ALLOWED_SHOWN 10 /* per container, in the text summary */

int attrib_next(struct attrib_reader *r, unsigned int seg, const struct template_entry *e,
		const struct template_fields *f, struct attribution *a)
{
	if (seg != r->segment)
		r->marked = false; /* a mark applies within its segment */
	r->segment = seg;
	/* A violation's data is not covered by the PCR: it names no file and no container. */
	if (!f->covered)
		return 0;
	if (template_record(e, f, CONTAINER_MARK_NAME)) {
		int err = container_mark_parse(f->extra, f->extra_len, &r->mark, &r->store);

		r->marked = !err;
		return err;
	}
	if (f->attributed) {
		*a = (struct attribution){ .cgroup_id = f->cgroup_id,
					   .mnt_ns = f->mnt_ns,
					   .cgroup = f->cgroup };
		snprintf(a->ct.runtime, sizeof(a->ct.runtime), "%s", f->runtime);
		snprintf(a->ct.id, sizeof(a->ct.id), "%s", f->container);
		return 1;
	}
	/* The boot aggregate is of the PCRs, no task's. */
	if (strcmp(e->name, "ima-ng") || !strcmp(f->path, "boot_aggregate"))
		return 0;
	if (r->marked)
		*a = r->mark;
	else
		*a = (struct attribution){ .cgroup = "" };
	return 1;
}

void attrib_reader_free(struct attrib_reader *r)
{
	buf_free(&r->store);
}

void attrib_group(const struct attribution *a, char *out, size_t size)
{
	if (!a->cgroup_id)
		snprintf(out, size, "unattributed");
	else if (!a->ct.runtime[0])
		snprintf(out, size, "host");
	else
		snprintf(out, size, "%s:%s", a->ct.runtime, a->ct.id);
}

static json_object *hex_string(const uint8_t *p, size_t len)
{
	char *hex = malloc(2 * len + 1);
	json_object *s;

	if (!hex)
		return NULL;
	hex_encode(p, len, hex);
	s = json_object_new_string(hex);
	free(hex);
	return s;
}

int view_print_json(FILE *out, unsigned int seg, unsigned int index, const struct template_entry *e,
		    const struct template_fields *f, const struct attribution *a)
{
	json_object *o = json_object_new_object();
	int err = 0;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "segment", json_object_new_int64(seg));
	json_object_object_add(o, "index", json_object_new_int64(index));
	json_object_object_add(o, "pcr", json_object_new_int64(e->pcr));
	json_object_object_add(o, "template_hash", hex_string(e->digest, sizeof(e->digest)));
	json_object_object_add(o, "template", json_object_new_string(e->name));
	json_object_object_add(o, "algo", json_object_new_string(f->alg->name));
	json_object_object_add(o, "digest", hex_string(f->digest, f->alg->size));
	json_object_object_add(o, "path", json_object_new_string(f->path));
	if (f->extra)
		json_object_object_add(o, "buf", hex_string(f->extra, f->extra_len));
	if (a) {
		char group[CONTAINER_RUNTIME_LEN + CONTAINER_ID_LEN + 2];

		attrib_group(a, group, sizeof(group));
		json_object_object_add(o, "group", json_object_new_string(group));
		if (a->cgroup_id) {
			json_object_object_add(o, "cgroup_id",
					       json_object_new_uint64(a->cgroup_id));
			json_object_object_add(o, "mnt_ns", json_object_new_uint64(a->mnt_ns));
			json_object_object_add(o, "runtime", json_object_new_string(a->ct.runtime));
			json_object_object_add(o, "container", json_object_new_string(a->ct.id));
			json_object_object_add(o, "cgroup", json_object_new_string(a->cgroup));
		}
	}
	if (fprintf(out, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN)) < 0)
		err = -EIO;
	json_object_put(o);
	return err;
}

struct summary {
	json_object *allowed; /* hex digest -> null: the allowlist's digests; NULL: none given */
	json_object *groups;  /* group -> { entries, files: {path: null}, not_allowed: [...] } */
};

/* Keylime's runtime policy: "digests": { path: [hex, ...] }. */
static int allow_policy(struct summary *s, const char *path)
{
	json_object *root = json_object_from_file(path), *digests;

	if (!root || !json_object_object_get_ex(root, "digests", &digests) ||
	    !json_object_is_type(digests, json_type_object)) {
		pr_err("%s: not a runtime policy with a \"digests\" object", path);
		json_object_put(root);
		return -EBADMSG;
	}
	json_object_object_foreach(digests, key, list)
	{
		(void)key;
		for (size_t i = 0; json_object_is_type(list, json_type_array) &&
				   i < json_object_array_length(list);
		     i++) {
			const char *hex =
				json_object_get_string(json_object_array_get_idx(list, i));

			if (hex)
				json_object_object_add(s->allowed, hex, NULL);
		}
	}
	json_object_put(root);
	return 0;
}

/* Lines "HEX [PATH]"; '#' starts a comment. */
static int allow_lines(struct summary *s, const char *path)
{
	char line[8192];
	unsigned int n = 0;
	FILE *f = fopen(path, "r");

	if (!f) {
		pr_err("%s: %s", path, strerror(errno));
		return -errno;
	}
	while (fgets(line, sizeof(line), f)) {
		size_t len = strspn(line, "0123456789abcdefABCDEF");

		n++;
		if (line[0] == '#' || line[strspn(line, " \t\r\n")] == '\0')
			continue;
		if (len < 2 * 20 || (line[len] && !strchr(" \t\r\n", line[len]))) {
			pr_err("%s:%u: not \"HEX-DIGEST [PATH]\"", path, n);
			fclose(f);
			return -EBADMSG;
		}
		for (size_t i = 0; i < len; i++)
			line[i] = line[i] >= 'A' && line[i] <= 'F' ? line[i] - 'A' + 'a' : line[i];
		line[len] = '\0';
		json_object_object_add(s->allowed, line, NULL);
	}
	fclose(f);
	return 0;
}

int summary__new(const char *allowlist, struct summary **out)
{
	struct summary *s = calloc(1, sizeof(*s));
	int err = 0, c;
	FILE *f;

	if (!s || !(s->groups = json_object_new_object())) {
		free(s);
		return -ENOMEM;
	}
	if (allowlist) {
		s->allowed = json_object_new_object();
		f = fopen(allowlist, "r");
		if (!f) {
			pr_err("%s: %s", allowlist, strerror(errno));
			err = -errno;
		} else {
			while ((c = fgetc(f)) == ' ' || c == '\t' || c == '\n' || c == '\r')
				;
			fclose(f);
			err = c == '{' ? allow_policy(s, allowlist) : allow_lines(s, allowlist);
		}
	}
	if (err) {
		summary__free(s);
		return err;
	}
	*out = s;
	return 0;
}

void summary__free(struct summary *s)
{
	if (!s)
		return;
	json_object_put(s->allowed);
	json_object_put(s->groups);
	free(s);
}

int summary_add(struct summary *s, const struct template_fields *f, const struct attribution *a)
{
	char group[CONTAINER_RUNTIME_LEN + CONTAINER_ID_LEN + 2], hex[2 * HASHALG_MAX_SIZE + 1];
	json_object *g, *v;

	attrib_group(a, group, sizeof(group));
	if (!json_object_object_get_ex(s->groups, group, &g)) {
		g = json_object_new_object();
		if (!g)
			return -ENOMEM;
		json_object_object_add(g, "runtime", json_object_new_string(a->ct.runtime));
		json_object_object_add(g, "container", json_object_new_string(a->ct.id));
		json_object_object_add(g, "entries", json_object_new_int64(0));
		json_object_object_add(g, "files", json_object_new_object());
		json_object_object_add(g, "not_allowed", json_object_new_array());
		json_object_object_add(s->groups, group, g);
	}
	json_object_object_get_ex(g, "entries", &v);
	json_object_int_inc(v, 1);
	json_object_object_get_ex(g, "files", &v);
	json_object_object_add(v, f->path, NULL);
	hex_encode(f->digest, f->alg->size, hex);
	if (s->allowed && !json_object_object_get_ex(s->allowed, hex, NULL)) {
		json_object *na = json_object_new_object();

		json_object_object_add(na, "path", json_object_new_string(f->path));
		json_object_object_add(na, "digest", json_object_new_string(hex));
		json_object_object_get_ex(g, "not_allowed", &v);
		json_object_array_add(v, na);
	}
	return 0;
}

static int64_t member_int(json_object *g, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(g, key, &v) ? json_object_get_int64(v) : 0;
}

static json_object *member(json_object *g, const char *key)
{
	json_object *v = NULL;

	json_object_object_get_ex(g, key, &v);
	return v;
}

void summary_print(const struct summary *s, FILE *out)
{
	fprintf(out, "by container:%s\n",
		s->allowed ? "" : " (no --allowlist: digests are not checked)");
	json_object_object_foreach(s->groups, group, g)
	{
		json_object *na = member(g, "not_allowed");
		size_t n = json_object_array_length(na);

		fprintf(out, "  %s: %" PRId64 " entries, %d unique files", group,
			member_int(g, "entries"), json_object_object_length(member(g, "files")));
		if (s->allowed)
			fprintf(out, ", %zu not in the allowlist", n);
		fprintf(out, "\n");
		for (size_t i = 0; i < n && i < NOT_ALLOWED_SHOWN; i++) {
			json_object *e = json_object_array_get_idx(na, i);

			fprintf(out, "    not allowed: %s %s\n",
				json_object_get_string(member(e, "digest")),
				json_object_get_string(member(e, "path")));
		}
		if (n > NOT_ALLOWED_SHOWN)
			fprintf(out, "    and %zu more\n", n - NOT_ALLOWED_SHOWN);
	}
}

void summary_print_json(const struct summary *s, FILE *out, int verdict)
{
	json_object *root = json_object_new_object(), *list = json_object_new_array();

	json_object_object_add(root, "verdict",
			       json_object_new_string(verdict == 0   ? "verified"
						      : verdict == 1 ? "mismatch"
								     : "error"));
	json_object_object_add(root, "allowlist", json_object_new_boolean(s->allowed != NULL));
	json_object_object_foreach(s->groups, group, g)
	{
		json_object *o = json_object_new_object();

		json_object_object_add(o, "group", json_object_new_string(group));
		json_object_object_add(o, "runtime", json_object_get(member(g, "runtime")));
		json_object_object_add(o, "container", json_object_get(member(g, "container")));
		json_object_object_add(o, "entries", json_object_get(member(g, "entries")));
		json_object_object_add(
			o, "unique_files",
			json_object_new_int64(json_object_object_length(member(g, "files"))));
		if (s->allowed)
			json_object_object_add(o, "not_allowed",
					       json_object_get(member(g, "not_allowed")));
		json_object_array_add(list, o);
	}
	json_object_object_add(root, "containers", list);
	fprintf(out, "%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
	json_object_put(root);
}
