// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ak.h"
#include "anchor.h"
#include "msg.h"

int anchor_begin(const struct epoch *ep, const struct log *log, uint64_t id, uint64_t seq,
		 struct snapshot *s, struct buf *entry)
{
	struct buf segment = {}, text = {};
	int err;

	memset(s, 0, sizeof(*s));
	err = log_read_file(log_path(log), &segment);
	err = err
		      ?: snapshot_segment_digests(segment.p, segment.len, s->segment_sha256,
						  s->segment_xor);
	buf_free(&segment);
	if (err) {
		pr_err("snapshot: %s: %s; not taken", log_path(log), strerror(-err));
		return err;
	}
	s->id = id;
	s->prev = ep->last_snapshot;
	s->reset = ep->reset;
	s->restart = ep->restart;
	s->entries = ep->entries;
	s->seq = seq;
	s->segment = log_segment(log);
	s->pcr = ep->pcr;
	s->nbanks = ep->replay.nbanks < BIMA_ANCHOR_BANKS ? ep->replay.nbanks : BIMA_ANCHOR_BANKS;
	for (size_t b = 0; b < s->nbanks; b++) {
		s->banks[b] = ep->replay.banks[b];
		memcpy(s->pcr_value[b], replay_value(&ep->replay, s->pcr, b), s->banks[b]->size);
	}
	err = snapshot_format(s, &text);
	err = err ?: template_encode_buf(entry, ep->pcr, SNAPSHOT_NAME, text.p, text.len);
	buf_free(&text);
	return err;
}

int anchor_close(const struct epoch *ep, const struct snapshot *s, const struct buf *entry,
		 struct log **log)
{
	char name[64];
	struct log *next;
	int err;

	snprintf(name, sizeof(name), LOG_ANCHOR_FMT, (unsigned long long)s->id);
	err = log_write_file(ep->dir, name, entry->p, entry->len);
	if (err)
		pr_warn("%s/%s: %s; the log can be verified from this snapshot only with the "
			"segment it closes",
			ep->dir, name, strerror(-err));
	err = log_seal(*log) ?: log__open(ep->dir, &next);
	if (err)
		return err; /* no segment to write to: stop, the next start opens one */
	log__close(*log);
	*log = next;
	return 0;
}

bool anchor_quote(const struct epoch *ep, struct tpm *tpm, const struct tpm_ak *ak,
		  const struct snapshot *s, struct bima_anchor *a)
{
	struct tpm_quote q;
	struct buf text = {};
	uint8_t nonce[32];
	int err = ak && tpm ? 0 : -ENOKEY;

	*a = (struct bima_anchor){
		.id = s->id, .entries = ep->entries, .segment = s->segment, .pcr = s->pcr
	};
	memcpy(a->segment_sha256, s->segment_sha256, sizeof(a->segment_sha256));
	for (size_t b = 0; b < s->nbanks; b++) {
		a->bank_alg[b] = s->banks[b]->tpm_id;
		memcpy(a->pcr_value[b], replay_value(&ep->replay, a->pcr, b), s->banks[b]->size);
	}
	err = err ?: snapshot_format(s, &text);
	err = err ?: hashalg_digest(hashalg_by_name("sha256", 6), text.p, text.len, nonce);
	err = err ?: tpm_quote(tpm, ak, nonce, sizeof(nonce), s->pcr, s->banks, s->nbanks, &q);
	err = err ?: ak_save_quote(ep->dir, s->id, &q, a->quote_sha256);
	buf_free(&text);
	if (err)
		pr_warn("snapshot %llu: no quote (%s); its anchor holds none",
			(unsigned long long)s->id, strerror(-err));
	pr_info("snapshot %llu: %s, segment %u closed", (unsigned long long)s->id,
		err ? "not quoted" : "quoted", s->segment);
	return !err;
}

int anchor_retention_parse(const char *s, enum retention *out)
{
	static const char *const names[] = { "keep", "compress", "remove" };

	for (int i = 0; i < 3; i++)
		if (!strcmp(s, names[i])) {
			*out = i;
			return 0;
		}
	return -EINVAL;
}

/* Whether anchor id of epoch_dir has its quote beside it. */
static bool quoted(const char *epoch_dir, uint64_t id)
{
	struct tpm_quote q;
	uint8_t digest[32];

	return !ak_load_quote(epoch_dir, id, &q, digest, NULL);
}

int anchor_retain(const char *epoch_dir, enum retention mode, unsigned int keep)
{
	struct buf ids = {}, entry = {};
	struct snapshot s = {};
	uint64_t from = 0;
	char name[64];
	size_t n;
	int err;

	if (mode == RETAIN_KEEP || !keep)
		return 0;
	err = log_anchors(epoch_dir, &ids);
	n = ids.len / sizeof(uint64_t);
	/* The keep-th newest anchor with a quote: the oldest a verifier can start from. */
	for (size_t i = n; !err && i-- > 0 && keep;)
		if (quoted(epoch_dir, ((uint64_t *)ids.p)[i]) && !--keep)
			from = ((uint64_t *)ids.p)[i];
	err = err ?: from ? log_anchor_read(epoch_dir, from, &entry, &s) : 0;
	for (unsigned int seg = s.segment; !err && from && seg >= 1; seg--) {
		snprintf(name, sizeof(name), SEGMENT_FMT, seg);
		if (mode == RETAIN_COMPRESS) {
			err = log_compress_segment(epoch_dir, seg);
			if (err == -ENOENT) { /* compressed already: so are those before */
				err = 0;
				break;
			}
		} else {
			int plain = log_remove_file(epoch_dir, name);

			strcat(name, ".gz");
			err = log_remove_file(epoch_dir, name);
			if (plain == -ENOENT && err == -ENOENT) {
				err = 0;
				break; /* removed already: so are those before */
			}
			err = plain && plain != -ENOENT ? plain : err == -ENOENT ? 0 : err;
		}
		if (err)
			pr_err("retention: %s/%s: %s", epoch_dir, name, strerror(-err));
	}
	for (size_t i = 0; !err && mode == RETAIN_REMOVE && i < n; i++) {
		uint64_t id = ((uint64_t *)ids.p)[i];

		if (id >= from)
			break;
		static const char *const fmts[] = { LOG_ANCHOR_FMT, "quote-%llu.attest",
						    "quote-%llu.sig" };

		for (int f = 0; !err && f < 3; f++) {
			snprintf(name, sizeof(name), fmts[f], (unsigned long long)id);
			err = log_remove_file(epoch_dir, name);
			err = err == -ENOENT ? 0 : err;
		}
	}
	buf_free(&ids);
	buf_free(&entry);
	return err;
}
