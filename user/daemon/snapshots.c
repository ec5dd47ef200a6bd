// SPDX-License-Identifier: GPL-2.0-only
/*
 * Snapshots: when one is due, its entry logged and extended, its quote, its
 * anchor (daemon.h).
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

/*
 * Whether to take a snapshot now: asked for, or enough entries written to
 * the log or time since the last. The entries are counted as written, not
 * as the TPM holds them: after a rejoin that found the TPM behind, the
 * TPM's count drops until the tail is extended again.
 */
bool snapshot_due(struct collector *c)
{
	if (c->snap_pending)
		return false;
	if (snapshot_asked || control_snapshot_asked(c->ctl))
		return true;
	if (c->snap_entries && c->written_entries - c->snap_last_written >= c->snap_entries)
		return true;
	return c->snap_interval && time(NULL) - c->snap_last_time >= c->snap_interval;
}

/*
 * A snapshot, first half: log a snapshot_aggregate entry (anchor.h) and
 * have it extended. Only with nothing waiting for the TPM, so that the PCR
 * values it holds are the TPM's. The second half waits for its extend.
 */
int start_snapshot(struct collector *c)
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
	c->snap_last_written = c->written_entries; /* its own entry is not counted */
	c->snap_last_time = time(NULL);
	return extend_pending(c, EXTEND_SLICE_MS);
}

/*
 * The second half, once the TPM holds the snapshot entry and nothing after
 * it (entries that came meanwhile wait in the next segment): quote it, have
 * the kernel record the anchor, apply the retention setting, and go on
 * extending.
 */
int finish_snapshot(struct collector *c)
{
	struct bima_anchor a;
	char why[96];
	int err;

	if (c->extended != c->snap_end)
		return 0;
	c->snap_pending = false;
	/* Without an AK no quote is asked for; one asked for and not had is a TPM error. */
	if (!anchor_quote(&c->ep, c->tpm, c->ak_ok ? &c->ak : NULL, &c->snap, &a) && c->ak_ok)
		c->tpm_errors++;
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
