// SPDX-License-Identifier: GPL-2.0-only
/* IMA's template fields; the layouts are documented in ima_fields.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "ima_fields.h"

enum kind {
	K_DIGEST,      /* d: raw digest */
	K_DIGEST_ALGO, /* d-ng, d-modsig: "<algo>:" NUL digest */
	K_DIGEST_TYPE, /* d-ngv2: "<type>:<algo>:" NUL digest */
	K_NAME,	       /* n, n-ng: NUL-terminated */
	K_STRING,      /* xattrnames: NUL-terminated, or empty */
	K_HEX,	       /* sig, buf, ...: any bytes */
	K_UINT,	       /* iuid, igid, imode: 1, 2, 4 or 8 bytes LE, or empty */
};

static const struct {
	const char *id;
	enum kind kind;
} fields[] = {
	{ "d", K_DIGEST },
	{ "n", K_NAME },
	{ "d-ng", K_DIGEST_ALGO },
	{ "d-ngv2", K_DIGEST_TYPE },
	{ "n-ng", K_NAME },
	{ "sig", K_HEX },
	{ "buf", K_HEX },
	{ "modsig", K_HEX },
	{ "d-modsig", K_DIGEST_ALGO },
	{ "evmsig", K_HEX },
	{ "xattrnames", K_STRING },
	{ "xattrlengths", K_HEX },
	{ "xattrvalues", K_HEX },
	{ "iuid", K_UINT },
	{ "igid", K_UINT },
	{ "imode", K_UINT },
};

/* The kernel's builtin templates, by name (ima_template.c). */
static const struct {
	const char *name, *fmt;
} builtin[] = {
	{ "ima", "d|n" },
	{ "ima-ng", "d-ng|n-ng" },
	{ "ima-ngv2", "d-ngv2|n-ng" },
	{ "ima-sig", "d-ng|n-ng|sig" },
	{ "ima-sigv2", "d-ngv2|n-ng|sig" },
	{ "ima-buf", "d-ng|n-ng|buf" },
	{ "ima-modsig", "d-ng|n-ng|sig|d-modsig|modsig" },
	{ "evm-sig", "d-ng|n-ng|evmsig|xattrnames|xattrlengths|xattrvalues|iuid|igid|imode" },
};

#define FIELD_UNKNOWN -1

/* One entry split into its fields. */
struct split {
	int n;
	int field[IMA_FIELDS_MAX]; /* index into fields[] */
	const uint8_t *p[IMA_FIELDS_MAX];
	uint32_t len[IMA_FIELDS_MAX];
};

static int bad(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, TEMPLATE_WHY_LEN, fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

static int field_by_id(const char *id, size_t len)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].id) == len && !memcmp(fields[i].id, id, len))
			return i;
	return FIELD_UNKNOWN;
}

/* The template's field ids into s->field: the builtin one's format, or the name as a format. */
static int parse_fmt(const char *name, struct split *s, char *why)
{
	const char *fmt = name, *id, *end;

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
		if (!strcmp(builtin[i].name, name))
			fmt = builtin[i].fmt;
	s->n = 0;
	for (id = fmt;; id = end + 1) {
		end = strchr(id, '|') ?: id + strlen(id);
		if (s->n == IMA_FIELDS_MAX)
			return bad(why, "unknown template \"%s\": more than %d fields", name,
				   IMA_FIELDS_MAX);
		s->field[s->n] = field_by_id(id, end - id);
		if (s->field[s->n] == FIELD_UNKNOWN)
			return bad(why, "unknown template \"%s\": no IMA field \"%.*s\"", name,
				   (int)(end - id), id);
		s->n++;
		if (!*end)
			return 0;
	}
}

int ima_fields_legacy_size(const uint8_t *p, size_t len, uint32_t *size, char why[TEMPLATE_WHY_LEN])
{
	uint32_t name_len;

	if (len < TEMPLATE_DIGEST_SIZE + 4) {
		snprintf(why, TEMPLATE_WHY_LEN, "truncated ima entry: %zu bytes left, need %d", len,
			 TEMPLATE_DIGEST_SIZE + 4);
		return -EPIPE;
	}
	name_len = get_u32_le(p + TEMPLATE_DIGEST_SIZE);
	if (name_len > IMA_LEGACY_NAME_MAX)
		return bad(why, "ima: name length %u exceeds %d", name_len, IMA_LEGACY_NAME_MAX);
	if (len - TEMPLATE_DIGEST_SIZE - 4 < name_len) {
		snprintf(why, TEMPLATE_WHY_LEN, "truncated ima name: %zu bytes left, need %u",
			 len - TEMPLATE_DIGEST_SIZE - 4, name_len);
		return -EPIPE;
	}
	if (memchr(p + TEMPLATE_DIGEST_SIZE + 4, '\0', name_len))
		return bad(why, "ima: the name contains a NUL byte");
	*size = TEMPLATE_DIGEST_SIZE + 4 + name_len;
	return 0;
}

/* Split the template data into fields; the legacy template's as the kernel writes it. */
static int split(const struct template_entry *e, struct split *s, char *why)
{
	uint32_t off = 0;
	int err = parse_fmt(e->name, s, why);

	if (err)
		return err;
	if (ima_fields_legacy(e->name)) {
		/* template_decode() checked the sizes */
		s->p[0] = e->data;
		s->len[0] = TEMPLATE_DIGEST_SIZE;
		s->p[1] = e->data + TEMPLATE_DIGEST_SIZE + 4;
		s->len[1] = e->data_len - TEMPLATE_DIGEST_SIZE - 4;
		return 0;
	}
	for (int i = 0; i < s->n; i++) {
		if (e->data_len - off < 4)
			return bad(why, "%s field %d (%s): truncated length", e->name, i + 1,
				   fields[s->field[i]].id);
		s->len[i] = get_u32_le(e->data + off);
		off += 4;
		if (s->len[i] > e->data_len - off)
			return bad(why, "%s field %d (%s): length %u exceeds the %u bytes left",
				   e->name, i + 1, fields[s->field[i]].id, s->len[i],
				   e->data_len - off);
		s->p[i] = e->data + off;
		off += s->len[i];
	}
	if (off != e->data_len)
		return bad(why, "%s: %u bytes after the last field", e->name, e->data_len - off);
	return 0;
}

/* The digest of a digest field: its algorithm, its bytes, whether it is fs-verity's. */
struct digest {
	const struct hashalg *alg;
	const uint8_t *p;
	const uint8_t *prefix; /* "<algo>:" or "<type>:<algo>:", NUL-terminated; NULL for d */
	bool verity;
};

static int digest_field(const char *id, enum kind kind, const uint8_t *p, uint32_t len,
			struct digest *d, char *why)
{
	const uint8_t *nul = memchr(p, '\0', len), *algo = p, *colon;
	uint32_t size;

	d->verity = false;
	d->prefix = NULL;
	if (kind == K_DIGEST) {
		if (len != TEMPLATE_DIGEST_SIZE)
			return bad(why, "%s: digest of %u bytes, expected %d (SHA-1)", id, len,
				   TEMPLATE_DIGEST_SIZE);
		d->alg = hashalg_by_name("sha1", 4);
		d->p = p;
		return 0;
	}
	if (!nul || nul == p || nul[-1] != ':')
		return bad(why, "%s field is not \"%s<algo>:\\0<digest>\"", id,
			   kind == K_DIGEST_TYPE ? "<type>:" : "");
	if (kind == K_DIGEST_TYPE) {
		colon = memchr(p, ':', nul - p);
		if (colon == nul - 1)
			return bad(why, "%s: no digest type before the algorithm", id);
		if (colon - p == 6 && !memcmp(p, "verity", 6))
			d->verity = true;
		else if (colon - p != 3 || memcmp(p, "ima", 3))
			return bad(why, "%s: unknown digest type \"%.*s\"", id, (int)(colon - p),
				   (const char *)p);
		algo = colon + 1;
	}
	d->alg = hashalg_by_name((const char *)algo, nul - 1 - algo);
	if (!d->alg)
		return bad(why, "%s: unknown hash algorithm \"%.*s\"", id, (int)(nul - 1 - algo),
			   (const char *)algo);
	d->p = nul + 1;
	d->prefix = p;
	size = len - (uint32_t)(d->p - p);
	if (size != d->alg->size)
		return bad(why, "%s: %s digest of %u bytes, expected %zu", id, d->alg->name, size,
			   d->alg->size);
	return 0;
}

static bool one_string(const uint8_t *p, uint32_t len)
{
	return len && p[len - 1] == '\0' && strlen((const char *)p) == len - 1;
}

/* Check every field; digest and name from the first digest and name fields. */
static int check(const struct template_entry *e, const struct split *s, struct digest *dg,
		 int *digest_at, int *name_at, char *why)
{
	bool legacy = ima_fields_legacy(e->name);

	*digest_at = *name_at = -1;
	for (int i = 0; i < s->n; i++) {
		const char *id = fields[s->field[i]].id;
		enum kind kind = fields[s->field[i]].kind;
		struct digest d;
		int err = 0;

		switch (kind) {
		case K_DIGEST:
		case K_DIGEST_ALGO:
		case K_DIGEST_TYPE:
			/* d-modsig is empty when the file has no appended signature */
			if (!s->len[i] && !strcmp(id, "d-modsig"))
				break;
			err = digest_field(id, kind, s->p[i], s->len[i], &d, why);
			if (!err && *digest_at < 0 && strcmp(id, "d-modsig")) {
				*dg = d;
				*digest_at = i;
			}
			break;
		case K_NAME:
			if (!legacy && !one_string(s->p[i], s->len[i]))
				err = bad(why, "%s field is not one NUL-terminated string", id);
			if (!err && *name_at < 0)
				*name_at = i;
			break;
		case K_STRING:
			if (s->len[i] && !one_string(s->p[i], s->len[i]))
				err = bad(why, "%s field is not one NUL-terminated string", id);
			break;
		case K_UINT:
			if (s->len[i] && s->len[i] != 1 && s->len[i] != 2 && s->len[i] != 4 &&
			    s->len[i] != 8)
				err = bad(why, "%s: %u bytes, not an integer of 1, 2, 4 or 8", id,
					  s->len[i]);
			break;
		case K_HEX:
			break;
		}
		if (err)
			return err;
	}
	if (*digest_at < 0 || *name_at < 0)
		return bad(why,
			   "template \"%s\" has no %s field: bima reads templates with a "
			   "digest (d, d-ng, d-ngv2) and a name (n, n-ng)",
			   e->name, *digest_at < 0 ? "digest" : "name");
	return 0;
}

static int field_index(const struct split *s, const char *id)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(fields[s->field[i]].id, id))
			return i;
	return -1;
}

int ima_fields_decode(const struct template_entry *e, struct template_fields *f,
		      char why[TEMPLATE_WHY_LEN])
{
	static __thread char legacy_name[IMA_LEGACY_NAME_MAX + 1];
	struct split s;
	struct digest d;
	int digest_at, name_at, extra;
	int err = split(e, &s, why);

	err = err ?: check(e, &s, &d, &digest_at, &name_at, why);
	if (err)
		return err;
	memset(f, 0, sizeof(*f));
	f->alg = d.alg;
	f->digest = d.p;
	f->verity = d.verity;
	if (ima_fields_legacy(e->name)) {
		memcpy(legacy_name, s.p[name_at], s.len[name_at]);
		legacy_name[s.len[name_at]] = '\0';
		f->path = legacy_name;
		f->path_len = s.len[name_at] + 1;
	} else {
		f->path = (const char *)s.p[name_at];
		f->path_len = s.len[name_at];
	}
	/* extra: the signature, or the buffer, as template.c gives ima-sig's and ima-buf's */
	extra = field_index(&s, "sig");
	if (extra < 0)
		extra = field_index(&s, "buf");
	if (extra >= 0) {
		f->extra = s.p[extra];
		f->extra_len = s.len[extra];
	}
	f->covered = !template_is_violation(e);
	return 0;
}

static int put_uint(struct buf *out, const uint8_t *p, uint32_t len)
{
	char num[24];
	uint64_t v = len == 1	? p[0]
		     : len == 2 ? (uint64_t)p[0] | (uint64_t)p[1] << 8
		     : len == 4 ? get_u32_le(p)
				: get_u64_le(p);

	snprintf(num, sizeof(num), "%" PRIu64, v);
	return buf_put(out, num, strlen(num));
}

/* One field as the kernel's ascii_runtime_measurements prints it (checked by split and check). */
static int put_field(struct buf *out, const char *name, enum kind kind, const char *id,
		     const uint8_t *p, uint32_t len)
{
	struct digest d;
	char why[TEMPLATE_WHY_LEN];

	switch (kind) {
	case K_DIGEST:
	case K_DIGEST_ALGO:
	case K_DIGEST_TYPE:
		if (digest_field(id, kind, p, len, &d, why))
			return -EBADMSG;
		if (d.prefix && buf_put(out, d.prefix, strlen((const char *)d.prefix)))
			return -ENOMEM;
		return template_put_hex(out, d.p, d.alg->size);
	case K_NAME:
		/* the legacy template's name has no NUL in the list */
		if (ima_fields_legacy(name))
			return buf_put(out, p, len);
		return buf_put(out, p, strlen((const char *)p));
	case K_STRING:
		return buf_put(out, p, strlen((const char *)p));
	case K_HEX:
		return template_put_hex(out, p, len);
	case K_UINT:
		return put_uint(out, p, len);
	}
	return 0;
}

int ima_fields_ascii(struct buf *out, const struct template_entry *e, char why[TEMPLATE_WHY_LEN])
{
	struct split s;
	struct digest d;
	int digest_at, name_at;
	int err = split(e, &s, why);

	err = err ?: check(e, &s, &d, &digest_at, &name_at, why);
	for (int i = 0; !err && i < s.n; i++) {
		err = buf_put(out, " ", 1);
		if (!err && s.len[i])
			err = put_field(out, e->name, fields[s.field[i]].kind,
					fields[s.field[i]].id, s.p[i], s.len[i]);
	}
	return err;
}

int ima_fields_legacy_digest(const struct template_entry *e, const struct hashalg *bank,
			     uint8_t *out)
{
	uint8_t in[TEMPLATE_DIGEST_SIZE + IMA_LEGACY_NAME_MAX + 1] = { 0 };
	uint32_t name_len = e->data_len - TEMPLATE_DIGEST_SIZE - 4;

	/* template_decode() checked the sizes */
	memcpy(in, e->data, TEMPLATE_DIGEST_SIZE);
	memcpy(in + TEMPLATE_DIGEST_SIZE, e->data + TEMPLATE_DIGEST_SIZE + 4, name_len);
	return hashalg_digest(bank, in, sizeof(in), out);
}
