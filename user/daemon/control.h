/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The control socket: a Unix stream socket, CONTROL_DEFAULT unless `bima run
 * --control PATH`, through which `bima status`, `bima snapshot` and `bima
 * stop` talk to the daemon. Only root may use it: the file is 0600 in a
 * directory that only root can write, and the daemon checks every peer with
 * SO_PEERCRED and answers none whose effective uid, as the daemon's user
 * namespace sees it, is not 0. Root of another user namespace is the uid
 * that namespace maps it to (65534, the overflow uid, where it maps to none
 * here), and is refused.
 *
 * The protocol, one request a connection: the client sends a line
 * ("status", "snapshot" or "stop", at most CONTROL_LINE_MAX - 1 bytes with
 * its newline, within CONTROL_REQUEST_MS); the daemon answers with lines, the
 * last "ok" or "error: CAUSE", and closes the connection; after "stop" it
 * closes it only once it has stopped.
 *
 *   status    "name: value" lines (control_status), then "ok"
 *   snapshot  once the snapshot's anchor is recorded: the anchor's lines
 *             (control_format_anchor), then "ok"; or "error: CAUSE" when it
 *             cannot be taken, or no anchor is recorded within
 *             CONTROL_SNAPSHOT_MS (a TPM that does not answer is waited for)
 *   stop      "pid: N", "ok"; then the daemon stops as on SIGTERM
 *   metrics FORMAT
 *             the status as metrics (metrics.h), FORMAT "openmetrics" or
 *             "prometheus", then "ok"
 *
 * The daemon never waits for a client: the sockets are non-blocking, at most
 * CONTROL_CLIENTS_MAX are served at a time (one more is answered "error:
 * busy"), and a request must arrive whole within CONTROL_REQUEST_MS.
 */
#ifndef BIMA_CONTROL_H
#define BIMA_CONTROL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "../../bpf/bima.h"

#define CONTROL_DEFAULT "/run/bima/control"
#define CONTROL_CLIENTS_MAX 16
#define CONTROL_LINE_MAX 64	  /* bytes of a request line, its newline included */
#define CONTROL_REQUEST_MS 2000	  /* how long a client may take to send its request */
#define CONTROL_SNAPSHOT_MS 30000 /* how long a snapshot request waits for its anchor */
#define CONTROL_REPLY_MAX 16384	  /* bytes of a reply at most */
#define CONTROL_HOOKS BIMA_HOOKS  /* enum bima_hook values counted, 0 unused */

struct control;

/* What `status` reports, filled in by the daemon. */
struct control_status {
	int pid;
	const char *log_dir;	     /* --log-dir */
	const char *epoch_dir;	     /* the TPM epoch's log directory */
	const char *segment;	     /* the segment being written */
	const char *load_id;	     /* which load of the BPF programs (loader_load_id) */
	uint32_t pcr;		     /* the PCR extended */
	uint64_t entries;	     /* entries in the epoch's log */
	uint64_t logged;	     /* ring-buffer records this daemon logged */
	uint64_t lost;		     /* measurements the log records as lost (ring buffer full) */
	uint64_t unextended;	     /* bytes of durable entries not yet extended into the TPM */
	uint64_t unextended_entries; /* and how many entries */
	uint64_t extend_lag_ms;	     /* how long the oldest of them has waited */
	uint64_t queued;	     /* bytes of records in the ring buffer, not yet logged */
	uint64_t uncovered;	     /* records logged, in no bima_seq entry yet: still held */
	uint64_t held;		     /* and their bytes in the ring buffer */
	bool tpm_ok;		     /* the TPM answered the last extend (or nothing failed yet) */
	bool reconciling;	     /* a rejoin reads the log again: no extend until it ends */
	uint64_t reconcile_read;     /* entries it has read, from the epoch's start; 0: none */
	uint64_t reconcile_total;    /* of the log's entries now (it grows as records come) */
	bool snapshot_pending;	     /* a snapshot is logged and waits for its extend and quote */
	uint64_t last_snapshot; /* the id of the log's last snapshot_aggregate entry; 0: none */
	bool fail_closed;
	/* For the metrics (metrics.h) only; not in the status lines. */
	uint64_t logged_by_hook[CONTROL_HOOKS]; /* entries this daemon logged, by enum bima_hook */
	uint64_t repeated;     /* records not logged again: the log has their entry */
	uint64_t tpm_errors;   /* TPM extends, reconnections and quotes that failed */
	uint64_t ringbuf_size; /* bytes of the ring buffer */
	uint64_t log_bytes;    /* bytes of the epoch's segment files on disk */
	int64_t start_time;    /* when this daemon started, Unix seconds */
	int64_t snapshot_time; /* when last_snapshot's anchor was written, Unix seconds; 0: unknown
				*/
	bool kernel_stats;     /* the kernel's counters below were read */
	uint64_t denied;       /* bima_stats.denied: operations --fail-closed denied */
	uint64_t denied_by_hook[CONTROL_HOOKS];	 /* bima_stats.denied_by_hook */
	uint64_t dropped_by_hook[CONTROL_HOOKS]; /* bima_stats.dropped_by_hook: ring buffer full */
	uint64_t violations;	 /* bima_stats.violations: ToMToU and open_writers */
	uint64_t hash_errors;	 /* bima_stats.hash_errors: bpf_ima_file_hash() failed */
	uint64_t protect_denied; /* bima_stats.protect_denied: self-protection refusals */
	bool cpu_stats;		 /* and cache_hits was read */
	uint64_t cache_hits;	 /* bima_cpu_stats.cache_hits summed over the CPUs */
};

/*
 * Listen on path: its directory is created (0755) if missing, and must be
 * a directory owned by root that no one else can write; a socket left by a
 * daemon that died is replaced, one that a daemon listens on is not
 * (-EADDRINUSE: a second daemon is refused), nor is a file of another kind.
 * PATH.lock, held while the daemon runs, keeps two daemons that start at
 * once from both taking it. Errors are logged here.
 */
int control__open(const char *path, struct control **out);
/* Answer the clients still waiting, close them, and remove the socket. NULL is fine. */
void control__free(struct control *ctl);
/* Readable when control_serve() has something to do. */
int control_fd(const struct control *ctl);

typedef void (*control_status_fn)(void *arg, struct control_status *st);
/*
 * Without blocking: accept and check new clients, read what they sent,
 * answer complete requests (status through fn), and drop clients past their
 * deadline. Returns true when a client asked the daemon to stop.
 */
bool control_serve(struct control *ctl, control_status_fn fn, void *arg);

/* Whether a client waits for a snapshot to be started for it. */
bool control_snapshot_asked(const struct control *ctl);
/* The snapshot with this id has begun: the clients that asked for one wait for it. */
void control_snapshot_started(struct control *ctl, uint64_t id);
/*
 * Answer the clients waiting for snapshot id (with id 0: those waiting for
 * one to begin) with the anchor the kernel recorded, or with error.
 */
void control_snapshot_done(struct control *ctl, uint64_t id, const struct bima_anchor *a,
			   const char *error);

/* An anchor as `bima snapshot` prints it: "snapshot N: ...", then a line per PCR bank. */
void control_format_anchor(FILE *f, const struct bima_anchor *a);

/*
 * The client: send request on the socket at path and copy the reply's lines
 * but the last to out (or NULL); with wait_close (stop), then wait for the daemon to
 * close the connection. *pid is the daemon's (SO_PEERCRED). Returns 0 for
 * "ok"; 1 for "error: ..." or a daemon that stopped answering (reported);
 * -ENOENT when no daemon listens on path (not reported); other -errno
 * (reported).
 */
int control_request(const char *path, const char *request, int timeout_ms, bool wait_close,
		    FILE *out, int *pid);

#endif
