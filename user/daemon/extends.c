// SPDX-License-Identifier: GPL-2.0-only
/*
 * The queue of durable entries for the TPM, in log order: its window in
 * memory, the rest read back from the log, extended a slice at a time, and
 * the lag the hooks are told (daemon.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon.h"
#include "kernel_ima.h"
#include "msg.h"
#include "policy.h"
#include "recover.h"
#include "ringbuf.h"
#include "uhash.h"

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
uint64_t waiting_bytes(const struct collector *c)
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

/* Entries just written at the end of the log; the next snapshot counts them. */
int queue_entries(struct collector *c, const void *p, size_t len)
{
	uint64_t before = c->queued_entries;
	int err = queue_put(c, p, len, false);

	c->written_entries += c->queued_entries - before;
	return err;
}

/* Since when (CLOCK_MONOTONIC ms) the oldest entry not yet extended waits; 0: none waits. */
long long oldest_waiting(const struct collector *c)
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
void hold(struct collector *c)
{
	if (!c->waiting_ms)
		tell_waiting(c, now_ms());
}

/* After extends, or a write that failed: since when the oldest queued entry waits. */
void update_waiting(struct collector *c)
{
	tell_waiting(c, oldest_waiting(c));
}

/* Forget the queue, all of it extended, or to be read again from the log. */
void queue_clear(struct collector *c)
{
	c->unextended.len = c->base = c->extended = c->queued_bytes = c->snap_end = 0;
	c->spilled = false;
	c->queued.len = c->queued_head = 0;
	c->queued_entries = c->extended_entries = 0;
}

/*
 * A rejoin's tail: its first RECOVER_WINDOW bytes, in memory already, go in
 * whatever the window's room; the rest stays in the log, from rec->rest on,
 * to be read back when its turn comes, as entries that spill do.
 */
static int queue_tail(struct collector *c, const struct recovery *rec)
{
	struct queued q = { .end = c->queued_bytes + rec->rest_bytes, .ms = now_ms() };
	int err = queue_put(c, rec->tail.p, rec->tail.len, true);

	if (err || !rec->rest_bytes)
		return err;
	err = buf_put(&c->queued, &q, sizeof(q));
	if (err)
		return err;
	c->spill = rec->rest;
	c->spilled = true;
	c->queued_bytes += rec->rest_bytes;
	c->queued_entries += rec->rest_entries;
	return 0;
}

/*
 * A new connection to a TPM that failed: if it lost extends, or did some
 * whose answer was lost, what it lacks is taken from the log (recover.h).
 * The log is read again, if it must be, for about slice_ms a round (0:
 * all of it), between which the loop logs records and answers `bima
 * status`; nothing is extended until the scan ends. Returns 0 with
 * c->scan set while it goes on.
 */
static int rejoin(struct collector *c, int slice_ms)
{
	size_t done = c->extended - c->base, took = 0;
	struct recovery rec = {};
	struct buf next = {};
	int err = 1;

	/* The extend that failed was of the window's next entry: it is in memory. */
	if (done < c->unextended.len)
		next = (struct buf){ .p = c->unextended.p + done, .len = c->unextended.len - done };
	if (!c->scan) {
		err = tpm__open(c->tcti, &c->tpm);
		err = err ?: recover_rejoin(&c->ep, c->tpm, c->reconcile, &next, &took, &c->scan);
		if (err == 1)
			pr_info("%s: reading the log again, a slice a round, while records are "
				"logged; no extend until it is read",
				c->ep.dir);
	}
	if (err == 2) { /* no scan of the log: the TPM lacks nothing the queue does not have */
		c->extended += took;
		c->extended_entries++;
		err = 0;
	}
	if (err == 1) {
		err = recover_scan_step(c->scan, &c->ep, c->tpm, slice_ms, &rec);
		if (err) { /* done, or failed: a new rejoin begins anew */
			recover_scan_free(c->scan);
			c->scan = NULL;
		}
	}
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
		/*
		 * The tail holds every entry after the TPM's last, to the log's
		 * end: those queued while the scan ran too. Queued again from it.
		 */
		queue_clear(c);
		hold(c);
		/*
		 * On PCR 10, the kernel's IMA entries the TPM holds after the
		 * whole log (the scan moved ep past them): written, not
		 * extended, before the marks, as at start. The next snapshot
		 * counts them, as it did when it counted the TPM's entries.
		 */
		err = epoch_write(&c->ep, c->log, &rec.imported);
		if (!err)
			c->written_entries += count_entries(rec.imported.p, rec.imported.len);
		err = err ?: epoch_write(&c->ep, c->log, &rec.marks);
		/*
		 * The marks follow the tail in the log (the scan read it to the
		 * log's end, or cut a torn entry there; a log corrupt before its
		 * end cannot be read back, and stops the daemon at the refill).
		 */
		err = err ?: queue_tail(c, &rec);
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
bool extends_waiting(const struct collector *c)
{
	/* A rejoin's scan of the log goes on each round, as extends would. */
	return c->scan || (extendable(c) != c->extended && !backoff_waiting(&c->tpm_retry));
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
int extend_pending(struct collector *c, int slice_ms)
{
	long long until = now_ms() + slice_ms;
	int err = 0;

	if (!c->scan && (c->extended == extendable(c) || backoff_waiting(&c->tpm_retry)))
		return 0;
	if (!c->tpm || c->scan)
		err = rejoin(c, slice_ms);
	if (err == -ESTALE)
		return err;
	if (!err && c->scan)
		return 0; /* the TPM's PCR was read at the scan's start: no extend until it ends */
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
