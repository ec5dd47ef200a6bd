// SPDX-License-Identifier: GPL-2.0-only
/* An epoch's log as a TCG Canonical Event Log in JSON (cel.h). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cel.h"
#include "hashalg.h"
#include "log.h"
#include "msg.h"
#include "replay.h"
#include "snapshot.h"

/* The banks a TPM may have, as `bima verify` replays them. */
static const char *const every_bank[] = { "sha1", "sha256", "sha384", "sha512" };

int cel_framing_parse(const char *name, enum cel_framing *out)
{
	if (!strcmp(name, "cel-json"))
		*out = CEL_JSON_SEQ;
	else if (!strcmp(name, "cel-json-array"))
		*out = CEL_JSON_ARRAY;
	else
		return -EINVAL;
	return 0;
}

static int put_str(struct buf *out, const char *s)
{
	return buf_put(out, s, strlen(s));
}

/*
 * A JSON string of s: '"' and '\' escaped, printable ASCII as it is, and
 * every other byte (a control byte, or one of a name that is not ASCII,
 * valid UTF-8 or not) as \u00XX, so that the text is valid JSON whatever
 * the log holds, and the byte can be had back (as Latin-1).
 */
static int put_json_string(struct buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int err = put_str(out, "\"");

	for (const unsigned char *p = (const unsigned char *)s; !err && *p; p++) {
		if (*p == '"' || *p == '\\') {
			char esc[2] = { '\\', *p };

			err = buf_put(out, esc, 2);
		} else if (*p >= 0x20 && *p < 0x7f) {
			err = buf_put(out, p, 1);
		} else {
			char u[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };

			err = buf_put(out, u, 6);
		}
	}
	return err ?: put_str(out, "\"");
}

int cel_format_record(struct buf *out, uint64_t recnum, const struct template_entry *e,
		      const struct tpm_digest *d, size_t n)
{
	char head[96];
	int err;

	snprintf(head, sizeof(head), "{\"recnum\":%" PRIu64 ",\"pcr\":%" PRIu32 ",\"digests\":[",
		 recnum, e->pcr);
	err = put_str(out, head);
	for (size_t i = 0; !err && i < n; i++) {
		err = put_str(out, i ? ",{\"hashAlg\":\"" : "{\"hashAlg\":\"");
		err = err ?: put_str(out, d[i].alg->name);
		err = err ?: put_str(out, "\",\"digest\":\"");
		err = err ?: template_put_hex(out, d[i].value, d[i].alg->size);
		err = err ?: put_str(out, "\"}");
	}
	err = err
		      ?: put_str(out, "],\"content_type\":\"ima_template\","
				      "\"content\":{\"template_name\":");
	err = err ?: put_json_string(out, e->name);
	err = err ?: put_str(out, ",\"template_data\":\"");
	err = err ?: template_put_hex(out, e->data, e->data_len);
	return err ?: put_str(out, "\"}}");
}

/* What the first pass over the log learns: the banks, their way, and how many entries. */
struct cel_scan {
	struct replay r;       /* every bank, both ways; padded[] settled by the snapshots */
	uint32_t named;	       /* bit b: r.banks[b] is named by the first snapshot */
	bool snapshot;	       /* the log has a snapshot */
	uint64_t entries;      /* good entries, before any corrupt one */
	int err;	       /* 0, or why the log stops there */
	unsigned int seg, idx; /* where: the bad entry */
	char why[TEMPLATE_WHY_LEN];
};

/* A snapshot: which banks it names (the first), and which way each bank holds its values. */
static void scan_snapshot(struct cel_scan *s, const struct template_fields *f, unsigned int seg,
			  unsigned int idx)
{
	struct snapshot snap;

	if (snapshot_parse((const char *)f->extra, f->extra_len, &snap) ||
	    snap.pcr >= TPM_PCR_COUNT)
		return; /* not one bima can read: `bima verify` says so */
	for (size_t k = 0; k < snap.nbanks; k++)
		for (size_t b = 0; b < s->r.nbanks; b++) {
			if (snap.banks[k] != s->r.banks[b])
				continue;
			if (!s->snapshot)
				s->named |= 1u << b;
			if (!replay_settle(&s->r, snap.pcr, b, snap.pcr_value[k]))
				pr_warn("segment %u, entry %u: snapshot %" PRIu64 " does not "
					"match the log in %s (`bima verify` tells why); the "
					"digests are the log's",
					seg, idx, snap.id, snap.banks[k]->name);
		}
	s->snapshot = true;
}

/* The first pass: replay every bank both ways, against each snapshot. */
static int scan(const char *dir, struct cel_scan *s)
{
	const struct hashalg *banks[4];
	struct template_fields f;
	struct template_entry e;
	struct log_cursor *c;
	int err;

	for (size_t b = 0; b < 4; b++)
		banks[b] = hashalg_by_name(every_bank[b], strlen(every_bank[b]));
	replay_init(&s->r, banks, 4);
	err = log_cursor__open(dir, 0, &c);
	if (err) {
		pr_err("%s: %s", dir, strerror(-err));
		return err;
	}
	if (log_cursor_start(c)) {
		pr_err("%s: the log starts at anchor %" PRIu64 " (retention removed the segments "
		       "before it), and CEL has no record of a PCR's starting value: no replay "
		       "from zero could match it",
		       dir, log_cursor_start(c)->id);
		log_cursor__free(c);
		return -ENOTSUP;
	}
	while ((err = log_cursor_next(c, &e)) > 0) {
		s->seg = log_cursor_segment(c);
		s->idx = log_cursor_index(c);
		err = template_fields(&e, &f, s->why);
		if (err)
			break;
		if (template_record(&e, &f, SNAPSHOT_NAME))
			scan_snapshot(s, &f, s->seg, s->idx);
		err = replay_entry(&s->r, &e);
		if (err) {
			snprintf(s->why, sizeof(s->why), "PCR %u: no TPM has it", e.pcr);
			break;
		}
		s->entries++;
	}
	if (err < 0 && log_cursor_error(c)[0]) {
		snprintf(s->why, sizeof(s->why), "%s", log_cursor_error(c));
		s->seg = 0; /* the cursor's message names the place */
	}
	s->err = err < 0 ? err : 0;
	log_cursor__free(c);
	return 0;
}

/* The banks of the records, each its way: the first snapshot's, or every bank. */
static void pick_banks(const struct cel_scan *s, struct replay *out)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	bool padded[TPM_BANKS_MAX];
	size_t n = 0;

	for (size_t b = 0; b < s->r.nbanks; b++)
		if (!s->named || s->named & 1u << b) {
			padded[n] = s->r.padded[b];
			banks[n++] = s->r.banks[b];
		}
	replay_init(out, banks, n);
	memcpy(out->padded, padded, n * sizeof(padded[0]));
	if (!s->snapshot)
		pr_notice("no snapshot in the log names the banks the daemon extends: digests "
			  "for sha1, sha256, sha384 and sha512, each the bank's own hash");
}

static int write_framed(FILE *out, enum cel_framing framing, uint64_t recnum, const struct buf *rec)
{
	const char *pre = framing == CEL_JSON_SEQ ? "\x1e" : recnum ? ",\n" : "[\n";

	if (fputs(pre, out) < 0 || fwrite(rec->p, 1, rec->len, out) != rec->len ||
	    (framing == CEL_JSON_SEQ && fputc('\n', out) < 0)) {
		pr_err("standard output: %s", strerror(errno));
		return -EIO;
	}
	return 0;
}

/* The second pass: the first s->entries entries as records. */
static int emit(FILE *out, const char *dir, enum cel_framing framing, const struct cel_scan *s)
{
	struct tpm_digest d[TPM_BANKS_MAX];
	struct template_entry e;
	struct replay banks;
	struct buf rec = {};
	struct log_cursor *c = NULL;
	bool out_failed = false;
	uint64_t n = 0;
	int err;

	pick_banks(s, &banks);
	err = log_cursor__open(dir, 0, &c);
	while (!err && n < s->entries && (err = log_cursor_next(c, &e)) > 0) {
		rec.len = 0;
		err = replay_digests(&banks, &e, d);
		err = err ?: cel_format_record(&rec, n, &e, d, banks.nbanks);
		if (!err && write_framed(out, framing, n, &rec)) {
			out_failed = true;
			err = -EIO;
		}
		n++;
	}
	if (!err && n < s->entries) {
		pr_err("%s: the log lost entries while it was read", dir);
		err = -ESTALE;
	} else if (err && !out_failed) {
		pr_err("%s: %s", dir,
		       c && log_cursor_error(c)[0] ? log_cursor_error(c) : strerror(-err));
	}
	if (!err && framing == CEL_JSON_ARRAY && fputs(n ? "\n]\n" : "[]\n", out) < 0) {
		pr_err("standard output: %s", strerror(errno));
		err = -EIO;
	}
	log_cursor__free(c);
	buf_free(&rec);
	return err;
}

int cel_write_epoch(FILE *out, const char *epoch_dir, enum cel_framing framing)
{
	struct cel_scan *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return -ENOMEM;
	err = scan(epoch_dir, s);
	err = err ?: emit(out, epoch_dir, framing, s);
	if (!err && fflush(out)) {
		pr_err("standard output: %s", strerror(errno));
		err = -EIO;
	}
	if (!err && s->err) {
		if (s->seg)
			pr_err("segment %u, entry %u: %s", s->seg, s->idx, s->why);
		else
			pr_err("%s", s->why);
		err = s->err;
	}
	free(s);
	return err;
}
