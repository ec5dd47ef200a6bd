// SPDX-License-Identifier: GPL-2.0-only
/* IMA measurement-list entries; the layout is documented in template.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "container.h"
#include "ima_fields.h"
#include "template.h"

/* The templates bima understands, and how many fields each has. */
static const struct {
	const char *name;
	int nfields;
} known[] = {
	{ "ima-ng", 2 },
	{ "ima-sig", 3 },
	{ "ima-buf", 3 },
	{ TEMPLATE_CT, 7 },
};

#define FIELDS_MAX 7

/* Whether name is one of known[]; ima_fields.c decodes the others. */
static bool known_template(const char *name)
{
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(name, known[i].name))
			return true;
	return false;
}

static int reason(int err, char *why, const char *fmt, va_list ap)
{
	vsnprintf(why, TEMPLATE_WHY_LEN, fmt, ap);
	return err;
}

/* Corrupt: -EBADMSG, with the reason in why. */
static int bad(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(char *why, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = reason(-EBADMSG, why, fmt, ap);
	va_end(ap);
	return err;
}

/* The buffer ends inside the entry, as after a torn write: -EPIPE. */
static int cut(char *why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int cut(char *why, const char *fmt, ...)
{
	va_list ap;
	int err;

	va_start(ap, fmt);
	err = reason(-EPIPE, why, fmt, ap);
	va_end(ap);
	return err;
}

int template_decode(const uint8_t *buf, size_t len, struct template_entry *e, size_t *used,
		    char why[TEMPLATE_WHY_LEN])
{
	size_t off = 0;
	uint32_t name_len, data_len;

	if (len == 0)
		return -ENODATA;
	if (len < 4 + TEMPLATE_DIGEST_SIZE + 4)
		return cut(why, "truncated entry header: %zu bytes left, need %d", len,
			   4 + TEMPLATE_DIGEST_SIZE + 4);
	e->pcr = get_u32_le(buf);
	memcpy(e->digest, buf + 4, TEMPLATE_DIGEST_SIZE);
	off = 4 + TEMPLATE_DIGEST_SIZE;
	name_len = get_u32_le(buf + off);
	off += 4;
	if (name_len == 0 || name_len > TEMPLATE_NAME_MAX)
		return bad(why, "template name length %u out of range 1..%d", name_len,
			   TEMPLATE_NAME_MAX);
	if (len - off < name_len + 4)
		return cut(why, "truncated template name: %zu bytes left, need %u", len - off,
			   name_len + 4);
	/* memchr, not strlen of the copy: a call per entry, and strlen costs more for 6 bytes */
	if (memchr(buf + off, '\0', name_len))
		return bad(why, "template name contains a NUL byte");
	memcpy(e->name, buf + off, name_len);
	e->name[name_len] = '\0';
	off += name_len;
	if (ima_fields_legacy(e->name)) {
		/* the legacy template has no data length: its size is its fields' */
		int err = ima_fields_legacy_size(buf + off, len - off, &data_len, why);

		if (err)
			return err;
		off -= 4; /* its data starts where the length would be */
	} else {
		data_len = get_u32_le(buf + off);
	}
	off += 4;
	if (data_len > TEMPLATE_DATA_MAX)
		return bad(why, "template data length %u exceeds %u", data_len, TEMPLATE_DATA_MAX);
	if (len - off < data_len)
		return cut(why, "truncated template data: %zu bytes left, length field says %u",
			   len - off, data_len);
	e->data = buf + off;
	e->data_len = data_len;
	*used = off + data_len;
	return 0;
}

/* One NUL-terminated string with no NUL inside, of the field named name. */
static const char *string_field(const uint8_t *p, uint32_t len, const char *name, char *why)
{
	if (len == 0 || p[len - 1] != '\0' || strlen((const char *)p) != len - 1) {
		bad(why, "%s: the %s field is not one NUL-terminated string", TEMPLATE_CT, name);
		return NULL;
	}
	return (const char *)p;
}

/* bima-ct's fields after d-ng and n-ng: cgid, mntns, ctrt, ctid, cgpath. */
static int ct_fields(const uint8_t *const *field, const uint32_t *flen, struct template_fields *f,
		     char *why)
{
	if (flen[0] != 8 || flen[1] != 8)
		return bad(why, "%s: cgid and mntns are 8 bytes each, not %u and %u", TEMPLATE_CT,
			   flen[0], flen[1]);
	f->cgroup_id = get_u64_le(field[0]);
	f->mnt_ns = get_u64_le(field[1]);
	f->runtime = string_field(field[2], flen[2], "ctrt", why);
	f->container = f->runtime ? string_field(field[3], flen[3], "ctid", why) : NULL;
	f->cgroup = f->container ? string_field(field[4], flen[4], "cgpath", why) : NULL;
	return f->cgroup ? 0 : -EBADMSG;
}

int template_fields(const struct template_entry *e, struct template_fields *f,
		    char why[TEMPLATE_WHY_LEN])
{
	const uint8_t *field[FIELDS_MAX];
	uint32_t flen[FIELDS_MAX], off = 0, digest_len;
	int n = -1, i;
	const uint8_t *colon;

	/* ima-ng, nearly every entry, by a compare of constant size the compiler inlines */
	if (!memcmp(e->name, "ima-ng", sizeof("ima-ng")))
		n = 2;
	for (i = 0; n < 0 && i < (int)(sizeof(known) / sizeof(known[0])); i++)
		if (!strcmp(e->name, known[i].name))
			n = known[i].nfields;
	if (n < 0)
		return ima_fields_decode(e, f, why);

	for (i = 0; i < n; i++) {
		if (e->data_len - off < 4)
			return bad(why, "%s field %d: truncated length", e->name, i + 1);
		flen[i] = get_u32_le(e->data + off);
		off += 4;
		if (flen[i] > e->data_len - off)
			return bad(why, "%s field %d: length %u exceeds the %u bytes left", e->name,
				   i + 1, flen[i], e->data_len - off);
		field[i] = e->data + off;
		off += flen[i];
	}
	if (off != e->data_len)
		return bad(why, "%s: %u bytes after the last field", e->name, e->data_len - off);

	/* d-ng: "<algo>:" NUL digest */
	colon = flen[0] ? memchr(field[0], ':', flen[0]) : NULL;
	if (!colon || (uint32_t)(colon - field[0]) + 2 > flen[0] || colon[1] != '\0')
		return bad(why, "d-ng field is not \"<algo>:\\0<digest>\"");
	f->alg = hashalg_by_name((const char *)field[0], colon - field[0]);
	if (!f->alg)
		return bad(why, "d-ng: unknown hash algorithm \"%.*s\"", (int)(colon - field[0]),
			   (const char *)field[0]);
	f->digest = colon + 2;
	digest_len = flen[0] - (uint32_t)(f->digest - field[0]);
	if (digest_len != f->alg->size)
		return bad(why, "d-ng: %s digest of %u bytes, expected %zu", f->alg->name,
			   digest_len, f->alg->size);

	/* n-ng: NUL-terminated name, no NUL inside */
	if (flen[1] == 0 || field[1][flen[1] - 1] != '\0' ||
	    strlen((const char *)field[1]) != flen[1] - 1)
		return bad(why, "n-ng field is not one NUL-terminated string");
	f->path = (const char *)field[1];
	f->path_len = flen[1];

	f->covered = !template_is_violation(e);
	f->verity = false;
	f->extra = n == 3 ? field[2] : NULL;
	f->extra_len = n == 3 ? flen[2] : 0;
	f->attributed = n == 7;
	return f->attributed ? ct_fields(field + 2, flen + 2, f, why) : 0;
}

bool template_is_violation(const struct template_entry *e)
{
	static const uint8_t zero[TEMPLATE_DIGEST_SIZE];

	return !memcmp(e->digest, zero, sizeof(zero));
}

bool template_record(const struct template_entry *e, const struct template_fields *f,
		     const char *name)
{
	return f->covered && f->extra && !strcmp(e->name, "ima-buf") && !strcmp(f->path, name);
}

int template_bank_digest(const struct template_entry *e, const struct hashalg *bank, uint8_t *out)
{
	if (template_is_violation(e)) {
		memset(out, 0xff, bank->size);
		return 0;
	}
	if (ima_fields_legacy(e->name))
		return ima_fields_legacy_digest(e, bank, out);
	return hashalg_digest(bank, e->data, e->data_len, out);
}

bool template_digest_is_data_hash(const struct template_entry *e)
{
	return !template_is_violation(e) && !ima_fields_legacy(e->name);
}

/* The length of the valid UTF-8 sequence at p (at most len bytes), or 0. */
static size_t utf8_len(const uint8_t *p, size_t len)
{
	size_t n = p[0] < 0x80			  ? 1
		   : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
		   : p[0] >= 0xe0 && p[0] <= 0xef ? 3
		   : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
						  : 0;
	uint8_t lo = 0x80, hi = 0xbf; /* the second byte's range: no overlong, no surrogate */

	if (!n || n > len)
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i < n; i++, lo = 0x80, hi = 0xbf)
		if (p[i] < lo || p[i] > hi)
			return 0;
	return n;
}

/* Bytes from p on that stay as they are, one at a time: printable ASCII but the space. */
static size_t plain_run(const uint8_t *p, size_t len)
{
	size_t n = 0;

	while (n < len && p[n] > 0x20 && p[n] < 0x7f)
		n++;
	return n;
}

int template_name(struct buf *out, const char *path)
{
	const uint8_t *p = (const uint8_t *)path;
	size_t len = strlen(path), n;
	int err = buf_reserve(out, len + 1); /* most names need no escape */

	for (size_t i = 0; !err && i < len; i += n) {
		char esc[5];

		n = plain_run(p + i, len - i);
		if (n) {
			err = buf_put(out, p + i, n);
			continue;
		}
		n = utf8_len(p + i, len - i);
		if (p[i] == ' ') {
			err = buf_put(out, "_", 1);
		} else if (!n || p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof(esc), "\\%03o", p[i]);
			err = buf_put(out, esc, 4);
			n = 1;
		} else {
			err = buf_put(out, p + i, n);
		}
	}
	return err ?: buf_put(out, "", 1);
}

/* A field holding a name as template_name() writes it, with its length before it. */
static int put_name_field(struct buf *out, const char *name)
{
	size_t at = out->len;
	int err;

	err = buf_put_u32(out, 0); /* the length, once it is known */
	err = err ?: template_name(out, name);
	if (!err) {
		uint32_t n = out->len - at - 4;

		out->p[at] = n;
		out->p[at + 1] = n >> 8;
		out->p[at + 2] = n >> 16;
		out->p[at + 3] = n >> 24;
	}
	return err;
}

static int put_string_field(struct buf *out, const char *s)
{
	return buf_put_u32(out, strlen(s) + 1) ?: buf_put(out, s, strlen(s) + 1);
}

int template_data_ng(struct buf *out, const struct hashalg *alg, const uint8_t *digest,
		     const char *path, const uint8_t *buf, uint32_t buf_len)
{
	size_t algo_len = strlen(alg->name);
	int err;

	err = buf_put_u32(out, algo_len + 2 + alg->size);
	err = err ?: buf_put(out, alg->name, algo_len);
	err = err ?: buf_put(out, ":", 2); /* ':' and its NUL */
	err = err ?: buf_put(out, digest, alg->size);
	err = err ?: put_name_field(out, path);
	if (buf) {
		err = err ?: buf_put_u32(out, buf_len);
		err = err ?: buf_put(out, buf, buf_len);
	}
	return err;
}

int template_data_ct(struct buf *out, const struct hashalg *alg, const uint8_t *digest,
		     const char *path, const struct attribution *a)
{
	int err = template_data_ng(out, alg, digest, path, NULL, 0);

	err = err ?: buf_put_u32(out, 8) ?: buf_put_u64(out, a->cgroup_id);
	err = err ?: buf_put_u32(out, 8) ?: buf_put_u64(out, a->mnt_ns);
	err = err ?: put_string_field(out, a->ct.runtime);
	err = err ?: put_string_field(out, a->ct.id);
	return err ?: put_name_field(out, a->cgroup);
}

int template_hash(const uint8_t *data, uint32_t len, uint8_t digest[TEMPLATE_DIGEST_SIZE])
{
	static const struct hashalg *sha1;

	if (!sha1)
		sha1 = hashalg_by_name("sha1", 4);
	return hashalg_digest(sha1, data, len, digest);
}

int template_encode(struct buf *out, uint32_t pcr, const char *name, const uint8_t *data,
		    uint32_t data_len, bool violation)
{
	uint8_t digest[TEMPLATE_DIGEST_SIZE];
	int err = violation || data_len > TEMPLATE_DATA_MAX ? 0
							    : template_hash(data, data_len, digest);

	return err
		       ?: template_encode_hashed(out, pcr, name, data, data_len,
						 violation ? NULL : digest);
}

int template_encode_hashed(struct buf *out, uint32_t pcr, const char *name, const uint8_t *data,
			   uint32_t data_len, const uint8_t *digest)
{
	static const uint8_t zero[TEMPLATE_DIGEST_SIZE];
	size_t name_len = strlen(name);
	int err;

	if (name_len == 0 || name_len > TEMPLATE_NAME_MAX || data_len > TEMPLATE_DATA_MAX)
		return -EINVAL;
	err = buf_put_u32(out, pcr);
	err = err ?: buf_put(out, digest ? digest : zero, TEMPLATE_DIGEST_SIZE);
	err = err ?: buf_put_u32(out, name_len);
	err = err ?: buf_put(out, name, name_len);
	err = err ?: buf_put_u32(out, data_len);
	err = err ?: buf_put(out, data, data_len);
	return err;
}

int template_encode_buf(struct buf *out, uint32_t pcr, const char *name, const void *data,
			uint32_t len)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	uint8_t digest[HASHALG_MAX_SIZE];
	struct buf fields = {};
	int err;

	err = hashalg_digest(sha256, data, len, digest);
	err = err ?: template_data_ng(&fields, sha256, digest, name, data, len);
	err = err ?: template_encode(out, pcr, "ima-buf", fields.p, fields.len, false);
	buf_free(&fields);
	return err;
}

int template_put_hex(struct buf *out, const uint8_t *p, size_t len)
{
	int err = buf_reserve(out, 2 * len + 1);

	if (!err) {
		hex_encode(p, len, (char *)out->p + out->len);
		out->len += 2 * len;
	}
	return err;
}

/* A string field in the ASCII list: "-" when empty. */
static int put_word(struct buf *out, const char *s)
{
	return buf_put(out, *s ? s : "-", *s ? strlen(s) : 1);
}

int template_format_ascii(struct buf *out, const struct template_entry *e,
			  char why[TEMPLATE_WHY_LEN])
{
	struct template_fields fl;
	char pcr[16], *at = pcr + sizeof(pcr);
	int err;

	err = template_fields(e, &fl, why);
	if (err)
		return err;
	/* The PCR as a plain number: Keylime's parser rejects the kernel's " 9". */
	*--at = ' ';
	for (uint32_t n = e->pcr; at == pcr + sizeof(pcr) - 1 || n; n /= 10)
		*--at = '0' + n % 10;
	err = buf_put(out, at, pcr + sizeof(pcr) - at);
	err = err ?: template_put_hex(out, e->digest, sizeof(e->digest));
	err = err ?: buf_put(out, " ", 1);
	err = err ?: buf_put(out, e->name, strlen(e->name));
	if (!known_template(e->name))
		return err ?: ima_fields_ascii(out, e, why) ?: buf_put(out, "\n", 1);
	err = err ?: buf_put(out, " ", 1);
	err = err ?: buf_put(out, fl.alg->name, strlen(fl.alg->name));
	err = err ?: buf_put(out, ":", 1);
	err = err ?: template_put_hex(out, fl.digest, fl.alg->size);
	err = err ?: buf_put(out, " ", 1);
	err = err ?: buf_put(out, fl.path, strlen(fl.path)); /* to its first NUL, as "%s" */
	/* An empty last field keeps its separator, as the kernel prints it. */
	if (fl.extra)
		err = err ?: buf_put(out, " ", 1) ?: template_put_hex(out, fl.extra, fl.extra_len);
	if (fl.attributed) {
		char ids[48];

		snprintf(ids, sizeof(ids), " %" PRIu64 " %" PRIu64 " ", fl.cgroup_id, fl.mnt_ns);
		err = err ?: buf_put(out, ids, strlen(ids));
		err = err ?: put_word(out, fl.runtime) ?: buf_put(out, " ", 1);
		err = err ?: put_word(out, fl.container) ?: buf_put(out, " ", 1);
		err = err ?: put_word(out, fl.cgroup);
	}
	return err ?: buf_put(out, "\n", 1);
}

int template_print_ascii(FILE *f, const struct template_entry *e, char why[TEMPLATE_WHY_LEN])
{
	struct buf line = {};
	int err = template_format_ascii(&line, e, why);

	if (!err && fwrite(line.p, 1, line.len, f) != line.len)
		err = -EIO;
	buf_free(&line);
	return err;
}
