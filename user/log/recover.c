// SPDX-License-Identifier: GPL-2.0-only
/* Reconcile an epoch's log with the TPM; what is done and why is in recover.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernel_ima.h"
#include "msg.h"
#include "recover.h"
#include "snapshot.h"
#include "views.h"

#define TORN_NAME "bima_log_torn"
#define INCONSISTENT_NAME "bima_log_inconsistent"

/* Where the entries after the TPM's last match lie in the log, and how many. */
struct tail_span {
	uint64_t entries;
	size_t bytes;
	unsigned int first_segment, last_segment;
	size_t first_byte, last_byte; /* offsets in those segments, the last inclusive */
};

struct scan {
	uint8_t tpm[TPM_BANKS_MAX][HASHALG_MAX_SIZE]; /* the TPM's value of the PCR, per bank */
	struct replay_point match; /* the replay where it last equalled the TPM */
	uint64_t match_entries;	   /* entries up to that point */
	bool matched;
};

static bool replay_equals_tpm(const struct replay *r, uint32_t pcr, const struct scan *s)
{
	for (size_t b = 0; b < r->nbanks; b++)
		if (!replay_matches(r, pcr, b, s->tpm[b]))
			return false;
	return true;
}

static bool equals_tpm(const struct epoch *ep, const struct scan *s)
{
	return replay_equals_tpm(&ep->replay, ep->pcr, s);
}

/*
 * The TPM holds the whole log and then the last entries of the kernel's IMA
 * list (a kexec'd kernel's boot_aggregate; at a rejoin, what an IMA measure
 * policy added while the daemon's connection was down): find the shortest
 * such tail and put it in rec->imported, to be written, with ep->replay and
 * ep->entries past it. -ENOENT if none fits.
 */
static int import_kernel_tail(struct epoch *ep, const struct scan *s, struct recovery *rec)
{
	struct replay *r = malloc(sizeof(*r));
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	struct buf list = {}, offs = {}; /* offs: each entry's offset in list */
	size_t off, used, n = 0;
	int err;

	err = r ? kernel_ima_read(&list) : -ENOMEM;
	for (off = 0; !err && off < list.len; off += used, n++) {
		err = template_decode(list.p + off, list.len - off, &e, &used, why);
		err = err ?: e.pcr == ep->pcr ? 0 : -ENOENT; /* only PCR 10 entries fit */
		err = err ?: buf_put(&offs, &off, sizeof(off));
	}
	for (size_t k = 1; !err && k <= n; k++) { /* the last k entries, fewest first */
		size_t start = ((const size_t *)offs.p)[n - k];

		*r = ep->replay;
		for (off = start; !err && off < list.len; off += used) {
			err = template_decode(list.p + off, list.len - off, &e, &used, why);
			err = err ?: replay_entry(r, &e);
		}
		if (err || !replay_equals_tpm(r, ep->pcr, s))
			continue;
		err = buf_put(&rec->imported, list.p + start, list.len - start);
		if (err)
			break;
		ep->replay = *r;
		ep->entries += k;
		for (size_t b = 0; b < r->nbanks; b++)
			replay_settle(&ep->replay, ep->pcr, b, s->tpm[b]);
		pr_notice("%s: PCR %u holds the log and then the kernel's last %zu IMA entries (a "
			  "kexec: the new kernel's boot_aggregate; or, while bima ran, an IMA "
			  "measure policy); importing them into the log",
			  ep->dir, ep->pcr, k);
		goto out;
	}
	err = err ?: -ENOENT;
out:
	free(r);
	buf_free(&list);
	buf_free(&offs);
	return err;
}

static int mark(struct epoch *ep, struct recovery *rec, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int mark(struct epoch *ep, struct recovery *rec, const char *name, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	return template_encode_buf(&rec->marks, ep->pcr, name, text, n);
}

/*
 * The tail extended at start, recorded right after it: the TPM then says
 * how many entries, and which bytes, were extended from the log alone, not
 * from records a daemon read (recover.h). First of the recovery's marks.
 */
static int tail_mark(struct epoch *ep, struct recovery *rec, const struct tail_span *t)
{
	struct buf marks = rec->marks;
	int err;

	rec->marks = (struct buf){};
	err = mark(ep, rec, TAIL_NAME,
		   "entries=%llu bytes=%zu first_segment=%u first_byte=%zu last_segment=%u "
		   "last_byte=%zu",
		   (unsigned long long)t->entries, t->bytes, t->first_segment, t->first_byte,
		   t->last_segment, t->last_byte);
	err = err ?: buf_put(&rec->marks, marks.p, marks.len);
	buf_free(&marks);
	return err;
}

/*
 * What the daemon goes on from, of an entry of the log: the epoch's last
 * snapshot id (the next one goes above it), and what it logged, which it
 * does not log again: the template digest, or for an ima-ng entry after a
 * bima_container mark, the key the collector compares (container.h).
 */
static int remember(struct epoch *ep, struct log_cursor *c, const struct template_entry *e,
		    struct attrib_reader *ar)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_fields f;
	struct attribution a;
	struct snapshot s;
	uint8_t key[TEMPLATE_DIGEST_SIZE];

	if (template_fields(e, &f, why))
		return 0; /* verify tells what is wrong with it */
	/* A violation's data is not covered by the PCR: it is no snapshot and no mark. */
	if (template_is_violation(e))
		return 0;
	if (template_record(e, &f, SNAPSHOT_NAME) &&
	    !snapshot_parse((const char *)f.extra, f.extra_len, &s) && s.id > ep->last_snapshot)
		ep->last_snapshot = s.id;
	if (attrib_next(ar, log_cursor_segment(c), e, &f, &a) > 0 && a.cgroup_id &&
	    !strcmp(e->name, "ima-ng")) {
		int err = container_entry_key(e->digest, &a, key);

		return err ?: digestset_add(&ep->logged, key);
	}
	return digestset_add(&ep->logged, e->digest);
}

/* The cursor stopped on a bad entry: cut a torn tail off, or record corruption. */
static int bad_entry(struct epoch *ep, struct recovery *rec, struct log_cursor *c, int err)
{
	unsigned int seg = log_cursor_segment(c);
	size_t off = log_cursor_offset(c), torn = 0;

	if (err == -EPIPE && seg == log_cursor_last_segment(c)) {
		char path[LOG_PATH_MAX + 32];
		FILE *f;

		snprintf(path, sizeof(path), "%s/segment-%06u.bin", ep->dir, seg);
		f = fopen(path, "r");
		if (f && !fseek(f, 0, SEEK_END))
			torn = ftell(f) - off;
		if (f)
			fclose(f);
		err = log_cut_segment(ep->dir, seg, off);
		if (err) {
			pr_err("%s: cannot cut the torn tail: %s", path, strerror(-err));
			return err;
		}
		pr_warn("%s: cut a torn last entry of %zu bytes at byte %zu (a write that never "
			"completed, so never extended); recorded in the log",
			path, torn, off);
		return mark(ep, rec, TORN_NAME, "segment=%u offset=%zu bytes=%zu", seg, off, torn);
	}
	pr_err("%s; the log cannot be replayed past it, recorded as inconsistent",
	       log_cursor_error(c));
	return mark(ep, rec, INCONSISTENT_NAME, "reason=corrupt_entry segment=%u offset=%zu", seg,
		    off);
}

/*
 * One more entry after the last match, ending at byte end of segment seg:
 * in memory while the window has room (the first always has), else only
 * counted, and where the rest begins noted, to be read back.
 */
static int tail_add(struct recovery *rec, struct tail_span *t, unsigned int seg, size_t end,
		    const uint8_t *raw, size_t len)
{
	if (!t->bytes)
		*t = (struct tail_span){ .first_segment = seg, .first_byte = end - len };
	t->bytes += len;
	t->last_segment = seg;
	t->last_byte = end - 1;
	if (!rec->rest_bytes && (!rec->tail.len || rec->tail.len + len <= RECOVER_WINDOW))
		return buf_put(&rec->tail, raw, len);
	/* Never the first entry, so never an anchor's: this is where it lies in a segment. */
	if (!rec->rest_bytes)
		rec->rest = (struct log_spot){ .segment = seg, .offset = end - len };
	rec->rest_bytes += len;
	rec->rest_entries++;
	return 0;
}

/* No tail (the TPM holds it all, or none of it is to be extended). */
static void tail_clear(struct recovery *rec, struct tail_span *t)
{
	rec->tail.len = 0;
	rec->rest_bytes = 0;
	rec->rest_entries = 0;
	rec->tail_entries = 0;
	*t = (struct tail_span){};
}

/*
 * A scan of an epoch's log, replaying it (recover.h): where the replay last
 * equals the TPM (s) and the entries after that, the tail (rec.tail, t).
 * count: the entries read, with those before an anchor the log starts
 * from. ep is the scan's own: a start's, or a rejoin's fresh one.
 */
struct recover_scan {
	struct epoch ep;
	struct log_cursor *c;
	struct scan s;
	struct tail_span t;
	struct attrib_reader ar;
	struct recovery rec;
	uint64_t count;
	bool remember;	    /* note what the log holds in ep.logged (a start; a daemon has it) */
	bool follow;	    /* read on to the log's end as the daemon writes it (a rejoin) */
	bool in_segments;   /* the cursor read past any anchor entry: at is where it is */
	struct log_spot at; /* where the entry after the last one read begins */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Entries read between looks at the clock. */
#define SCAN_STEP 64

/*
 * Read the log from the cursor on, until its end (0) or, with until_ms,
 * until that time (1: more to read).
 */
static int scan_log(struct recover_scan *sc, long long until_ms)
{
	struct epoch *ep = &sc->ep;
	struct log_cursor *c = sc->c;
	struct template_entry e;
	const uint8_t *raw;
	size_t raw_len, end;
	unsigned int n = 0;
	int err, fail = 0; /* an error of the scan's own, not of the log's */

	while (!fail && (err = log_cursor_next(c, &e)) > 0) {
		if (e.pcr != ep->pcr) {
			pr_err("%s: the log of this TPM epoch extends PCR %u, not PCR %u: run with "
			       "--pcr %u, or give another --log-dir",
			       ep->dir, e.pcr, ep->pcr, e.pcr);
			fail = -EINVAL;
			break;
		}
		fail = replay_entry(&ep->replay, &e);
		if (fail)
			break;
		sc->count++;
		if (sc->remember && remember(ep, c, &e, &sc->ar) < 0)
			pr_warn("out of memory: entries already logged may be logged again");
		log_cursor_raw(c, &raw, &raw_len);
		/* An anchor's entry, read from its own file, is taken as its segment's first. */
		end = log_cursor_at_anchor(c) ? raw_len : log_cursor_offset(c);
		if (!log_cursor_at_anchor(c)) {
			sc->in_segments = true;
			sc->at = (struct log_spot){ log_cursor_segment(c), end };
		}
		fail = tail_add(&sc->rec, &sc->t, log_cursor_segment(c), end, raw, raw_len);
		if (fail)
			break;
		if (equals_tpm(ep, &sc->s)) {
			sc->s.matched = true;
			sc->s.match_entries = sc->count;
			replay_save(&ep->replay, ep->pcr, &sc->s.match);
			tail_clear(&sc->rec, &sc->t);
		}
		if (until_ms && ++n % SCAN_STEP == 0 && mono_ms() >= until_ms)
			return 1;
	}
	if (!fail && err < 0)
		sc->follow = false; /* the log is not read past a bad entry: it ends there */
	return fail ?: err < 0 ? bad_entry(ep, &sc->rec, c, err) : 0;
}

/* No prefix of the log is in the TPM: said, and recorded as inconsistent. */
static int no_match(struct epoch *ep, const struct scan *s, struct recovery *rec, uint64_t count)
{
	char want[2 * HASHALG_MAX_SIZE + 1], have[2 * HASHALG_MAX_SIZE + 1];
	size_t b = ep->replay.nbanks - 1;

	hex_encode(replay_value(&ep->replay, ep->pcr, b), ep->replay.banks[b]->size, want);
	hex_encode(s->tpm[b], ep->replay.banks[b]->size, have);
	pr_err("%s: the TPM's PCR %u matches no prefix of this epoch's log (%s: log %s, "
	       "TPM %s); something else extended it, or the log was altered. Recorded as "
	       "inconsistent: this epoch's log will not verify",
	       ep->dir, ep->pcr, ep->replay.banks[b]->name, want, have);
	ep->entries = count;
	tail_clear(rec, &(struct tail_span){});
	return mark(ep, rec, INCONSISTENT_NAME, "reason=tpm_mismatch pcr=%u entries=%lu", ep->pcr,
		    (unsigned long)count);
}

/* A tail longer than a daemon leaves: appended while none ran. Said, and recorded. */
static int tail_too_long(struct epoch *ep, const struct tail_span *t, struct recovery *rec,
			 uint64_t count)
{
	pr_err("%s: %llu entries (%zu bytes, from segment %u byte %zu) are in the log but "
	       "not in the TPM, more than a daemon leaves unextended (%u bytes at most): "
	       "they were appended while no daemon ran. Not extended; recorded as "
	       "inconsistent: this epoch's log will not verify",
	       ep->dir, (unsigned long long)t->entries, t->bytes, t->first_segment, t->first_byte,
	       RECOVER_TAIL_MAX);
	ep->entries = count;
	tail_clear(rec, &(struct tail_span){});
	return mark(ep, rec, INCONSISTENT_NAME,
		    "reason=tail_too_long entries=%llu bytes=%zu first_segment=%u "
		    "first_byte=%zu",
		    (unsigned long long)t->entries, t->bytes, t->first_segment, t->first_byte);
}

/*
 * What the scan found: nothing, a log the TPM does not hold (kernel IMA's
 * tail aside), a tail too long to be a daemon's, or a tail to extend.
 */
static int settle_scan(struct epoch *ep, struct scan *s, struct tail_span *t, struct recovery *rec,
		       uint64_t count)
{
	if (!count)
		return rec->marks.len ? 0 : -ENOENT;
	if (!s->matched && ep->pcr == 10 && ep->kernel_ima && !rec->marks.len) {
		ep->entries = count;
		if (!import_kernel_tail(ep, s, rec)) {
			tail_clear(rec, t);
			return 0;
		}
	}
	if (!s->matched)
		return no_match(ep, s, rec, count);
	t->entries = count - s->match_entries;
	if (t->bytes > RECOVER_TAIL_MAX)
		return tail_too_long(ep, t, rec, count);
	rec->tail_entries = t->entries;
	/* The TPM has the log up to the last match: the rest is the tail to extend. */
	replay_restore(&ep->replay, ep->pcr, &s->match);
	for (size_t b = 0; b < ep->replay.nbanks; b++)
		replay_settle(&ep->replay, ep->pcr, b, s->tpm[b]);
	ep->entries = s->match_entries;
	if (!t->bytes)
		return 0;
	pr_notice("%s: %lu entries are durable in the log but not in the TPM (the "
		  "daemon or the TPM stopped between their write and their extends); "
		  "extending them, and recording it in a %s entry (segment %u byte %zu "
		  "to segment %u byte %zu)",
		  ep->dir, (unsigned long)t->entries, TAIL_NAME, t->first_segment, t->first_byte,
		  t->last_segment, t->last_byte);
	return tail_mark(ep, rec, t);
}

void recover_scan_free(struct recover_scan *sc)
{
	if (!sc)
		return;
	log_cursor__free(sc->c);
	attrib_reader_free(&sc->ar);
	recovery_free(&sc->rec);
	free(sc);
}

/*
 * Open the log of ep's epoch, read the TPM's PCR and start a scan of it,
 * replaying into sc->ep (ep's copy). -ENOENT when the epoch has no log yet.
 */
static int scan_begin(const struct epoch *ep, struct tpm *tpm, struct recover_scan **out)
{
	struct recover_scan *sc = calloc(1, sizeof(*sc));
	const struct snapshot *start;
	int err;

	if (!sc)
		return -ENOMEM;
	sc->ep = *ep;
	err = log_cursor__open(ep->dir, 0, &sc->c);
	if (err == -ENOENT) {
		free(sc);
		return err;
	}
	if (err) {
		pr_err("%s: cannot read log: %s", ep->dir, strerror(-err));
		free(sc);
		return err;
	}
	for (size_t b = 0; b < ep->replay.nbanks && !err; b++)
		err = tpm_pcr_read(tpm, ep->pcr, ep->replay.banks[b], sc->s.tpm[b]);
	if (!err && (start = log_cursor_start(sc->c))) {
		/* Retention removed the segments before this anchor: replay from its values. */
		for (size_t b = 0; b < start->nbanks; b++)
			replay_set(&sc->ep.replay, start->pcr, start->banks[b],
				   start->pcr_value[b]);
		sc->count = start->entries;
		pr_info("%s: the log starts at anchor %llu (entry %llu); the segments before it "
			"were removed by retention",
			ep->dir, (unsigned long long)start->id, (unsigned long long)sc->count);
	}
	/* Before the first entry: a new epoch's zero. */
	sc->s.matched = !err && equals_tpm(&sc->ep, &sc->s);
	replay_save(&sc->ep.replay, sc->ep.pcr, &sc->s.match);
	if (err) {
		recover_scan_free(sc);
		return err;
	}
	*out = sc;
	return 0;
}

/*
 * The cursor is at the log's end as it was when it was opened (it maps
 * each segment as it was then): open the log again after the last entry
 * read, for what the daemon wrote since. An anchor's entry, if the log
 * starts at one, was read: the cursor reached the end.
 */
static int scan_reopen(struct recover_scan *sc)
{
	struct template_entry e;
	struct log_cursor *c;
	int err;

	err = log_cursor__open(sc->ep.dir, 0, &c);
	if (err) {
		pr_err("%s: cannot read log: %s", sc->ep.dir, strerror(-err));
		return err;
	}
	if (sc->in_segments)
		err = log_cursor_seek(c, sc->at.segment, sc->at.offset);
	else if (log_cursor_start(c))
		err = log_cursor_next(c, &e) < 0 ? -EBADMSG : 0; /* the anchor entry, read */
	if (err) {
		pr_err("%s: cannot read the log on from segment %u byte %zu: %s", sc->ep.dir,
		       sc->at.segment, sc->at.offset, log_cursor_error(c));
		log_cursor__free(c);
		return err;
	}
	log_cursor__free(sc->c);
	sc->c = c;
	return 0;
}

int recover_epoch(struct epoch *ep, struct tpm *tpm, struct recovery *rec)
{
	struct recover_scan *sc;
	int err;

	err = scan_begin(ep, tpm, &sc);
	if (err)
		return err;
	sc->remember = true;
	err = scan_log(sc, 0);
	err = err ?: settle_scan(&sc->ep, &sc->s, &sc->t, &sc->rec, sc->count);
	*ep = sc->ep; /* with what it remembered, on failure too, as before */
	*rec = sc->rec;
	sc->rec = (struct recovery){};
	recover_scan_free(sc);
	return err;
}

/*
 * The TPM's PCR is as the scan read it at its start: else (a TPM that went
 * away and came back from an older state, or something else extended it)
 * the tail it found is not what the TPM lacks, and it must begin anew.
 */
static int tpm_unchanged(const struct recover_scan *sc, struct tpm *tpm)
{
	const struct replay *r = &sc->ep.replay;
	uint8_t value[HASHALG_MAX_SIZE];
	int err;

	for (size_t b = 0; b < r->nbanks; b++) {
		err = tpm_pcr_read(tpm, sc->ep.pcr, r->banks[b], value);
		if (err)
			return err;
		if (memcmp(value, sc->s.tpm[b], r->banks[b]->size)) {
			pr_warn("%s: PCR %u changed while the log was read again; reading it again",
				sc->ep.dir, sc->ep.pcr);
			return -EAGAIN;
		}
	}
	return 0;
}

int recover_scan_step(struct recover_scan *sc, struct epoch *ep, struct tpm *tpm, int slice_ms,
		      struct recovery *rec)
{
	long long until = slice_ms ? mono_ms() + slice_ms : 0;
	bool fresh = false; /* the cursor was opened in this call: no write since */
	int err;

	for (;;) {
		err = scan_log(sc, until);
		if (err)
			return err < 0 ? err : 0; /* 1: the slice ended */
		if (!sc->follow || fresh)
			break; /* the log's end, with no write since the cursor saw it */
		if (until && mono_ms() >= until)
			return 0; /* stale at the next call too: it opens the log again */
		err = scan_reopen(sc);
		if (err)
			return err;
		fresh = true;
	}
	err = tpm_unchanged(sc, tpm);
	err = err ?: settle_scan(&sc->ep, &sc->s, &sc->t, &sc->rec, sc->count);
	if (err)
		return err;
	/* Not ep.logged: the daemon added to it while the scan ran, and it holds the log. */
	ep->replay = sc->ep.replay;
	ep->entries = sc->ep.entries;
	*rec = sc->rec;
	sc->rec = (struct recovery){};
	return 1;
}

uint64_t recover_scan_read(const struct recover_scan *sc)
{
	return sc->count;
}

/*
 * Whether the TPM holds the replay and then next's first entry: an extend
 * that was done though its answer was lost. If so, the replay takes it.
 */
static bool took_next(struct epoch *ep, const struct buf *next,
		      uint8_t value[TPM_BANKS_MAX][HASHALG_MAX_SIZE], size_t *took)
{
	struct replay *r = next && next->len ? malloc(sizeof(*r)) : NULL;
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	bool same = r != NULL;
	size_t used;

	if (r) {
		*r = ep->replay;
		same = !template_decode(next->p, next->len, &e, &used, why) && e.pcr == ep->pcr &&
		       !replay_entry(r, &e);
	}
	for (size_t b = 0; same && b < r->nbanks; b++)
		same = replay_matches(r, ep->pcr, b, value[b]);
	if (same) {
		ep->replay = *r;
		ep->entries++;
		*took = used;
	}
	free(r);
	return same;
}

int recover_rejoin(struct epoch *ep, struct tpm *tpm, bool force, const struct buf *next,
		   size_t *took, struct recover_scan **scan)
{
	uint8_t value[TPM_BANKS_MAX][HASHALG_MAX_SIZE];
	uint32_t reset, restart;
	struct epoch fresh;
	bool same = !force;
	int err;

	err = tpm_epoch(tpm, &reset, &restart);
	if (err)
		return err;
	if (reset != ep->reset || restart != ep->restart) {
		pr_err("the TPM's epoch changed while bima ran (reset count %u -> %u, restart "
		       "count %u -> %u): its PCRs no longer hold %s; stopping. Records not yet "
		       "logged stay in the ring buffer for the next bima run, which begins the "
		       "new epoch's log",
		       ep->reset, reset, ep->restart, restart, ep->dir);
		return -ESTALE;
	}
	for (size_t b = 0; b < ep->replay.nbanks; b++) {
		err = tpm_pcr_read(tpm, ep->pcr, ep->replay.banks[b], value[b]);
		if (err)
			return err;
		same = same && replay_matches(&ep->replay, ep->pcr, b, value[b]);
	}
	if (same)
		return 0;
	if (!force && took_next(ep, next, value, took)) {
		pr_notice("%s: the TPM did the last extend though its answer was lost; going on "
			  "from the entry after it",
			  ep->dir);
		return 2;
	}
	if (!force)
		pr_warn("%s: PCR %u is not where bima left it before the TPM failed; reconciling "
			"the TPM with the log, as at start",
			ep->dir, ep->pcr);
	/* ep stays as it was until the scan ends, to be compared again if it fails. */
	fresh = *ep;
	replay_init(&fresh.replay, ep->replay.banks, ep->replay.nbanks);
	fresh.entries = 0;
	/* The daemon's own, which it changes while the scan runs: the scan needs neither. */
	fresh.logged = (struct digestset){};
	fresh.ascii = NULL;
	err = scan_begin(&fresh, tpm, scan);
	if (err == -ENOENT) /* a rejoin's epoch has a log: it was removed under the daemon */
		pr_err("%s: the log of this epoch is gone; cannot reconcile the TPM with it",
		       ep->dir);
	if (err)
		return err;
	(*scan)->follow = true;
	return 1;
}

int recover_read_back(const char *epoch_dir, struct log_spot *at, size_t max, struct buf *out)
{
	char why[32];
	struct template_entry e;
	struct log_cursor *c = NULL;
	const uint8_t *raw;
	size_t raw_len, start = out->len;
	int err;

	err = log_cursor__open(epoch_dir, 0, &c);
	err = err ?: log_cursor_seek(c, at->segment, at->offset);
	while (!err && (err = log_cursor_next(c, &e)) > 0) {
		log_cursor_raw(c, &raw, &raw_len);
		if (out->len > start && out->len - start + raw_len > max)
			break;
		err = buf_put(out, raw, raw_len);
		at->segment = log_cursor_segment(c);
		at->offset = log_cursor_offset(c);
		err = err ?: out->len - start < max ? 0 : 1;
	}
	if (!err && out->len == start) {
		snprintf(why, sizeof(why), "the log ends there");
		err = -ENODATA;
	}
	if (err < 0 && c && err != -ENODATA)
		pr_err("%s: cannot read back the entries that wait for the TPM (segment %u byte "
		       "%zu): %s",
		       epoch_dir, at->segment, at->offset,
		       err == -EBADMSG || err == -EPIPE ? log_cursor_error(c) : strerror(-err));
	else if (err < 0)
		pr_err("%s: cannot read back the entries that wait for the TPM (segment %u byte "
		       "%zu): %s",
		       epoch_dir, at->segment, at->offset, err == -ENODATA ? why : strerror(-err));
	log_cursor__free(c);
	return err < 0 ? err : 0;
}

int recover_extend_tail(struct epoch *ep, struct tpm *tpm, struct recovery *rec)
{
	uint64_t want = ep->entries + rec->tail_entries;
	struct log_spot at = rec->rest;
	size_t left = rec->rest_bytes, done = 0;
	int err;

	err = epoch_extend(ep, tpm, &rec->tail, &done, 0);
	if (!err && left)
		pr_info("%s: the tail's last %zu bytes (%llu entries) are read back from the log, "
			"%u bytes at a time, from segment %u byte %zu",
			ep->dir, left, (unsigned long long)rec->rest_entries, RECOVER_WINDOW,
			at.segment, at.offset);
	while (!err && left) {
		rec->tail.len = 0;
		done = 0;
		err = recover_read_back(ep->dir, &at, left < RECOVER_WINDOW ? left : RECOVER_WINDOW,
					&rec->tail);
		if (!err && rec->tail.len > left)
			err = -EBADMSG; /* an entry that straddles the tail's end: not the scan's */
		err = err ?: epoch_extend(ep, tpm, &rec->tail, &done, 0);
		left -= err ? 0 : rec->tail.len;
	}
	if (!err && ep->entries != want)
		err = -EBADMSG;
	if (err == -EBADMSG)
		pr_err("%s: the log changed while its tail was extended (segment %u byte %zu): "
		       "it no longer holds the entries the scan found there",
		       ep->dir, at.segment, at.offset);
	rec->tail.len = 0;
	rec->rest_bytes = 0;
	return err;
}

void recovery_free(struct recovery *rec)
{
	buf_free(&rec->tail);
	buf_free(&rec->imported);
	buf_free(&rec->marks);
}
