// SPDX-License-Identifier: GPL-2.0-only
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "container.h"
#include "log.h"
#include "msg.h"
#include "runtime_policy.h"
#include "snapshot.h"

struct runtime_policy {
	json_object *root;
	json_object *digests, *ima_buf, *keyrings; /* name -> [hex, ...] */
	regex_t excludes;
	bool have_excludes;
};

/* An object member of the kind wanted, or NULL. */
static json_object *member(json_object *o, const char *key, json_type type)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type) ? v : NULL;
}

/* Every value of a digests-object is a list of lowercase hex digests; the bad name, or NULL. */
static const char *bad_digests(json_object *table)
{
	json_object_object_foreach(table, name, list)
	{
		size_t n = json_object_is_type(list, json_type_array)
				   ? json_object_array_length(list)
				   : 0;

		if (!n)
			return name;
		for (size_t i = 0; i < n; i++) {
			const char *hex =
				json_object_get_string(json_object_array_get_idx(list, i));
			size_t len = hex ? strlen(hex) : 0;

			if (len < 40 || len > 128 || strspn(hex, "0123456789abcdef") != len)
				return name;
		}
	}
	return NULL;
}

/* The excludes as one expression anchored at the start, as Keylime's re.match. */
static int compile_excludes(struct runtime_policy *p, json_object *list, const char *path)
{
	struct buf re = {};
	size_t n = json_object_array_length(list);
	char why[256];
	int err = 0;

	if (!n)
		return 0;
	err = buf_put(&re, "^(", 2);
	for (size_t i = 0; !err && i < n; i++) {
		const char *e = json_object_get_string(json_object_array_get_idx(list, i));

		err = buf_put(&re, i ? ")|(" : "(", i ? 3 : 1) ?: buf_put(&re, e, strlen(e));
	}
	err = err ?: buf_put(&re, "))", 3);
	if (!err && (err = regcomp(&p->excludes, (char *)re.p, REG_EXTENDED | REG_NOSUB))) {
		regerror(err, &p->excludes, why, sizeof(why));
		pr_err("%s: excludes: %s (POSIX extended expressions: Python's \\d, lookaheads "
		       "and lazy repeats are not among them)",
		       path, why);
		err = -EINVAL;
	}
	p->have_excludes = !err;
	buf_free(&re);
	return err;
}

int runtime_policy_read(const char *path, struct runtime_policy **out)
{
	struct runtime_policy *p = calloc(1, sizeof(*p));
	json_object *meta, *ima, *excludes, *v;
	const char *bad = NULL, *alg;
	int err = -EINVAL;

	if (!p)
		return -ENOMEM;
	p->root = json_object_from_file(path);
	if (!p->root) {
		pr_err("%s: not JSON: %s", path, json_util_get_last_err());
		goto out;
	}
	meta = member(p->root, "meta", json_type_object);
	p->digests = member(p->root, "digests", json_type_object);
	p->ima_buf = member(p->root, "ima-buf", json_type_object);
	p->keyrings = member(p->root, "keyrings", json_type_object);
	excludes = member(p->root, "excludes", json_type_array);
	ima = member(p->root, "ima", json_type_object);
	if (!meta || !(v = member(meta, "version", json_type_int)) || json_object_get_int(v) != 1) {
		pr_err("%s: not a Keylime runtime policy of format version 1 (meta.version)", path);
		goto out;
	}
	if (!p->digests || !excludes || !p->ima_buf || !p->keyrings || !ima) {
		pr_err("%s: a runtime policy needs digests, excludes, keyrings, ima and ima-buf",
		       path);
		goto out;
	}
	if ((bad = bad_digests(p->digests)) || (bad = bad_digests(p->ima_buf)) ||
	    (bad = bad_digests(p->keyrings))) {
		pr_err("%s: \"%s\": not a list of lowercase hex digests (bare, without "
		       "\"sha256:\")",
		       path, bad);
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(excludes); i++)
		if (!json_object_is_type(json_object_array_get_idx(excludes, i),
					 json_type_string)) {
			pr_err("%s: excludes: entry %zu is not a string", path, i);
			goto out;
		}
	v = member(ima, "log_hash_alg", json_type_string);
	alg = v ? json_object_get_string(v) : "sha1";
	if (strcmp(alg, "sha1")) {
		pr_err("%s: ima.log_hash_alg is %s; bima's template hashes are sha1", path, alg);
		goto out;
	}
	err = compile_excludes(p, excludes, path);
out:
	if (err)
		runtime_policy_free(p);
	else
		*out = p;
	return err;
}

void runtime_policy_free(struct runtime_policy *p)
{
	if (!p)
		return;
	if (p->have_excludes)
		regfree(&p->excludes);
	json_object_put(p->root);
	free(p);
}

static bool is_buf(const struct template_entry *e)
{
	return !strcmp(e->name, "ima-buf");
}

/*
 * Whether an ima-buf entry carries a key (func=KEY_CHECK: its name is the
 * keyring's, ".ima", ".builtin_trusted_keys", ...), told as Keylime tells
 * it: its buffer is an X.509 certificate or a public key, DER-encoded.
 * Keylime checks such entries against the policy's "keyrings".
 */
static bool is_key(const struct template_entry *e, const struct template_fields *f)
{
	const unsigned char *p = f->extra;
	X509 *cert;
	EVP_PKEY *key;

	if (!is_buf(e) || !f->extra || !f->extra_len)
		return false;
	cert = d2i_X509(NULL, &p, f->extra_len);
	if (cert) {
		X509_free(cert);
		return true;
	}
	p = f->extra;
	key = d2i_PUBKEY(NULL, &p, f->extra_len);
	EVP_PKEY_free(key);
	return key != NULL;
}

/* Whether table allows hex for name: 1 yes, 0 not that digest, -1 not that name. */
static int allows(json_object *table, const char *name, const char *hex)
{
	json_object *list;

	if (!table || !json_object_object_get_ex(table, name, &list))
		return -1;
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (!strcmp(json_object_get_string(json_object_array_get_idx(list, i)), hex))
			return 1;
	return 0;
}

enum runtime_verdict runtime_policy_check(const struct runtime_policy *p,
					  const struct template_entry *e,
					  const struct template_fields *f)
{
	char hex[2 * HASHALG_MAX_SIZE + 1];
	int r;

	if (!f->covered)
		return RUNTIME_VIOLATION;
	if (p->have_excludes && !regexec(&p->excludes, f->path, 0, NULL, 0))
		return RUNTIME_EXCLUDED;
	hex_encode(f->digest, f->alg->size, hex);
	if (is_key(e, f))
		r = allows(p->keyrings, f->path, hex);
	else
		r = is_buf(e) ? allows(p->ima_buf, f->path, hex) : allows(p->digests, f->path, hex);
	if (r < 0 && is_buf(e))
		r = allows(p->keyrings, f->path, hex);
	return r > 0 ? RUNTIME_ALLOWED : r == 0 ? RUNTIME_NOT_ALLOWED : RUNTIME_UNKNOWN;
}

struct runtime_policy_out {
	json_object *digests, *ima_buf, *keyrings, *excludes;
	unsigned long files, unreadable;
};

/* bima's bookkeeping entries: no file, ever new contents, checked by the replay itself. */
static const char *const bookkeeping_names[] = { "bima_seq", SNAPSHOT_NAME, CONTAINER_MARK_NAME };

#define N_BOOKKEEPING (sizeof(bookkeeping_names) / sizeof(bookkeeping_names[0]))

static bool bookkeeping(const char *name)
{
	for (size_t i = 0; i < N_BOOKKEEPING; i++)
		if (!strcmp(name, bookkeeping_names[i]))
			return true;
	return false;
}

/*
 * The entries that record a loss, a fault, or entries extended from the log
 * alone: a policy made from a log never allows them.
 */
static bool fault(const char *name)
{
	static const char *const names[] = { "bima_lost_events", "bima_log_torn",
					     "bima_log_inconsistent", "bima_userspace_hash",
					     "bima_tail_extended" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

int runtime_policy_out__new(struct runtime_policy_out **out)
{
	struct runtime_policy_out *o = calloc(1, sizeof(*o));
	char re[64];
	int err = 0;

	if (!o)
		return -ENOMEM;
	o->digests = json_object_new_object();
	o->ima_buf = json_object_new_object();
	o->keyrings = json_object_new_object();
	o->excludes = json_object_new_array();
	for (size_t i = 0; !err && i < N_BOOKKEEPING; i++) {
		snprintf(re, sizeof(re), "%s$", bookkeeping_names[i]);
		err = runtime_policy_out_exclude(o, re);
	}
	*out = o;
	return err;
}

void runtime_policy_out__free(struct runtime_policy_out *o)
{
	if (!o)
		return;
	json_object_put(o->digests);
	json_object_put(o->ima_buf);
	json_object_put(o->keyrings);
	json_object_put(o->excludes);
	free(o);
}

int runtime_policy_out_exclude(struct runtime_policy_out *o, const char *regex)
{
	return json_object_array_add(o->excludes, json_object_new_string(regex)) ? -ENOMEM : 0;
}

static int add(json_object *table, const char *name, const uint8_t *digest, size_t size)
{
	char hex[2 * HASHALG_MAX_SIZE + 1];
	json_object *list;

	hex_encode(digest, size, hex);
	if (!json_object_object_get_ex(table, name, &list)) {
		list = json_object_new_array();
		json_object_object_add(table, name, list);
	}
	if (allows(table, name, hex) > 0)
		return 0;
	return json_object_array_add(list, json_object_new_string(hex)) ? -ENOMEM : 0;
}

int runtime_policy_out_entry(struct runtime_policy_out *o, const struct template_entry *e,
			     const struct template_fields *f)
{
	json_object *table = is_key(e, f) ? o->keyrings : is_buf(e) ? o->ima_buf : o->digests;

	return add(table, f->path, f->digest, f->alg->size);
}

static struct runtime_policy_out *walking; /* nftw() passes no argument of its own */

static int walk(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	uint8_t digest[32];
	struct buf name = {};
	int fd, err;

	if (type != FTW_F || !S_ISREG(st->st_mode))
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	err = fd < 0 ? -errno : hashalg_fd(hashalg_by_name("sha256", 6), fd, digest);
	if (fd >= 0)
		close(fd);
	if (err) {
		pr_warn("%s: not in the policy: %s", path, strerror(-err));
		walking->unreadable++;
		return 0;
	}
	/* The name as the log holds it (template.h). */
	err = template_name(&name, path) ?: add(walking->digests, (char *)name.p, digest, 32);
	buf_free(&name);
	walking->files++;
	return err ? 1 : 0;
}

int runtime_policy_out_tree(struct runtime_policy_out *o, const char *dir)
{
	char *abs = realpath(dir, NULL); /* names are absolute, as in the log */
	int err;

	if (!abs) {
		pr_err("%s: %s", dir, strerror(errno));
		return -errno;
	}
	walking = o;
	err = nftw(abs, walk, 64, FTW_PHYS | FTW_MOUNT);
	free(abs);
	walking = NULL;
	if (err < 0) {
		err = -errno;
		pr_err("%s: %s", dir, strerror(-err));
		return err;
	}
	return err ? -ENOMEM : 0;
}

int runtime_policy_out_log(struct runtime_policy_out *o, const char *epoch_dir)
{
	char why[TEMPLATE_WHY_LEN] = "";
	struct template_fields f;
	struct template_entry e;
	struct log_cursor *c;
	int err = log_cursor__open(epoch_dir, 0, &c);

	if (err) {
		pr_err("%s: %s", epoch_dir, strerror(-err));
		return err;
	}
	while (!err && (err = log_cursor_next(c, &e)) > 0) {
		err = template_fields(&e, &f, why);
		if (err || (template_record(&e, &f, f.path) && bookkeeping(f.path)))
			continue;
		if (f.verity)
			pr_warn("%s, segment %u, entry %u: %s has an fs-verity digest, not its "
				"file hash; it stays out of the policy",
				epoch_dir, log_cursor_segment(c), log_cursor_index(c), f.path);
		else if ((is_buf(&e) && fault(f.path)) || !f.covered)
			pr_warn("%s, segment %u, entry %u: %s records %s; it stays out of the "
				"policy, so that a verifier refuses it",
				epoch_dir, log_cursor_segment(c), log_cursor_index(c), f.path,
				!f.covered ? "a violation" : "a fault");
		else
			err = runtime_policy_out_entry(o, &e, &f);
	}
	if (err < 0)
		pr_err("%s", log_cursor_error(c)[0] ? log_cursor_error(c) : why);
	log_cursor__free(c);
	return err < 0 ? err : 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(json_object_get_string(*(json_object *const *)a),
		      json_object_get_string(*(json_object *const *)b));
}

static void sort_lists(json_object *table)
{
	json_object_object_foreach(table, name, list)
	{
		(void)name;
		json_object_array_sort(list, by_string);
	}
}

int runtime_policy_out_print(struct runtime_policy_out *o, FILE *f)
{
	json_object *root = json_object_new_object(), *meta = json_object_new_object(),
		    *ima = json_object_new_object();
	char stamp[32];
	time_t now = time(NULL);
	int ok;

	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	sort_lists(o->digests);
	sort_lists(o->ima_buf);
	sort_lists(o->keyrings);
	json_object_object_add(meta, "version", json_object_new_int(1));
	json_object_object_add(meta, "generator", json_object_new_int(3));
	json_object_object_add(meta, "timestamp", json_object_new_string(stamp));
	json_object_object_add(root, "meta", meta);
	json_object_object_add(root, "release", json_object_new_int(0));
	json_object_object_add(root, "digests", json_object_get(o->digests));
	json_object_object_add(root, "excludes", json_object_get(o->excludes));
	json_object_object_add(root, "keyrings", json_object_get(o->keyrings));
	json_object_object_add(ima, "ignored_keyrings", json_object_new_array());
	json_object_object_add(ima, "log_hash_alg", json_object_new_string("sha1"));
	json_object_object_add(ima, "dm_policy", NULL);
	json_object_object_add(root, "ima", ima);
	json_object_object_add(root, "ima-buf", json_object_get(o->ima_buf));
	json_object_object_add(root, "verification-keys", json_object_new_string(""));
	ok = fprintf(f, "%s\n",
		     json_object_to_json_string_ext(
			     root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE)) > 0;
	json_object_put(root);
	if (o->unreadable)
		pr_warn("%lu file(s) could not be read and are not in the policy", o->unreadable);
	return ok ? 0 : -EIO;
}
