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
#define _GNU_SOURCE /* SCHED_BATCH */
#include <errno.h>
#include <sched.h>
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
#include "daemon.h"
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

static volatile sig_atomic_t stopping;
volatile sig_atomic_t snapshot_asked;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		snapshot_asked = 1; /* `bima snapshot` */
	else
		stopping = 1;
}

long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

void backoff_fail(struct backoff *b)
{
	b->delay_ms = b->delay_ms ? b->delay_ms * 2 : POLL_MS;
	if (b->delay_ms > BACKOFF_MAX_MS)
		b->delay_ms = BACKOFF_MAX_MS;
	b->next_ms = now_ms() + b->delay_ms;
}

bool backoff_waiting(const struct backoff *b)
{
	return b->next_ms && now_ms() < b->next_ms;
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
		memcpy(st->denied_by_hook, ks.denied_by_hook, sizeof(st->denied_by_hook));
		memcpy(st->dropped_by_hook, ks.dropped_by_hook, sizeof(st->dropped_by_hook));
		st->violations = ks.violations;
		st->hash_errors = ks.hash_errors;
		st->protect_denied = ks.protect_denied;
	}
	st->cpu_stats = c->bpf && !loader_cpu_stats(&cpu);
	st->cache_hits = cpu.cache_hits;
}

/*
 * A rejoin's scan of the log, if one runs: the entries it has read, and
 * the log's entries, in the same count (from the epoch's start): those the
 * TPM held before it failed and those that wait for it, the entries logged
 * during the scan included.
 */
static void reconcile_progress(const struct collector *c, uint64_t *read, uint64_t *total)
{
	*read = c->scan ? recover_scan_read(c->scan) : 0;
	*total = c->scan ? c->ep.entries + c->queued_entries - c->extended_entries : 0;
	/* Not expected (both count one log), but never more read than there is. */
	if (*total < *read)
		*total = *read;
}

/* What `bima status` reports (control.h). */
void collector_status(void *arg, struct control_status *st)
{
	const struct collector *c = arg;
	uint64_t lag_entries, lag_ms, read, total;

	extend_lag(c, &lag_entries, &lag_ms);
	reconcile_progress(c, &read, &total);
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
				       .reconciling = c->scan,
				       .reconcile_read = read,
				       .reconcile_total = total,
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
		if (control_serve(c->ctl, collector_status, c))
			stopping = 1; /* as on SIGTERM */
		metrics_file_update(&c->metrics, collector_status, c, false);
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
 * BPF objects and their ring buffer, and then the attestation key. Returns 1
 * when --unload finds nothing pinned.
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
	/*
	 * The attestation key once the hooks measure: at a first start (and
	 * in the initramfs, at each boot) the TPM makes it, two key creations
	 * that a real TPM takes its time over; meanwhile records wait in the
	 * ring buffer.
	 */
	c->ak_ok = !opts->unload && !ak_load_or_create(c->tpm, opts->log_dir, &c->ak);
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

/*
 * SCHED_BATCH, unless the service asked for another policy: a wakeup of
 * the daemon (a record, a TPM answer) then does not preempt the process
 * that runs, which keeps its turn; the daemon still has the same share of
 * the CPU, and an idle CPU runs it at once. On one CPU busy with measured
 * work it reads records by the batch: in `tools/bench/burst.sh --smp 1
 * --icount 5000`, a tenth of the wakeups and 5 % fewer instructions a file.
 */
static void yield_to_work(void)
{
	struct sched_param sp = {};

	if (sched_getscheduler(0) == SCHED_OTHER && sched_setscheduler(0, SCHED_BATCH, &sp))
		pr_debug("cannot run as SCHED_BATCH: %s", strerror(errno));
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
	recover_scan_free(c->scan);
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
		if (loader_set_own(c.bpf, &lo))
			pr_warn("cannot tell the hooks that %s is bima's own: reading it may be "
				"measured",
				RUNSTATE_PATH);
		announce(&c, opts, lo.protect);
		yield_to_work();
		/* The hooks are attached and the log is open: what follows may start. */
		notify("READY=1");
		err = loop(&c);
		notify("STOPPING=1");
		err = drain(&c, false) ?: err;
		/* What the stop left. */
		metrics_file_update(&c.metrics, collector_status, &c, true);
	}
	collector_close(&c);
	return err;
}
