// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop. Records read from the ring buffer become log entries;
 * each round writes them with one fdatasync (group commit), then extends
 * the TPM for at most EXTEND_SLICE_MS. Their kernel sequence numbers go
 * into a bima_seq entry, which costs an extend and a line of the ASCII
 * list: it is written only now and then (cover_due()), covering every
 * record logged since the last one, and only then are those records freed.
 *
 * - A record is freed only when its entry and a bima_seq entry with its
 *   number are durable: a daemon killed at any point leaves the rest in
 *   the ring buffer for the next one, which reads them again and logs no
 *   entry twice (their digests are in the log: recover.c remembers them),
 *   but their numbers in its next bima_seq entry.
 * - A write that fails (full disk, I/O error) is cut back; the records stay
 *   in the ring buffer and the write is retried with backoff. Should the ring
 *   buffer fill up meanwhile, the kernel counts what it drops, and the loss
 *   is logged once writing works again.
 * - A TPM that fails keeps its entries queued, durable in the log, and they
 *   are extended, in order, when it answers again, after a check that it
 *   still holds what the log says (recover_rejoin).
 * - The log never waits on the TPM for longer than a slice, nor at all
 *   while records fill the ring buffer: a slow TPM (real ones take 3 to
 *   20 ms an extend) or a burst leaves durable entries queued in order (4
 *   MiB of them in memory, the rest read back from the log), the PCR behind
 *   the log, and the loop polls without sleeping until the TPM has caught
 *   up. `bima status` shows the lag.
 * - Under --fail-closed each loop renews the daemon's heartbeat in the
 *   kernel: the hooks deny what they cannot record once it is stale.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "ak.h"
#include "anchor.h"
#include "collector.h"
#include "container.h"
#include "control.h"
#include "epoch.h"
#include "kernel_ima.h"
#include "loader.h"
#include "notify.h"
#include "metrics.h"
#include "msg.h"
#include "policy.h"
#include "recover.h"
#include "ringbuf.h"
#include "runstate.h"
#include "seqset.h"
#include "snapshot.h"
#include "uhash.h"

_Static_assert(offsetof(struct bima_event, path) == sizeof(struct bima_event),
	       "a record's path starts right after its fixed part");

#define POLL_MS 200	   /* longest wait for records: the commit latency bound */
#define BATCH_RECORDS 4096 /* records per group commit at most */
#define EXTEND_SLICE_MS 10 /* longest a loop round extends, records waiting or not */
#define EXTEND_STEP 4	   /* entries extended between looks at the clock */
/*
 * Durable entries that wait for the TPM are kept in memory up to this many
 * bytes (about 36,000 new files, 90 s of a TPM that takes 400 extends a
 * second); the rest are read back from the log when their turn comes.
 * UNEXTENDED_MAX (recover.h) bounds them all: no record is read that could
 * take them past it, counting RECORD_BYTES_MAX a record (an entry, with a
 * container mark and a userspace-hash mark, each with a path of PATH_MAX).
 */
#define UNEXTENDED_WINDOW (4u << 20)
#define RECORD_BYTES_MAX (16u << 10)
#define BACKOFF_MAX_MS 30000
#define LOST_NAME "bima_lost_events"
#define SEQ_NAME "bima_seq"
#define SEQ_TEXT_MAX 2048 /* bytes of ranges per bima_seq entry */
/*
 * When a bima_seq entry is due (cover_due()): after this many records, or
 * once the records held take this fraction of the ring buffer (so that they
 * never fill it), or this long after the first record it would cover. At
 * one file a second, SEQ_WINDOW_MS makes 60 files an entry: 1.02 extends a
 * file. Meanwhile the records just stay in the ring buffer.
 */
#define SEQ_RECORDS 1024
/*
 * While records not yet logged take this fraction of the ring buffer, a
 * round reads the next batch at once instead of extending: the log first,
 * the TPM after (the queue waits in the log), so that the ring buffer does
 * not overflow while the TPM takes the CPU.
 */
#define RING_BUSY_SHARE 8
#define SEQ_HELD_SHARE 4 /* 1/4 of the ring buffer */
#define SEQ_WINDOW_MS 60000
#define KEXEC_NAME "kexec_execute"
#define BPF_PROG_NAME "bpf_prog"
#define KEXEC_LOADED "/sys/kernel/kexec_loaded"

/* A group of entries queued for the TPM: where it ends in the queue, and when. */
struct queued {
	uint64_t end;
	long long ms;
};

/* Retry with a delay that doubles from POLL_MS up to BACKOFF_MAX_MS. */
struct backoff {
	long long next_ms; /* no retry before this time; 0 when all is well */
	long long delay_ms;
};

struct collector {
	struct epoch ep;
	const char *tcti;
	struct tpm *tpm; /* NULL after a failure, until it can be opened again */
	struct log *log;
	struct loader *bpf;
	struct ringbuf *rb;
	struct buf batch; /* entries for records read but not yet freed */
	unsigned int batch_records;
	uint64_t batch_drops;		 /* bima_stats.dropped recorded by the batch */
	struct buf scratch;		 /* one entry's template data */
	struct seqset seqs;		 /* the batch's kernel sequence numbers */
	struct seqset uncovered;	 /* logged before the batch, in no bima_seq entry yet */
	struct seqset cover;		 /* the numbers a bima_seq entry is being made of */
	uint64_t uncovered_records;	 /* records kept in the ring buffer for a bima_seq */
	long long uncovered_ms;		 /* since when the first of them waits; 0: none */
	bool cover_next;		 /* the next round writes a bima_seq entry, due or not */
	bool draining;			 /* a stop: every round writes one */
	bool batch_loss;		 /* the batch has a loss entry */
	struct digestset batch_logged;	 /* template digests of the batch's measurements */
	uint64_t batch_repeats, repeats; /* measurements the log has already: not logged */
	bool uhash_told;		 /* the first userspace hash was announced */
	bool forgot_told;		 /* the epoch's digest set was said to be full */
	struct cgroups *cgroups;	 /* cgroup id -> path and container */
	bool ct_template;		 /* file entries are bima-ct; else ima-ng and marks */
	struct attribution mark;	 /* ima-ng: the segment's last bima_container mark */
	bool marked, batch_marked;	 /* whether there is one; at the batch's start */
	struct attribution batch_mark;
	struct snapshot snap;  /* a snapshot logged, its anchor not yet recorded */
	struct buf snap_entry; /* and its entry */
	struct tpm_ak ak;      /* the attestation key, for the quotes of snapshots */
	bool ak_ok;
	bool snap_pending;	    /* its entry is not yet in the TPM, or not quoted */
	uint64_t snap_end;	    /* where it ends in the queue: extends stop there */
	uint64_t snap_entries;	    /* the settings: every so many entries */
	uint32_t snap_interval;	    /* or seconds */
	uint64_t snap_last_entries; /* ep.entries at the last snapshot */
	time_t snap_last_time;
	enum retention retention; /* what becomes of segments before a quoted anchor */
	unsigned int retention_anchors;
	char load_id[LOADER_LOAD_ID_LEN]; /* the numbers start at 0 with each load */
	/*
	 * The queue: durable entries for the TPM, in log order, counted in
	 * bytes from its start. Bytes base to base + unextended.len of it are
	 * in memory (the window); past them, while spilled, the rest are in
	 * the log only, from spill on, up to queued_bytes.
	 */
	struct buf unextended;
	uint64_t base;
	uint64_t extended;     /* bytes of the queue already extended */
	uint64_t queued_bytes; /* bytes in the queue */
	bool spilled;
	struct log_spot spill;
	bool spill_told;	   /* that the queue went past the window, once */
	size_t window;		   /* bytes the window holds at most */
	struct buf queued;	   /* struct queued, in order: the lag's clock */
	size_t queued_head;	   /* of them, the first that may still wait */
	uint64_t queued_entries;   /* entries in the queue */
	uint64_t extended_entries; /* and of those, extended */
	uint64_t logged;	   /* records logged by this daemon */
	uint64_t drops_logged;	   /* bima_stats.dropped recorded in the log */
	uint64_t denied;	   /* bima_stats.denied already reported */
	struct backoff disk, tpm_retry;
	long long waiting_ms; /* what the hooks were told of the oldest waiting entry; 0: none */
	bool waiting_told;    /* that telling them failed */
	bool fail_closed;
	uint32_t grace_ms;
	bool reconcile;		 /* a rejoin read the log but could not queue what it found */
	struct control *ctl;	 /* the control socket, or NULL */
	const char *log_dir;	 /* --log-dir, for `bima status` */
	uint64_t protect_denied; /* bima_stats.protect_denied already reported */
	/* For the metrics: entries logged by hook (the batch's until it is durable) */
	uint64_t hook_logged[CONTROL_HOOKS], batch_hooks[CONTROL_HOOKS];
	uint64_t tpm_errors;	     /* extends and reconnections that failed */
	time_t start_time;	     /* when this daemon started */
	struct metrics_file metrics; /* --metrics-file */
};

static volatile sig_atomic_t stopping, snapshot_asked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		snapshot_asked = 1; /* `bima snapshot` */
	else
		stopping = 1;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void backoff_fail(struct backoff *b)
{
	b->delay_ms = b->delay_ms ? b->delay_ms * 2 : POLL_MS;
	if (b->delay_ms > BACKOFF_MAX_MS)
		b->delay_ms = BACKOFF_MAX_MS;
	b->next_ms = now_ms() + b->delay_ms;
}

static bool backoff_waiting(const struct backoff *b)
{
	return b->next_ms && now_ms() < b->next_ms;
}

static const char *hook_name(unsigned int hook)
{
	const char *name = hook == BIMA_REC_POLICY ? "POLICY_SWITCH" : policy_func_name(hook);

	return name ? name : "?";
}

/*
 * A loss the verifier must see: an ima-buf entry whose buffer says how many
 * events were lost and why, and which is extended like any other.
 */
static int log_loss(struct collector *c, uint64_t count, const char *why)
{
	char text[128];
	int n;

	n = snprintf(text, sizeof(text), "lost=%lu reason=%s load=%s", (unsigned long)count, why,
		     c->load_id);
	pr_err("%lu measurement(s) lost: %s; recorded in the log", (unsigned long)count, why);
	c->batch_loss = true; /* with the numbers of what was logged, at once */
	return template_encode_buf(&c->batch, c->ep.pcr, LOST_NAME, text, n);
}

/*
 * Add to the batch what the kernel dropped and the log does not have yet;
 * report operations denied for want of a record (--fail-closed).
 */
static int account_drops(struct collector *c)
{
	struct bima_stats st;
	int err = loader_stats(c->bpf, &st);

	if (!err && st.denied > c->denied) {
		pr_warn("--fail-closed denied %lu operation(s) that could not be recorded "
			"(%lu since the programs were loaded)",
			(unsigned long)(st.denied - c->denied), (unsigned long)st.denied);
		c->denied = st.denied;
	}
	if (!err)
		protect_report(&st, &c->protect_denied);
	if (err || st.dropped <= c->drops_logged)
		return err;
	err = log_loss(c, st.dropped - c->drops_logged, "ring_buffer_full");
	c->batch_drops = st.dropped;
	return err;
}

/*
 * Whether the log (or the batch) has the entry whose template hash is th
 * already: as IMA, bima does not log the same template digest twice in an
 * epoch. A file measured again with the same content and path (the cache
 * forgot it) is such an entry. An ima-ng entry's attribution a is in its
 * marks, not its digest: it is compared too (container_entry_key()), so
 * that a file used in another container is logged again.
 */
static bool repeated(struct collector *c, const uint8_t th[TEMPLATE_DIGEST_SIZE],
		     const struct attribution *a)
{
	uint8_t key[TEMPLATE_DIGEST_SIZE];
	const uint8_t *d = th;

	if (a && !c->ct_template) {
		if (container_entry_key(th, a, key))
			return false;
		d = key;
	}
	if (digestset_has(&c->ep.logged, d) || digestset_add(&c->batch_logged, d) == 0) {
		c->batch_repeats++;
		return true;
	}
	return false; /* an allocation failure logs it again: nothing is lost */
}

/*
 * A BPF program's entry: ima-buf named "bpf_prog" whose buffer is the
 * measured content, "tag=TAG name=NAME", and whose d-ng is its sha256.
 */
static int log_bpf_prog(struct collector *c, const struct bima_event *ev)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	uint8_t d[HASHALG_MAX_SIZE], th[TEMPLATE_DIGEST_SIZE];
	char tag[2 * 8 + 1], text[64];
	int n, err;

	hex_encode(ev->digest, 8, tag);
	n = snprintf(text, sizeof(text), "tag=%s name=%.16s", tag, ev->path_len ? ev->path : "");
	pr_debug("#%lu BPF_CHECK pid %u (%.16s) %s", (unsigned long)ev->seq, ev->tgid, ev->comm,
		 text);
	hashalg_digest(sha256, text, n, d);
	c->scratch.len = 0;
	err = template_data_ng(&c->scratch, sha256, d, BPF_PROG_NAME, (const uint8_t *)text, n);
	err = err ?: template_hash(c->scratch.p, c->scratch.len, th);
	if (err || repeated(c, th, NULL))
		return err;
	return template_encode_hashed(&c->batch, c->ep.pcr, "ima-buf", c->scratch.p, c->scratch.len,
				      th);
}

/*
 * The mark before an entry whose file bima hashed itself (uhash.h): an
 * ima-buf entry whose buffer names the record, "seq=N hook=H".
 */
static int log_uhash_mark(struct collector *c, const struct bima_event *ev)
{
	char text[96];
	int n = snprintf(text, sizeof(text), "seq=%lu hook=%s load=%s", (unsigned long)ev->seq,
			 hook_name(ev->hook), c->load_id);

	return template_encode_buf(&c->batch, c->ep.pcr, UHASH_NAME, text, n);
}

/*
 * ima-ng logs: a bima_container mark before an entry whose cgroup or mount
 * namespace is not the last mark's in this segment. The mark applies to
 * the entries after it, up to the next mark or the end of the segment.
 */
static int log_container_mark(struct collector *c, const struct attribution *a)
{
	struct buf text = {};
	int err;

	if (c->marked && c->mark.cgroup_id == a->cgroup_id && c->mark.mnt_ns == a->mnt_ns)
		return 0;
	err = container_mark_format(&text, a);
	err = err
		      ?: template_encode_buf(&c->batch, c->ep.pcr, CONTAINER_MARK_NAME,
					     (const char *)text.p, text.len);
	buf_free(&text);
	if (!err) {
		c->mark = *a;
		c->mark.cgroup = ""; /* only the ids are compared */
		c->marked = true;
	}
	return err;
}

static int entry_from_event(struct collector *c, const struct bima_event *ev)
{
	struct attribution a = { .mnt_ns = ev->mnt_ns };
	static const uint8_t zero[HASHALG_MAX_SIZE];
	const struct hashalg *alg = NULL;
	const uint8_t *digest = ev->digest;
	const char *path = ev->path_len ? ev->path : "<unknown>";
	bool violation = ev->flags & (BIMA_EV_TOMTOU | BIMA_EV_OPEN_WRITERS), uhashed = false;
	uint8_t udigest[HASHALG_MAX_SIZE], th[TEMPLATE_DIGEST_SIZE];
	char why[UHASH_WHY_LEN];
	int err;

	if (ev->hook == BIMA_HOOK_BPF_CHECK)
		return log_bpf_prog(c, ev);
	if (ev->hash_algo >= 0)
		alg = hashalg_by_kernel_id(ev->hash_algo);
	if (violation) {
		/* IMA's violation entry: a zero digest, extended as all 0xff. */
		pr_warn("%s violation: %s %s by pid %u (%.16s); logged",
			ev->flags & BIMA_EV_TOMTOU ? "ToMToU" : "open_writers", hook_name(ev->hook),
			path, ev->tgid, ev->comm);
		digest = zero;
	} else if (!alg && uhash_applies(ev)) {
		alg = hashalg_by_name("sha256", 6); /* IMA's default */
		uhashed = !uhash_file(ev, alg, udigest, why);
		digest = uhashed ? udigest : zero;
		if (uhashed && !c->uhash_told)
			pr_notice("files the kernel cannot hash (%s: %s) are hashed here, in "
				  "userspace, and marked so in the log (%s entries)",
				  path, strerror(-ev->hash_algo), UHASH_NAME);
		c->uhash_told |= uhashed;
		if (!uhashed)
			pr_warn("%s %s: not hashed (kernel: %s; userspace: %s)",
				hook_name(ev->hook), path, strerror(-ev->hash_algo), why);
	} else if (!alg) {
		/* An entry with a zero digest: the file was seen but not measured. */
		pr_warn("%s %s: not hashed (%s)", hook_name(ev->hook), path,
			ev->hash_algo < 0 ? strerror(-ev->hash_algo) : "unknown hash algorithm");
		digest = zero;
	}
	if (!alg)
		alg = hashalg_by_name("sha256", 6);
	if (ev->hook == BIMA_REC_POLICY || msg_max_level >= MSG_DEBUG) {
		char hex[2 * HASHALG_MAX_SIZE + 1];

		hex_encode(digest, alg->size, hex);
		if (ev->hook == BIMA_REC_POLICY)
			pr_info("#%lu: the policy sha256:%s came into force (put by pid %u, %.16s)",
				(unsigned long)ev->seq, hex, ev->tgid, ev->comm);
		else
			pr_debug("#%lu %s pid %u (%.16s) %s:%s %s", (unsigned long)ev->seq,
				 hook_name(ev->hook), ev->tgid, ev->comm, alg->name, hex, path);
	}
	cgroups_lookup(c->cgroups, ev->cgroup_id, &a);
	c->scratch.len = 0;
	err = c->ct_template ? template_data_ct(&c->scratch, alg, digest, path, &a)
			     : template_data_ng(&c->scratch, alg, digest, path, NULL, 0);
	err = err ?: violation ? 0 : template_hash(c->scratch.p, c->scratch.len, th);
	if (err)
		return err;
	/* Only measurements: a policy put in force again is logged again. */
	if (!violation && ev->hook != BIMA_REC_POLICY && repeated(c, th, &a))
		return 0;
	if (uhashed)
		err = log_uhash_mark(c, ev);
	if (!c->ct_template)
		err = err ?: log_container_mark(c, &a);
	return err
		       ?: template_encode_hashed(
				  &c->batch, c->ep.pcr, c->ct_template ? TEMPLATE_CT : "ima-ng",
				  c->scratch.p, c->scratch.len, violation ? NULL : th);
}

static int on_record(void *ctx, const void *data, size_t size)
{
	struct collector *c = ctx;
	const struct bima_event *ev = data;
	bool malformed = size < sizeof(*ev) || ev->path_len > size - sizeof(*ev) ||
			 (ev->path_len && ev->path[ev->path_len - 1] != '\0');
	uint64_t repeats;
	int err;

	if (!malformed && ev->hook == BIMA_REC_CGROUP_MKDIR) {
		/* A path that is cut is no name: it is looked up instead. */
		if (ev->path_len && !(ev->flags & BIMA_EV_PATH_CUT))
			cgroups_made(c->cgroups, ev->cgroup_id, ev->path);
		return 0;
	}
	if (!malformed && ev->hook == BIMA_REC_CGROUP_RMDIR) {
		cgroups_removed(c->cgroups, ev->cgroup_id);
		return 0;
	}
	c->batch_records++;
	if (malformed)
		return log_loss(c, 1, "malformed_record");
	repeats = c->batch_repeats;
	err = seqset_add(&c->seqs, ev->seq, ev->seq) ?: entry_from_event(c, ev);
	if (!err && c->batch_repeats == repeats && ev->hook < CONTROL_HOOKS)
		c->batch_hooks[ev->hook]++; /* an entry for it is in the batch */
	return err;
}

/*
 * After the batch's records, bima_seq entries with the sequence numbers of
 * every record logged since the last: "load=L seq=12-40,42". With the loss
 * entries they let a verifier see that no record was taken from the ring
 * buffer without being logged. The numbers are put together in c->cover:
 * should the write fail, c->uncovered is as it was.
 */
static int log_seqs(struct collector *c)
{
	struct buf text = {};
	size_t next = 0;
	int err;

	err = seqset_copy(&c->cover, &c->uncovered) ?: seqset_add_set(&c->cover, &c->seqs);
	seqset_merge(&c->cover);
	while (!err && next < seqset_ranges(&c->cover)) {
		char head[48];
		int n = snprintf(head, sizeof(head), "load=%s seq=", c->load_id);

		text.len = 0;
		err = buf_put(&text, head, n);
		err = err ?: seqset_format(&c->cover, &next, &text, SEQ_TEXT_MAX);
		err = err
			      ?: template_encode_buf(&c->batch, c->ep.pcr, SEQ_NAME,
						     (const char *)text.p, text.len);
	}
	buf_free(&text);
	return err;
}

/* The entries of an encoded list the daemon made. */
static uint64_t count_entries(const uint8_t *p, size_t len)
{
	struct template_entry e;
	char why[TEMPLATE_WHY_LEN];
	uint64_t n = 0;

	for (size_t at = 0, used; at < len; at += used, n++)
		if (template_decode(p + at, len - at, &e, &used, why))
			break; /* not reached: the daemon encoded them */
	return n;
}

/* Bytes of durable entries that wait for the TPM, in memory and in the log. */
static uint64_t waiting_bytes(const struct collector *c)
{
	return c->queued_bytes - c->extended;
}

/*
 * Queue durable entries for the TPM, noting when and how many, for the lag
 * `bima status` shows: counted here once, not at each status. Entries the
 * window has no room for stay in the log only, where they were just
 * written (held: they are in memory anyway, and go in whatever the room).
 */
static int queue_put(struct collector *c, const void *p, size_t len, bool held)
{
	struct queued q = { .end = c->queued_bytes + len, .ms = now_ms() };
	int err = 0;

	if (!len)
		return 0;
	if (!c->spilled && (held || c->unextended.len + len <= c->window))
		err = buf_put(&c->unextended, p, len);
	else if (!c->spilled)
		c->spill = (struct log_spot){ .segment = log_segment(c->log),
					      .offset = log_durable(c->log) - len };
	if (!err && !c->spilled && c->base + c->unextended.len < c->queued_bytes + len &&
	    !c->spill_told) {
		pr_info("more entries wait for the TPM than the %zu bytes kept in memory: the "
			"rest are read back from the log, in order, when their turn comes",
			c->window);
		c->spill_told = true;
	}
	c->spilled |= !err && c->base + c->unextended.len < c->queued_bytes + len;
	err = err ?: buf_put(&c->queued, &q, sizeof(q));
	if (err)
		return err;
	c->queued_bytes += len;
	c->queued_entries += count_entries(p, len);
	return 0;
}

/* Entries just written at the end of the log. */
static int queue_entries(struct collector *c, const void *p, size_t len)
{
	return queue_put(c, p, len, false);
}

/* Since when (CLOCK_MONOTONIC ms) the oldest entry not yet extended waits; 0: none waits. */
static long long oldest_waiting(const struct collector *c)
{
	const struct queued *q = (const struct queued *)c->queued.p;
	size_t n = c->queued.len / sizeof(*q), i = c->queued_head;

	while (i < n && q[i].end <= c->extended)
		i++;
	return i < n ? q[i].ms : 0;
}

/* Forget the groups all extended, so that the clock does not grow with the queue. */
static void queued_drop_extended(struct collector *c)
{
	struct queued *q = (struct queued *)c->queued.p;
	size_t n = c->queued.len / sizeof(*q);

	while (c->queued_head < n && q[c->queued_head].end <= c->extended)
		c->queued_head++;
	if (c->queued_head < 1024 || c->queued_head < n / 2)
		return;
	memmove(q, q + c->queued_head, (n - c->queued_head) * sizeof(*q));
	c->queued.len = (n - c->queued_head) * sizeof(*q);
	c->queued_head = 0;
}

/*
 * Tell the hooks since when (CLOCK_MONOTONIC ms) the oldest entry waits for
 * the TPM, 0 when none does (bima_config.unextended_ns), if that changed.
 * Under self-protection they then refuse the signals that would end the
 * daemon before it extends, and under --max-extend-lag they deny what they
 * measure once the wait is too long.
 */
static void tell_waiting(struct collector *c, long long since_ms)
{
	int err;

	if (since_ms == c->waiting_ms || !c->bpf)
		return;
	err = loader_set_unextended(c->bpf, since_ms * 1000000ull);
	if (err && !c->waiting_told)
		pr_err("cannot tell the hooks that entries wait for the TPM: %s; the daemon "
		       "can be stopped before it extends them",
		       strerror(-err));
	c->waiting_told |= err != 0;
	c->waiting_ms = err ? 0 : since_ms;
}

/* Entries are about to be written that will wait for the TPM: say so before they are durable. */
static void hold(struct collector *c)
{
	if (!c->waiting_ms)
		tell_waiting(c, now_ms());
}

/* After extends, or a write that failed: since when the oldest queued entry waits. */
static void update_waiting(struct collector *c)
{
	tell_waiting(c, oldest_waiting(c));
}

/* Forget the queue, all of it extended, or to be read again from the log. */
static void queue_clear(struct collector *c)
{
	c->unextended.len = c->base = c->extended = c->queued_bytes = c->snap_end = 0;
	c->spilled = false;
	c->queued.len = c->queued_head = 0;
	c->queued_entries = c->extended_entries = 0;
}

/*
 * A new connection to a TPM that failed: if it lost extends, or did some
 * whose answer was lost, what it lacks is taken from the log (recover.h).
 */
static int rejoin(struct collector *c)
{
	struct recovery rec = {};
	int err;

	err = tpm__open(c->tcti, &c->tpm);
	err = err ?: recover_rejoin(&c->ep, c->tpm, c->reconcile, &rec);
	if (err > 0 && c->snap_pending) {
		/* Queued anew from the log: where the snapshot ends in it is not known. */
		pr_warn("snapshot %llu: the TPM was reconciled with the log before it held the "
			"snapshot: no quote, no anchor",
			(unsigned long long)c->snap.id);
		control_snapshot_done(c->ctl, c->snap.id, NULL,
				      "the TPM was reconciled with the log before it held the "
				      "snapshot: no quote, no anchor");
		c->snap_pending = false;
	}
	if (err > 0) {
		queue_clear(c);
		hold(c);
		err = epoch_write(&c->ep, c->log, &rec.marks);
		/* The tail is in memory already: RECOVER_TAIL_MAX at most. */
		err = err ?: queue_put(c, rec.tail.p, rec.tail.len, true);
		err = err ?: queue_entries(c, rec.marks.p, rec.marks.len);
		c->reconcile = err != 0; /* the next rejoin reads the log again */
	}
	recovery_free(&rec);
	return err;
}

/* Where extends stop now: the queue's end, or a snapshot that waits for its quote. */
static uint64_t extendable(const struct collector *c)
{
	return c->snap_pending ? c->snap_end : c->queued_bytes;
}

/* Whether entries wait that the TPM could take now. */
static bool extends_waiting(const struct collector *c)
{
	return extendable(c) != c->extended && !backoff_waiting(&c->tpm_retry);
}

/*
 * The window is all extended: read what follows from the log into it. A
 * log that cannot be read back stops the daemon: its entries cannot be
 * extended, and the next start reconciles the TPM with the log.
 */
static int refill(struct collector *c)
{
	uint64_t rest = c->queued_bytes - c->extended;
	int err;

	c->base = c->extended;
	c->unextended.len = 0;
	err = recover_read_back(c->ep.dir, &c->spill, rest < c->window ? rest : c->window,
				&c->unextended);
	if (err)
		return err;
	if (c->unextended.len > rest) {
		pr_err("%s: the log holds more after segment %u byte %zu than this daemon "
		       "queued for the TPM; stopping",
		       c->ep.dir, c->spill.segment, c->spill.offset);
		return -EBADMSG;
	}
	c->spilled = c->unextended.len < rest;
	return 0;
}

/*
 * Extend what is durable and not yet in the TPM, for about slice_ms (0: all
 * of it); on failure, retry later through a new connection (a restarted
 * TPM, a resource manager that went away, leave the old one dead). Returns
 * an error only when the daemon must stop: the TPM came back in another
 * epoch.
 */
static int extend_pending(struct collector *c, int slice_ms)
{
	long long until = now_ms() + slice_ms;
	int err = 0;

	if (c->extended == extendable(c) || backoff_waiting(&c->tpm_retry))
		return 0;
	if (!c->tpm)
		err = rejoin(c);
	if (err == -ESTALE)
		return err;
	/* A rejoin may have queued anew. */
	while (!err && c->extended < extendable(c)) {
		uint64_t before = c->ep.entries, end = extendable(c);
		struct buf upto = c->unextended;
		size_t done = c->extended - c->base;

		if (done == c->unextended.len) {
			err = refill(c);
			if (err)
				return err; /* the log, not the TPM: stop */
			done = 0;
			upto = c->unextended;
		}
		if (end < c->base + upto.len)
			upto.len = end - c->base;
		err = epoch_extend(&c->ep, c->tpm, &upto, &done, slice_ms ? EXTEND_STEP : 0);
		c->extended = c->base + done;
		c->extended_entries += c->ep.entries - before;
		if (slice_ms && now_ms() >= until)
			break;
	}
	queued_drop_extended(c);
	if (err) {
		c->tpm_errors++;
		if (!c->tpm_retry.next_ms)
			pr_err("TPM extend failed; %llu bytes of durable entries wait in order, "
			       "retrying with backoff",
			       (unsigned long long)waiting_bytes(c));
		backoff_fail(&c->tpm_retry);
		tpm__free(c->tpm);
		c->tpm = NULL;
		return 0;
	}
	if (c->tpm_retry.next_ms)
		pr_notice("TPM extends work again; the log and the TPM agree");
	c->tpm_retry = (struct backoff){};
	if (!waiting_bytes(c))
		queue_clear(c);
	update_waiting(c);
	return 0;
}

/*
 * Whether the round writes a bima_seq entry: asked for (a stop, a snapshot),
 * with a loss entry, or when enough records wait for one, or they take too
 * much of the ring buffer, or the first of them has waited long enough.
 */
static bool cover_due(struct collector *c)
{
	if (!seqset_ranges(&c->seqs) && !c->uncovered_records)
		return false;
	return c->cover_next || c->draining || c->batch_loss ||
	       c->uncovered_records + c->batch_records >= SEQ_RECORDS ||
	       ringbuf_held(c->rb) >= ringbuf_size(c->rb) / SEQ_HELD_SHARE ||
	       (c->uncovered_ms && now_ms() - c->uncovered_ms >= SEQ_WINDOW_MS);
}

/*
 * The records the next round may read: no more than could take what waits
 * for the TPM past UNEXTENDED_MAX, which a start trusts (recover.h). When
 * it is reached, records wait in the ring buffer for the TPM to catch up.
 */
static unsigned int batch_max(const struct collector *c)
{
	uint64_t waiting = waiting_bytes(c);
	uint64_t room =
		waiting < UNEXTENDED_MAX ? (UNEXTENDED_MAX - waiting) / RECORD_BYTES_MAX : 0;

	return room < BATCH_RECORDS ? room : BATCH_RECORDS;
}

/* After a durable write, or a round with nothing to write: what the ring buffer may free. */
static void settle(struct collector *c, bool covered)
{
	if (covered || (!seqset_ranges(&c->seqs) && !c->uncovered_records)) {
		/*
		 * Covered, or only records that make no entry (cgroups made or
		 * removed, taken into c->cgroups) and none held: free them now.
		 * Kept, a flood of them would fill the ring buffer.
		 */
		ringbuf_ack(c->rb);
		c->uncovered.ranges.len = 0;
		c->uncovered_records = 0;
		c->uncovered_ms = 0;
		c->cover_next = false;
		return;
	}
	if (seqset_add_set(&c->uncovered, &c->seqs)) {
		/* Out of memory: read them again, as repeats, for their numbers. */
		ringbuf_rewind(c->rb);
		return;
	}
	ringbuf_keep(c->rb);
	c->uncovered_records += c->batch_records;
	if (!c->uncovered_ms)
		c->uncovered_ms = now_ms();
}

/*
 * One round: read records into entries, add any new loss and, when due, a
 * bima_seq entry, write them all durably, keep the records, or free them
 * with the bima_seq entry. Every round starts where the last one kept (a
 * failed write rewinds). Returns the records taken, or a negative error
 * that stops the daemon.
 */
static int round_trip(struct collector *c, unsigned int max)
{
	uint64_t forgot;
	bool covered;
	int n, err;

	c->batch.len = 0;
	c->batch_records = 0;
	c->batch_drops = c->drops_logged;
	c->batch_loss = false;
	c->seqs.ranges.len = 0;
	c->batch_repeats = 0;
	memset(c->batch_hooks, 0, sizeof(c->batch_hooks));
	c->batch_marked = c->marked;
	c->batch_mark = c->mark;
	digestset_clear(&c->batch_logged);
	n = ringbuf_read(c->rb, on_record, c, max);
	err = n < 0 ? n : c->bpf ? account_drops(c) : 0; /* no hooks: collector_bench() */
	covered = !err && cover_due(c);
	err = err ?: covered ? log_seqs(c) : 0;
	if (err) {
		pr_err("cannot build log entries: %s", strerror(-err));
		return err;
	}
	if (!c->batch.len) {
		/* Records that are all repeats, or make no entry: nothing to write. */
		settle(c, false);
		c->logged += c->batch_records;
		c->repeats += c->batch_repeats;
		return n;
	}
	hold(c);
	if (epoch_write(&c->ep, c->log, &c->batch)) {
		/* Nothing of it is in the log: read the same records again later. */
		update_waiting(c);
		ringbuf_rewind(c->rb);
		c->marked = c->batch_marked;
		c->mark = c->batch_mark;
		if (!c->disk.next_ms)
			pr_err("records stay in the ring buffer until the log can be written "
			       "again; retrying with backoff");
		backoff_fail(&c->disk);
		return 0;
	}
	if (c->disk.next_ms)
		pr_notice("the log is writable again");
	c->disk = (struct backoff){};
	settle(c, covered);
	c->logged += c->batch_records;
	c->repeats += c->batch_repeats;
	for (int h = 0; h < CONTROL_HOOKS; h++)
		c->hook_logged[h] += c->batch_hooks[h];
	forgot = c->ep.logged.forgot;
	digestset_merge(&c->ep.logged, &c->batch_logged);
	if (c->ep.logged.forgot != forgot && !c->forgot_told) {
		pr_notice("this epoch has more than %u distinct entries: the daemon remembers "
			  "that many at most, so it forgot those it had logged, and logs an "
			  "entry again when it comes back (once until it forgets again)",
			  DIGESTSET_EPOCH_MAX);
		c->forgot_told = true;
	}
	if (c->batch_drops != c->drops_logged) {
		c->drops_logged = c->batch_drops;
		loader_set_drops_logged(c->bpf, c->drops_logged);
	}
	err = queue_entries(c, c->batch.p, c->batch.len);
	return err ?: (int)c->batch_records;
}

/* On PCR 10, kernel IMA must not add to the PCR behind bima's back. */
static int check_kernel_ima(struct collector *c)
{
	uint64_t count;

	if (c->ep.pcr != 10 || !c->ep.kernel_ima || kernel_ima_count(&count) ||
	    count == c->ep.kernel_ima_count)
		return 0;
	pr_err("kernel IMA added %lu entries to PCR 10 while bima extends it (an IMA policy "
	       "was loaded): this log can no longer replay PCR 10; stopping. Restart bima "
	       "with another PCR (--pcr 11) in a new TPM epoch",
	       (unsigned long)(count - c->ep.kernel_ima_count));
	return -EBUSY;
}

/* Whether to take a snapshot now: asked for, or enough entries or time since the last. */
static bool snapshot_due(struct collector *c)
{
	if (c->snap_pending)
		return false;
	if (snapshot_asked || control_snapshot_asked(c->ctl))
		return true;
	if (c->snap_entries && c->ep.entries - c->snap_last_entries >= c->snap_entries)
		return true;
	return c->snap_interval && time(NULL) - c->snap_last_time >= c->snap_interval;
}

/*
 * A snapshot, first half: log a snapshot_aggregate entry (anchor.h) and
 * have it extended. Only with nothing waiting for the TPM, so that the PCR
 * values it holds are the TPM's. The second half waits for its extend.
 */
static int start_snapshot(struct collector *c)
{
	struct bima_anchor last;
	struct bima_stats st;
	uint64_t id;
	int err;

	if (c->uncovered_records) {
		c->cover_next = true; /* the snapshot follows the numbers of all before it */
		return 0;
	}
	if (waiting_bytes(c) || !c->tpm)
		return 0; /* the TPM is behind: later */
	snapshot_asked = 0;
	err = loader_last_anchor(c->bpf, &last) ?: loader_stats(c->bpf, &st);
	if (err) {
		pr_err("snapshot: %s; not taken", strerror(-err));
		control_snapshot_done(c->ctl, 0, NULL, strerror(-err));
		return 0;
	}
	id = (last.id > c->ep.last_snapshot ? last.id : c->ep.last_snapshot) + 1;
	c->snap_entry.len = 0;
	if (anchor_begin(&c->ep, c->log, id, st.next_seq, &c->snap, &c->snap_entry)) {
		control_snapshot_done(c->ctl, 0, NULL, "its entry could not be made");
		return 0;
	}
	hold(c);
	if (epoch_write(&c->ep, c->log, &c->snap_entry)) {
		pr_err("snapshot: the log cannot be written; not taken");
		update_waiting(c);
		control_snapshot_done(c->ctl, 0, NULL, "the log cannot be written");
		return 0;
	}
	err = queue_entries(c, c->snap_entry.p, c->snap_entry.len);
	err = err ?: anchor_close(&c->ep, &c->snap, &c->snap_entry, &c->log);
	if (err)
		return err;
	c->snap_end = c->queued_bytes;
	c->marked = false; /* the next segment starts without a mark */
	c->ep.last_snapshot = id;
	c->snap_pending = true;
	control_snapshot_started(c->ctl, id);
	c->snap_last_entries = c->ep.entries + 1;
	c->snap_last_time = time(NULL);
	return extend_pending(c, EXTEND_SLICE_MS);
}

/*
 * The second half, once the TPM holds the snapshot entry and nothing after
 * it (entries that came meanwhile wait in the next segment): quote it, have
 * the kernel record the anchor, apply the retention setting, and go on
 * extending.
 */
static int finish_snapshot(struct collector *c)
{
	struct bima_anchor a;
	char why[96];
	int err;

	if (c->extended != c->snap_end)
		return 0;
	c->snap_pending = false;
	anchor_quote(&c->ep, c->tpm, c->ak_ok ? &c->ak : NULL, &c->snap, &a);
	err = loader_add_anchor(c->bpf, &a);
	if (err) {
		pr_err("snapshot %lu: the kernel did not record its anchor: %s",
		       (unsigned long)a.id, strerror(-err));
		snprintf(why, sizeof(why), "the kernel did not record its anchor: %s",
			 strerror(-err));
	}
	/* Clients are shown the anchor as the kernel holds it, with the seq it took. */
	if (!err)
		loader_last_anchor(c->bpf, &a);
	/* Retention first: a client told the snapshot is done finds its segments as it left them.
	 */
	anchor_retain(c->ep.dir, c->retention, c->retention_anchors);
	control_snapshot_done(c->ctl, c->snap.id, &a, err ? why : NULL);
	return extend_pending(c, EXTEND_SLICE_MS);
}

/* The entries that wait for the TPM, and how long the oldest of them has. */
static void extend_lag(const struct collector *c, uint64_t *entries, uint64_t *ms)
{
	long long since = oldest_waiting(c);

	*entries = c->queued_entries - c->extended_entries;
	*ms = since ? now_ms() - since : 0;
}

/* What only the metrics report (metrics.h): counters, sizes, the kernel's counters. */
static void fill_metrics(const struct collector *c, struct control_status *st)
{
	struct bima_cpu_stats cpu = {};
	struct bima_stats ks;
	char anchor[LOG_PATH_MAX + 32];
	struct stat sb;

	memcpy(st->logged_by_hook, c->hook_logged, sizeof(st->logged_by_hook));
	st->repeated = c->repeats;
	st->tpm_errors = c->tpm_errors;
	st->ringbuf_size = ringbuf_size(c->rb);
	st->start_time = c->start_time;
	log_bytes(c->ep.dir, &st->log_bytes);
	if (c->ep.last_snapshot &&
	    !log_anchor_path(anchor, sizeof(anchor), c->ep.dir, c->ep.last_snapshot) &&
	    !stat(anchor, &sb))
		st->snapshot_time = sb.st_mtime;
	st->kernel_stats = c->bpf && !loader_stats(c->bpf, &ks);
	if (st->kernel_stats) {
		st->denied = ks.denied;
		st->violations = ks.violations;
		st->hash_errors = ks.hash_errors;
		st->protect_denied = ks.protect_denied;
	}
	st->cpu_stats = c->bpf && !loader_cpu_stats(&cpu);
	st->cache_hits = cpu.cache_hits;
}

/* What `bima status` reports (control.h). */
static void fill_status(void *arg, struct control_status *st)
{
	const struct collector *c = arg;
	uint64_t lag_entries, lag_ms;

	extend_lag(c, &lag_entries, &lag_ms);
	*st = (struct control_status){ .pid = getpid(),
				       .log_dir = c->log_dir,
				       .epoch_dir = c->ep.dir,
				       .segment = log_path(c->log),
				       .load_id = c->load_id,
				       .pcr = c->ep.pcr,
				       .entries = c->ep.entries,
				       .logged = c->logged,
				       .lost = c->drops_logged,
				       .unextended = waiting_bytes(c),
				       .unextended_entries = lag_entries,
				       .extend_lag_ms = lag_ms,
				       .queued = ringbuf_unlogged(c->rb),
				       .uncovered = c->uncovered_records,
				       .held = ringbuf_held(c->rb),
				       .tpm_ok = c->tpm,
				       .snapshot_pending = c->snap_pending,
				       .last_snapshot = c->ep.last_snapshot,
				       .fail_closed = c->fail_closed };
	fill_metrics(c, st);
}

/* Whether records come faster than the rounds take them: extends wait a round. */
static bool ring_busy(const struct collector *c)
{
	return !backoff_waiting(&c->disk) && batch_max(c) &&
	       ringbuf_unlogged(c->rb) >= ringbuf_size(c->rb) / RING_BUSY_SHARE;
}

static int loop(struct collector *c)
{
	time_t last_check = time(NULL);
	int n;

	while (!stopping) {
		/* No sleep while the TPM can take entries: it catches up between rounds. */
		n = ringbuf_wait(c->rb, extends_waiting(c) ? 0 : POLL_MS);
		if (n < 0 && n != -EINTR)
			return n;
		if (control_serve(c->ctl, fill_status, c))
			stopping = 1; /* as on SIGTERM */
		metrics_file_update(&c->metrics, fill_status, c, false);
		/* Only a daemon that fails closed has hooks that look at its heartbeat. */
		n = c->fail_closed ? loader_heartbeat(c->bpf) : 0;
		if (n < 0)
			return n;
		if (!backoff_waiting(&c->disk) && batch_max(c)) {
			n = round_trip(c, batch_max(c));
			if (n < 0)
				return n;
		}
		n = ring_busy(c) ? 0 : extend_pending(c, EXTEND_SLICE_MS);
		if (n < 0)
			return n;
		if (time(NULL) != last_check) {
			last_check = time(NULL);
			n = check_kernel_ima(c);
			if (n < 0)
				return n;
		}
		n = snapshot_due(c) ? start_snapshot(c) : 0;
		n = n ?: c->snap_pending ? finish_snapshot(c) : 0;
		if (n < 0)
			return n;
	}
	return 0;
}

/*
 * A daemon stopped while a kexec image is loaded (`systemctl kexec` stops
 * services before the jump) writes a kexec_execute entry: the log says
 * where the next kernel, which keeps the PCRs, takes over this epoch.
 */
static int mark_kexec(struct collector *c)
{
	static const char text[] = "kexec_loaded=1";
	int loaded = 0, err;
	FILE *f;

	f = fopen(KEXEC_LOADED, "r");
	if (f) {
		if (fscanf(f, "%d", &loaded) != 1)
			loaded = 0;
		fclose(f);
	}
	if (!loaded)
		return 0;
	c->batch.len = 0;
	err = template_encode_buf(&c->batch, c->ep.pcr, KEXEC_NAME, text, sizeof(text) - 1);
	hold(c);
	err = err ?: epoch_write(&c->ep, c->log, &c->batch);
	err = err ?: queue_entries(c, c->batch.p, c->batch.len);
	if (!err)
		pr_info("a kexec image is loaded: logged a %s entry; the next kernel keeps the "
			"PCRs and continues epoch %s",
			KEXEC_NAME, c->ep.dir);
	return err;
}

/* Log everything the ring buffer holds now; with unload, stop measuring first. */
static int drain(struct collector *c, bool unload)
{
	int n, err = 0;

	if (unload) {
		loader_unload(c->bpf);
		usleep(100000); /* let programs that were running finish their records */
	}
	c->disk = (struct backoff){};
	c->draining = true; /* every round writes a bima_seq entry: each frees what it logged */
	/* The TPM keeps up here, but a TPM that fails must not let the queue pass its bound. */
	while ((n = batch_max(c) ? round_trip(c, batch_max(c)) : 0) > 0 &&
	       !backoff_waiting(&c->disk))
		if ((n = extend_pending(c, 0)) < 0)
			break;
	if (n < 0)
		err = n;
	else if (ringbuf_pending(c->rb))
		pr_err("the log cannot be written: %lu bytes of records stay in the ring "
		       "buffer%s",
		       (unsigned long)ringbuf_pending(c->rb),
		       unload ? " and are lost with it" : " for the next bima run");
	if (!unload)
		err = mark_kexec(c) ?: err;
	c->tpm_retry = (struct backoff){};
	err = extend_pending(c, 0) ?: err;
	if (c->snap_pending)
		err = finish_snapshot(c) ?: err; /* and extends what follows it */
	if (waiting_bytes(c)) {
		pr_err("%llu bytes of entries are in the log but not in the TPM; the next "
		       "bima run extends them",
		       (unsigned long long)waiting_bytes(c));
		err = err ?: -EIO;
	}
	pr_info("stopped: %lu records logged by this run, %lu lost in all, log %s",
		(unsigned long)c->logged, (unsigned long)c->drops_logged, log_path(c->log));
	if (c->repeats)
		pr_info("%lu of these records repeated an entry the log has: their sequence "
			"numbers "
			"are logged, the entries not again",
			(unsigned long)c->repeats);
	if (!unload)
		pr_info("the hooks stay attached and measure into the ring buffer; the next "
			"`bima run` logs what queues up, `bima stop --unload` removes them");
	if (!unload && c->fail_closed)
		pr_warn("--fail-closed: from %u ms after this stop, or once the ring buffer "
			"is full, the hooks deny every operation the policy measures (but for "
			"bima itself) until a daemon runs again",
			c->grace_ms);
	return err;
}

/* What the rounds keep between them: the batch, its sets and the TPM's queue. */
static void free_rounds(struct collector *c)
{
	cgroups__free(c->cgroups);
	buf_free(&c->batch);
	buf_free(&c->scratch);
	buf_free(&c->unextended);
	buf_free(&c->queued);
	seqset_free(&c->seqs);
	seqset_free(&c->uncovered);
	seqset_free(&c->cover);
	digestset_free(&c->batch_logged);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int collector_bench(struct epoch *ep, struct log *log, struct tpm *tpm, int map_fd,
		    bool ct_template, size_t window, uint64_t *records, uint64_t *durable_ns,
		    size_t *window_peak)
{
	struct collector c = { .ep = *ep,
			       .log = log,
			       .tpm = tpm,
			       .ct_template = ct_template,
			       .window = window ?: UNEXTENDED_WINDOW };
	uint64_t start = now_ns();
	int n = 0, err;

	*records = *durable_ns = *window_peak = 0;
	snprintf(c.load_id, sizeof(c.load_id), "bench");
	err = cgroups__new(&c.cgroups) ?: ringbuf__open(map_fd, &c.rb);
	while (!err && (ringbuf_pending(c.rb) || (tpm && waiting_bytes(&c)))) {
		/* All read: as a daemon whose window ends, cover the rest and free it. */
		c.cover_next |= !ringbuf_unlogged(c.rb);
		n = batch_max(&c) ? round_trip(&c, batch_max(&c)) : 0;
		if (n < 0 || backoff_waiting(&c.disk))
			err = n < 0 ? n : -EIO;
		*records += n > 0 ? n : 0;
		if (!*durable_ns && !ringbuf_unlogged(c.rb))
			*durable_ns = now_ns() - start;
		if (!tpm)
			queue_clear(&c);
		else if (!err && (extend_pending(&c, EXTEND_SLICE_MS) || !c.tpm))
			err = -EIO; /* no rejoin here: it has no TCTI */
		/* What the queue took of memory: its buffer, never shrunk. */
		if (c.unextended.cap > *window_peak)
			*window_peak = c.unextended.cap;
	}
	*ep = c.ep;
	ringbuf__free(c.rb);
	free_rounds(&c);
	return err;
}

/* Say which policy is in force, which the log records as a bima_policy entry. */
static void report_policy(struct collector *c)
{
	static struct bima_policy pol;
	char hex[65];

	if (loader_policy(c->bpf, &pol))
		return;
	hex_encode(pol.digest, sizeof(pol.digest), hex);
	pr_info("policy in force: %u rule(s), sha256:%s", pol.nrules, hex);
}

/*
 * The window, which tests shrink (BIMA_TEST_QUEUE_WINDOW, in bytes) so that
 * a few hundred files are read back from the log; it is never grown.
 */
static size_t queue_window(void)
{
	const char *s = getenv("BIMA_TEST_QUEUE_WINDOW");
	unsigned long n = s ? strtoul(s, NULL, 0) : 0;

	return n && n < UNEXTENDED_WINDOW ? n : UNEXTENDED_WINDOW;
}

/*
 * Open what the daemon works with, in an order that makes failures safe:
 * the control socket first (a second daemon is refused before it touches
 * the log or the pins), then the TPM, the pins' claim, the epoch's log, the
 * BPF objects and their ring buffer. Returns 1 when --unload finds nothing
 * pinned.
 */
static int collector_open(struct collector *c, const struct collector_opts *opts,
			  struct loader_opts *lo)
{
	struct bima_config cfg;
	struct bima_stats st;
	int err = 0;

	if (opts->control && !opts->unload)
		err = control__open(opts->control, &c->ctl);
	err = err ?: cgroups__new(&c->cgroups);
	err = err ?: tpm__open(opts->tcti, &c->tpm);
	/* Under self-protection only the daemon writes the log: become it first. */
	err = err ?: protect_decide(opts->protect, opts->log_dir, &lo->protect);
	lo->log_dir = opts->log_dir;
	lo->control = opts->unload ? NULL : opts->control;
	err = err ?: loader_claim(lo);
	err = err
		      ?: epoch_begin(&c->ep, c->tpm, opts->log_dir, opts->pcr, opts->ascii_link,
				     &c->log);
	if (err)
		return err;
	c->snap_last_entries = c->ep.entries; /* the next snapshot counts from this start */
	c->ak_ok = !opts->unload && !ak_load_or_create(c->tpm, opts->log_dir, &c->ak);
	err = loader__open(lo, &c->bpf);
	if (err == -ENOENT && opts->unload) {
		pr_info("nothing is pinned in %s: there is nothing to unload", LOADER_PIN_DIR);
		return 1;
	}
	if (err)
		return err;
	err = ringbuf__open(loader_events_fd(c->bpf), &c->rb)
		      ?: ringbuf_publish(c->rb, loader_reader_fd(c->bpf));
	if (err) {
		pr_err("cannot map the ring buffer: %s", strerror(-err));
		return err;
	}
	err = c->ctl ? ringbuf_watch(c->rb, control_fd(c->ctl)) : 0;
	if (err) {
		pr_err("cannot wait for the control socket: %s", strerror(-err));
		return err;
	}
	err = loader_config(c->bpf, &cfg);
	if (err)
		return err;
	c->drops_logged = cfg.drops_logged;
	if (!loader_stats(c->bpf, &st))
		c->protect_denied = st.protect_denied; /* the daemons before reported theirs */
	loader_load_id(c->bpf, c->load_id, sizeof(c->load_id));
	if (loader_adopted(c->bpf))
		pr_info("adopted the BPF objects pinned in %s; %lu bytes of records queued "
			"while no daemon ran",
			LOADER_PIN_DIR, (unsigned long)ringbuf_pending(c->rb));
	return 0;
}

/* What the daemon measures, and how, said once it does. */
static void announce(struct collector *c, const struct collector_opts *opts, bool protect)
{
	char hooks[512];

	loader_describe(hooks, sizeof(hooks));
	pr_info("measuring %s into PCR %u; log %s; BPF objects pinned in %s", hooks, opts->pcr,
		log_path(c->log), LOADER_PIN_DIR);
	report_policy(c);
	if (!cgroups_mount(c->cgroups))
		pr_warn("no cgroup2 file system is mounted: the cgroups made before bima's "
			"programs were loaded have no path in the log, nor a container");
	pr_info("file entries are %s",
		c->ct_template ? TEMPLATE_CT
			", with the cgroup, mount namespace and container under the template hash"
			       : "ima-ng; their cgroup, mount namespace and container are "
				 "in " CONTAINER_MARK_NAME " entries before them");
	if (!uhash_kernel_has_ima())
		pr_warn("this kernel has no IMA (no /sys/kernel/security/ima): it cannot hash "
			"files "
			"for bima, so bima hashes them in userspace, by path, checking that the "
			"file is the one the kernel saw; such entries are marked %s in the log, "
			"and a verifier may refuse them (bima verify --reject-userspace-hashes)",
			UHASH_NAME);
	if (protect)
		pr_notice("self-protection: while this daemon runs, no other process may change "
			  "%s or %s, nor write bima's maps, run its programs or detach its links "
			  "(--protect no turns it off)",
			  opts->log_dir, LOADER_PIN_DIR);
	if (opts->fail_closed)
		pr_notice("--fail-closed: an operation whose measurement cannot be recorded "
			  "(ring buffer full, or no daemon for %u ms) is denied with EPERM",
			  opts->grace_ms);
	if (c->ctl)
		pr_info("control socket %s: `bima status`, `bima snapshot`, `bima stop` (root "
			"only)",
			opts->control);
}

static void collector_close(struct collector *c)
{
	control__free(c->ctl); /* once the daemon has stopped: `bima stop` waits for this */
	ringbuf__free(c->rb);
	loader__free(c->bpf);
	log__close(c->log);
	tpm__free(c->tpm);
	free_rounds(c);
	buf_free(&c->snap_entry);
	epoch_end(&c->ep);
	digestset_free(&c->ep.logged);
}

int collector_run(const struct collector_opts *opts)
{
	struct loader_opts lo = { .ringbuf_size = opts->ringbuf_size,
				  .adopt_only = opts->unload,
				  .fail_closed = opts->fail_closed,
				  .grace_ms = opts->grace_ms,
				  .max_lag_ms = opts->max_lag_ms,
				  .pcr = opts->pcr,
				  .policy = opts->policy,
				  .policy_given = opts->policy_given };
	struct sigaction sa = { .sa_handler = on_signal };
	struct collector c = { .tcti = opts->tcti,
			       .window = queue_window(),
			       .fail_closed = opts->fail_closed,
			       .grace_ms = opts->grace_ms,
			       .snap_entries = opts->snapshot_entries,
			       .snap_interval = opts->snapshot_interval,
			       .snap_last_time = time(NULL),
			       .retention = opts->retention,
			       .retention_anchors = opts->retention_anchors,
			       .ct_template = opts->ct_template,
			       .log_dir = opts->log_dir,
			       .start_time = time(NULL),
			       .metrics = { .path = opts->metrics_file } };
	int err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	err = collector_open(&c, opts, &lo);
	if (opts->unload && err >= 0) {
		err = err ? 0 : drain(&c, true);
		runstate_remove(RUNSTATE_PATH); /* the pins are gone, and what they ran with */
	} else if (!err) {
		runstate_write(RUNSTATE_PATH, &(struct runstate){ .log_dir = opts->log_dir,
								  .tcti = opts->tcti,
								  .pcr = opts->pcr,
								  .ct_template = opts->ct_template,
								  .ascii_link = opts->ascii_link,
								  .control = opts->control });
		announce(&c, opts, lo.protect);
		notify("READY=1"); /* the hooks are attached, the log is open: what follows may
				      start */
		err = loop(&c);
		notify("STOPPING=1");
		err = drain(&c, false) ?: err;
		metrics_file_update(&c.metrics, fill_status, &c, true); /* what the stop left */
	}
	collector_close(&c);
	return err;
}
