/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state, shared by the files of its loop: collector.c (the
 * loop: read, write durably, extend; status; start and stop), entries.c
 * (records -> log entries), extends.c (the queue of durable entries for the
 * TPM) and snapshots.c. Not for other modules: collector.h is the daemon's
 * interface.
 */
#ifndef BIMA_DAEMON_H
#define BIMA_DAEMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ak.h"
#include "anchor.h"
#include "buf.h"
#include "collector.h"
#include "container.h"
#include "control.h"
#include "digestset.h"
#include "epoch.h"
#include "loader.h"
#include "log.h"
#include "metrics.h"
#include "recover.h"
#include "seqset.h"
#include "snapshot.h"

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
	bool snap_pending;	/* its entry is not yet in the TPM, or not quoted */
	uint64_t snap_end;	/* where it ends in the queue: extends stop there */
	uint64_t snap_entries;	/* the settings: every so many entries */
	uint32_t snap_interval; /* or seconds */
	/*
	 * written_entries at the last snapshot, or at the start. Not
	 * ep.entries: that is the TPM's count, which a rejoin takes back to
	 * where the TPM's PCR is (below it, when the TPM lost extends).
	 */
	uint64_t snap_last_written;
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
	uint64_t written_entries;  /* entries this daemon wrote to the log: no rejoin moves it */
	uint64_t logged;	   /* records logged by this daemon */
	uint64_t drops_logged;	   /* bima_stats.dropped recorded in the log */
	uint64_t denied;	   /* bima_stats.denied already reported */
	struct backoff disk, tpm_retry;
	long long waiting_ms; /* what the hooks were told of the oldest waiting entry; 0: none */
	bool waiting_told;    /* that telling them failed */
	bool fail_closed;
	uint32_t grace_ms;
	bool reconcile;		   /* a rejoin read the log but could not queue what it found */
	struct recover_scan *scan; /* a rejoin's scan of the log, read a slice a round */
	struct control *ctl;	   /* the control socket, or NULL */
	const char *log_dir;	   /* --log-dir, for `bima status` */
	uint64_t protect_denied;   /* bima_stats.protect_denied already reported */
	/* For the metrics: entries logged by hook (the batch's until it is durable) */
	uint64_t hook_logged[CONTROL_HOOKS], batch_hooks[CONTROL_HOOKS];
	uint64_t tpm_errors;	     /* extends, reconnections and quotes that failed */
	time_t start_time;	     /* when this daemon started */
	struct metrics_file metrics; /* --metrics-file */
};

/* collector.c */
extern volatile sig_atomic_t snapshot_asked; /* SIGUSR1: `bima snapshot` by signal */
long long now_ms(void);
/* What `bima status` reports (control.h): a control_status_fn, arg the collector. */
void collector_status(void *arg, struct control_status *st);
void backoff_fail(struct backoff *b);
bool backoff_waiting(const struct backoff *b);

/* entries.c */
/* ringbuf_read's callback: one record, ctx the collector, into the batch's entries. */
int on_record(void *ctx, const void *data, size_t size);
/* Log the loss the kernel counted since the last (bima_stats.dropped). */
int account_drops(struct collector *c);
/* The bima_seq entries that cover the batch's and the held records' numbers. */
int log_seqs(struct collector *c);

/* extends.c: the queue, counted in bytes; extends in log order, a slice at a time. */
uint64_t waiting_bytes(const struct collector *c);
int queue_entries(struct collector *c, const void *p, size_t len);
long long oldest_waiting(const struct collector *c);
void hold(struct collector *c);
void update_waiting(struct collector *c);
void queue_clear(struct collector *c);
bool extends_waiting(const struct collector *c);
int extend_pending(struct collector *c, int slice_ms);

/* snapshots.c: one due (entries, seconds, or asked); logged and extended; then quoted. */
bool snapshot_due(struct collector *c);
int start_snapshot(struct collector *c);
int finish_snapshot(struct collector *c);

#endif
