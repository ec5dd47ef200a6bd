// SPDX-License-Identifier: GPL-2.0-only
/*
 * Test driver for the TPM tests: start (or continue) the TPM's epoch in a
 * log directory exactly as `bima run` does, then commit entries for the
 * paths given, through the daemon's own epoch, log and TPM code (and, for
 * daemon-behind, its queue and status). Only the BPF side is missing, which
 * the host kernel cannot run.
 *
 *   writer [--write-only] [--kernel-ima DIR] TCTI LOG_DIR PCR ARG...
 * Each ARG is a path, whose sha256 digest is computed here from its
 * contents, or one of:
 *   violation:NAME     a violation entry (zero template hash)
 *   buf:NAME:TEXT      an ima-buf entry named NAME whose buffer is TEXT, as the
 *                      daemon writes its records (bima_seq, bima_lost_events)
 *   bufhex:NAME:HEX    the same with the buffer's bytes in hex (a key, as
 *                      func=KEY_CHECK logs it into keyring NAME)
 *   quote:I:ID:PCR:SEG have the TPM quote PCR over the sha256 of the buffer of
 *                      entry I (from 0) of segment file SEG, as root on the host
 *                      can, and keep it as snapshot ID's quote beside SEG
 *   count:N            N entries for made-up files /bench/N/I (a benchmark)
 *   snapshot           commit what is before, then take a snapshot as the
 *                      daemon does (anchor.h), quoted with the AK in LOG_DIR
 *   retain:MODE:N      apply retention MODE with N anchors (anchor.h)
 *   lost               commit what is before, the TPM doing the extend of
 *                      its last entry but its answer lost; then rejoin as
 *                      the daemon does, and print what the rejoin found
 *   behind:N:MS        commit what is before, then write N entries that the
 *                      TPM lost (as one restarted from a state saved before
 *                      their extends); rejoin as the daemon does, reading
 *                      the log again MS ms a slice and writing an entry
 *                      between slices, as the daemon logs records; print
 *                      the slices and the CPU time of the longest and of
 *                      all, and extend what it found
 *   behind:N:MS:K      the same, but stop after K slices, as a daemon
 *                      killed during the scan: nothing more is extended
 *   behind:N:MS:K:stray  the same, but after K slices extend the PCR with
 *                      an entry the log lacks and go on; the scan that
 *                      fails for it at its end is begun anew
 *   daemon-behind:N:CONTROL  the same loss, found by the daemon's own queue
 *                      (user/daemon/: its extends, rejoin, snapshot count and
 *                      `bima status` on the control socket CONTROL); print
 *                      its status before, during and after the rejoin's
 *                      scan, and when a snapshot is due (as root: a ring
 *                      buffer, which the status reads, and the socket)
 *   daemon-kernel:K    (with --kernel-ima, on PCR 10) the daemon's queue logs
 *                      an entry, whose extend the TPM does but whose answer
 *                      is lost; kernel IMA then measures K files, and the
 *                      daemon rejoins the TPM (user/daemon/), logs an entry
 *                      more and extends it; print what it counted
 * With --write-only the entries are made durable and not extended, as when
 * a daemon dies between its fdatasync and its extends. With BIMA_ASCII_LINK
 * set, the epoch's ASCII list is kept too, linked there (ascii.h).
 *
 * With --kernel-ima DIR, the kernel's IMA list (kernel_ima.h) is
 * DIR/binary_runtime_measurements, which the writer keeps as kernel IMA
 * would: the functions that read it are wrapped at link time (Makefile),
 * so that bima's own code reads this list, on a host whose kernel has no
 * IMA, or not this TPM. If DIR has no list yet, the kernel boots first: its
 * boot_aggregate goes in the list and into PCR 10.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#include <bpf/bpf.h>

#include "ak.h"
#include "anchor.h"
#include "daemon.h"
#include "epoch.h"
#include "kernel_ima.h"
#include "msg.h"
#include "recover.h"
#include "ringbuf.h"

static const char *kernel_ima_dir; /* --kernel-ima DIR: the kernel's list, kept here */

int __real_kernel_ima_read(struct buf *out);
int __real_kernel_ima_count(uint64_t *count);

/* The kernel's list, appended to out, as kernel_ima_read() does. */
int __wrap_kernel_ima_read(struct buf *out)
{
	char path[LOG_PATH_MAX];
	struct buf list = {};
	int err;

	if (!kernel_ima_dir)
		return __real_kernel_ima_read(out);
	snprintf(path, sizeof(path), "%s/binary_runtime_measurements", kernel_ima_dir);
	err = log_read_file(path, &list) ?: buf_put(out, list.p, list.len);
	buf_free(&list);
	return err;
}

/* Its entries, as the kernel's runtime_measurements_count says. */
int __wrap_kernel_ima_count(uint64_t *count)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	struct buf list = {};
	size_t used;
	int err;

	if (!kernel_ima_dir)
		return __real_kernel_ima_count(count);
	err = __wrap_kernel_ima_read(&list);
	*count = 0;
	for (size_t off = 0; !err && off < list.len; off += used, (*count)++)
		err = template_decode(list.p + off, list.len - off, &e, &used, why);
	buf_free(&list);
	return err;
}

/*
 * Kernel IMA measures: the entries go at the end of its list, and are
 * extended into PCR 10 in each bank the TPM has there, as the kernel
 * extends them; bima logs none of them.
 */
static int kernel_measure(struct tpm *tpm, const struct buf *entries)
{
	const struct hashalg *banks[TPM_BANKS_MAX];
	struct epoch kernel = {};
	char path[LOG_PATH_MAX];
	size_t nbanks, done = 0;
	FILE *f;
	int err;

	err = tpm_banks(tpm, 10, banks, &nbanks);
	if (err)
		return err;
	replay_init(&kernel.replay, banks, nbanks);
	snprintf(path, sizeof(path), "%s/binary_runtime_measurements", kernel_ima_dir);
	f = fopen(path, "ab");
	if (!f || fwrite(entries->p, 1, entries->len, f) != entries->len)
		err = -EIO;
	if (f && fclose(f))
		err = -EIO;
	err = err ?: epoch_extend(&kernel, tpm, entries, &done, 0);
	if (err)
		fprintf(stderr, "writer: %s: kernel IMA cannot measure: %s\n", path,
			strerror(-err));
	return err;
}

/* The kernel boots, if it has not yet: its boot_aggregate, in its list and in PCR 10. */
static int kernel_boot(struct tpm *tpm)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	struct buf data = {}, entry = {};
	uint8_t digest[32];
	uint64_t count;
	int err;

	if (!__wrap_kernel_ima_count(&count))
		return 0;
	hashalg_digest(sha256, "boot", 4, digest); /* bima does not check its value */
	err = template_data_ng(&data, sha256, digest, "boot_aggregate", NULL, 0);
	err = err ?: template_encode(&entry, 10, "ima-ng", data.p, data.len, false);
	err = err ?: kernel_measure(tpm, &entry);
	buf_free(&data);
	buf_free(&entry);
	return err;
}

static int file_sha256(const char *path, uint8_t *digest)
{
	static uint8_t data[1 << 22];
	FILE *f = fopen(path, "rb");
	size_t n;

	if (!f)
		return -1;
	n = fread(data, 1, sizeof(data), f);
	fclose(f);
	return hashalg_digest(hashalg_by_name("sha256", 6), data, n, digest);
}

/* quote:I:ID:PCR:SEG: the nonce a snapshot's quote is over, of any entry, quoted. */
static int quote_entry(struct epoch *ep, struct tpm *tpm, const char *log_dir, const char *arg)
{
	unsigned int index, pcr;
	unsigned long long id;
	char why[TEMPLATE_WHY_LEN], dir[LOG_PATH_MAX], *slash;
	struct template_fields f;
	struct template_entry e;
	struct tpm_quote q;
	struct buf seg = {};
	struct tpm_ak ak;
	uint8_t nonce[32], sha[32];
	size_t off = 0, used = 0;
	int at = 0, err;

	if (sscanf(arg, "quote:%u:%llu:%u:%n", &index, &id, &pcr, &at) != 3 || !at)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s", arg + at);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	err = log_read_file(arg + at, &seg);
	for (unsigned int i = 0; !err && i <= index; i++, off += used)
		err = template_decode(seg.p + off, seg.len - off, &e, &used, why);
	err = err ?: template_fields(&e, &f, why) ?: f.extra ? 0 : -EINVAL;
	err = err ?: hashalg_digest(hashalg_by_name("sha256", 6), f.extra, f.extra_len, nonce);
	err = err ?: ak_load_or_create(tpm, log_dir, &ak);
	err = err
		      ?: tpm_quote(tpm, &ak, nonce, sizeof(nonce), pcr, ep->replay.banks,
				   ep->replay.nbanks, &q);
	err = err ?: ak_save_quote(dir, id, &q, sha);
	buf_free(&seg);
	if (err)
		fprintf(stderr, "writer: %s: %s\n", arg, strerror(-err));
	return err;
}

/* Commit the batch, then snapshot the log as the daemon does. */
static int snapshot(struct epoch *ep, struct tpm *tpm, const char *log_dir, struct log **log,
		    struct buf *batch)
{
	struct buf entry = {};
	struct bima_anchor a;
	struct snapshot s;
	struct tpm_ak ak;
	size_t done = 0;
	int err;

	err = epoch_commit(ep, tpm, *log, batch);
	batch->len = 0;
	err = err ?: ak_load_or_create(tpm, log_dir, &ak);
	err = err ?: anchor_begin(ep, *log, ep->last_snapshot + 1, 0, &s, &entry);
	err = err ?: epoch_write(ep, *log, &entry);
	if (!err)
		ep->last_snapshot = s.id;
	err = err ?: anchor_close(ep, &s, &entry, log);
	err = err ?: epoch_extend(ep, tpm, &entry, &done, 0);
	if (!err)
		anchor_quote(ep, tpm, &ak, &s, &a);
	buf_free(&entry);
	return err;
}

/*
 * lost: commit the batch, but the TPM's answer to the extend of its last
 * entry is lost (the TPM does it; the writer is not told); then rejoin as
 * the daemon does (extends.c), say what the rejoin found, and go on.
 */
static int lost_answer(struct epoch *ep, struct tpm *tpm, struct log *log, struct buf *batch)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	struct recover_scan *scan = NULL;
	struct recovery rec = {};
	struct epoch told;
	size_t last = 0, used, done = 0, took = 0;
	struct buf head, next;
	int err = 0;

	for (size_t off = 0; !err && off < batch->len; off += used) {
		last = off;
		err = template_decode(batch->p + off, batch->len - off, &e, &used, why);
	}
	head = (struct buf){ .p = batch->p, .len = last };
	next = (struct buf){ .p = batch->p + last, .len = batch->len - last };
	err = err ?: epoch_write(ep, log, batch) ?: epoch_extend(ep, tpm, &head, &done, 0);
	told = *ep; /* what the TPM did: only its copy of the replay learns of it */
	done = 0;
	err = err ?: epoch_extend(&told, tpm, &next, &done, 0);
	err = err ?: recover_rejoin(ep, tpm, false, &next, &took, &scan);
	printf("rejoin: %d, took %zu of the %zu bytes that waited\n", err, took, next.len);
	if (err == 1) /* reconciled from the log, as at start */
		err = recover_scan_step(scan, ep, tpm, 0, &rec);
	if (err == 1)
		err = recover_extend_tail(ep, tpm, &rec) ?: epoch_commit(ep, tpm, log, &rec.marks);
	recover_scan_free(scan);
	recovery_free(&rec);
	batch->len = 0;
	return err < 0 ? err : 0;
}

/* n ima-ng entries, of the paths /DIR/AT/FIRST on and of their own hashes. */
static void add_paths(struct buf *batch, uint32_t pcr, const char *dir, int at, unsigned int first,
		      unsigned int n)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	struct buf data = {};
	uint8_t digest[32];
	char path[64];

	for (unsigned int k = first; k < first + n; k++) {
		snprintf(path, sizeof(path), "/%s/%d/%u", dir, at, k);
		hashalg_digest(sha256, path, strlen(path), digest);
		data.len = 0;
		template_data_ng(&data, sha256, digest, path, NULL, 0);
		template_encode(batch, pcr, "ima-ng", data.p, data.len, false);
	}
	buf_free(&data);
}

/* The CPU time the writer has used, in us: a slice's work, whatever the host's load. */
static long long cpu_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/*
 * Commit the batch; write n entries more and take them into the replay,
 * unextended, as a TPM restarted from a state saved before their extends
 * lost them.
 */
static int lose_extends(struct epoch *ep, struct tpm *tpm, struct log *log, struct buf *batch,
			unsigned int n, int at)
{
	char why[TEMPLATE_WHY_LEN];
	struct template_entry e;
	size_t used;
	int err;

	err = epoch_commit(ep, tpm, log, batch);
	batch->len = 0;
	add_paths(batch, ep->pcr, "behind", at, 0, n);
	err = err ?: epoch_write(ep, log, batch);
	for (size_t off = 0; !err && off < batch->len; off += used, ep->entries++)
		err = template_decode(batch->p + off, batch->len - off, &e, &used, why)
			      ?: replay_entry(&ep->replay, &e);
	batch->len = 0;
	return err;
}

/*
 * behind:N:MS: commit the batch; write N entries more and take them into
 * the replay, unextended, as a TPM restarted from a state saved before
 * their extends lost them; then rejoin as the daemon does (extends.c): the
 * log read again MS ms a slice, an entry written between slices. With
 * stop, leave after that many slices, the scan not ended; with stray too,
 * extend the PCR there with an entry that is not logged, and go on.
 */
static int behind(struct epoch *ep, struct tpm *tpm, struct log *log, struct buf *batch,
		  unsigned int n, int slice_ms, unsigned int stop, bool stray, int at)
{
	struct recover_scan *scan = NULL;
	struct recovery rec = {};
	struct buf one = {};
	size_t took = 0;
	long long t, longest = 0, all = 0;
	unsigned int slices = 0, meanwhile = 0;
	int err;

	err = lose_extends(ep, tpm, log, batch, n, at);
	err = err ?: recover_rejoin(ep, tpm, false, NULL, &took, &scan);
	if (err != 1)
		fprintf(stderr, "writer: behind: the rejoin began no scan of the log (%d)\n", err);
	while (err == 1) {
		t = cpu_us();
		err = recover_scan_step(scan, ep, tpm, slice_ms, &rec);
		t = cpu_us() - t;
		longest = t > longest ? t : longest;
		all += t;
		slices++;
		if (err || (slices == stop && !stray))
			break; /* 1: done; 0: left before the end */
		/* Not done: the daemon logs a record between slices. */
		one.len = 0;
		add_paths(&one, ep->pcr, slices == stop ? "stray" : "meanwhile", at, meanwhile, 1);
		if (slices == stop) /* in the TPM, not in the log */
			err = epoch_extend(&(struct epoch){ .replay = ep->replay }, tpm, &one,
					   &(size_t){ 0 }, 0)
				      ?: 1;
		else
			err = epoch_write(ep, log, &one) ?: 1;
		meanwhile += slices != stop;
	}
	if (stray && err == -EAGAIN) { /* as the daemon's next rejoin */
		recover_scan_free(scan);
		scan = NULL;
		err = recover_rejoin(ep, tpm, false, NULL, &took, &scan);
		err = err == 1 ? recover_scan_step(scan, ep, tpm, 0, &rec) : err ?: -EINVAL;
	}
	printf("behind: %u slices, %u entries written between them, the longest %lld us of CPU "
	       "of %lld us in all\n",
	       slices, meanwhile, longest, all);
	if (stop && !stray && err >= 0) { /* a kill: the next start finds what the TPM lacks */
		err = slices == stop && !err ? 0 : -EINVAL;
		goto out;
	}
	err = err == 1 ? 0 : err ?: -EINVAL;
	err = err ?: recover_extend_tail(ep, tpm, &rec) ?: epoch_commit(ep, tpm, log, &rec.marks);
out:
	recover_scan_free(scan);
	recovery_free(&rec);
	buf_free(&one);
	return err;
}

/* Snapshots every this many entries, in the daemon daemon-behind makes. */
#define DAEMON_SNAP_ENTRIES 3

/*
 * Ask `status` on the control socket at path, as `bima status` does, from
 * a child, while this process serves it as the daemon's loop does; the
 * answer's lines go to standard output after "== status WHEN".
 */
static int status_now(const char *path, struct control *ctl, struct collector *c, const char *when)
{
	int status = 0, pid;
	pid_t child, done;

	printf("== status %s\n", when);
	fflush(stdout);
	child = fork();
	if (child < 0)
		return -errno;
	if (!child) {
		status = control_request(path, "status", 5000, false, stdout, &pid);
		fflush(stdout);
		_exit(status ? 1 : 0);
	}
	while ((done = waitpid(child, &status, WNOHANG)) == 0) {
		control_serve(ctl, collector_status, c);
		usleep(1000);
	}
	if (done < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "writer: status %s: no answer\n", when);
		return -EIO;
	}
	return 0;
}

/* The daemon logs an entry (of path /daemon/AT/K), to be extended in its turn. */
static int daemon_log(struct collector *c, struct buf *batch, int at, unsigned int k)
{
	batch->len = 0;
	add_paths(batch, c->ep.pcr, "daemon", at, k, 1);
	return epoch_write(&c->ep, c->log, batch) ?: queue_entries(c, batch->p, batch->len);
}

/* Extend all that waits, as the daemon's loop does; a TPM that fails is an error here. */
static int daemon_extend_all(struct collector *c)
{
	int err = 0;

	while (!err && (c->scan || waiting_bytes(c)))
		err = extend_pending(c, 0) ?: c->tpm ? 0 : -EIO;
	return err;
}

/*
 * daemon-behind:N:CONTROL: the daemon's own queue, rejoin and status
 * (user/daemon/), without its hooks. A daemon starts here, a snapshot due
 * every DAEMON_SNAP_ENTRIES entries; its TPM then lost the extends of the
 * last N entries logged before it started (as with behind:N), and went
 * away. The daemon logs an entry, finds the TPM gone, and rejoins it,
 * reading the log again 1 ms a round. `status` is asked on the control
 * socket CONTROL before the rejoin, after its first slice, and once its
 * scan ended; and whether a snapshot is due once the scan ended (its tail
 * waiting), once the TPM holds it all, and after an entry more. All is
 * printed; then the writer goes on with the epoch the daemon left.
 */
static int daemon_behind(struct epoch *ep, struct tpm *tpm, const char *tcti, const char *log_dir,
			 struct log **log, struct buf *batch, unsigned int n, const char *control,
			 int at)
{
	struct collector c = { .tcti = tcti,
			       .log_dir = log_dir,
			       .window = UNEXTENDED_WINDOW,
			       .snap_entries = DAEMON_SNAP_ENTRIES };
	unsigned int slices = 0;
	int map_fd = -1, err;

	err = lose_extends(ep, tpm, *log, batch, n, at);
	c.ep = *ep;
	c.log = *log;
	c.snap_last_time = time(NULL);
	snprintf(c.load_id, sizeof(c.load_id), "writer");
	if (!err) {
		map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "writer_rb", 0, 0, 1 << 16, NULL);
		err = map_fd < 0 ? -errno : ringbuf__open(map_fd, &c.rb);
		if (err)
			fprintf(stderr, "writer: cannot make a ring buffer: %s\n", strerror(-err));
	}
	err = err ?: control__open(control, &c.ctl);
	err = err ?: status_now(control, c.ctl, &c, "before the rejoin");
	/* The TPM went away: the first extend, of the entry the daemon logs, finds it gone. */
	err = err ?: daemon_log(&c, batch, at, 0);
	while (!err && (!slices || c.scan)) {
		err = extend_pending(&c, 1);
		if (!err && ++slices == 1)
			err = status_now(control, c.ctl, &c, "during the scan");
	}
	printf("daemon-behind: the scan took %u slices\n", slices);
	printf("daemon-behind: once it ended, %llu entries waiting: snapshot due: %s\n",
	       (unsigned long long)(c.queued_entries - c.extended_entries),
	       snapshot_due(&c) ? "yes" : "no");
	err = err ?: status_now(control, c.ctl, &c, "after the scan");
	err = err ?: daemon_extend_all(&c);
	printf("daemon-behind: all extended: snapshot due: %s\n", snapshot_due(&c) ? "yes" : "no");
	err = err ?: daemon_log(&c, batch, at, 1) ?: daemon_extend_all(&c);
	printf("daemon-behind: an entry more: snapshot due: %s\n", snapshot_due(&c) ? "yes" : "no");
	*ep = c.ep;
	*log = c.log;
	batch->len = 0;
	buf_free(&c.unextended);
	buf_free(&c.queued);
	recover_scan_free(c.scan);
	tpm__free(c.tpm);
	ringbuf__free(c.rb);
	if (map_fd >= 0)
		close(map_fd);
	control__free(c.ctl);
	return err;
}

/*
 * daemon-kernel:K: the daemon's own queue (user/daemon/), without its
 * hooks, starts here and logs an entry; the TPM does its extend, but the
 * answer is lost with the connection. Kernel IMA then measures K files,
 * /kernel/AT/I, into PCR 10 (kernel_measure()), before the daemon rejoins
 * the TPM: the TPM holds the whole log and then the kernel's last K
 * entries. The daemon then logs an entry more and extends it. Printed:
 * the entries the TPM holds once it rejoined, and those the daemon wrote,
 * by the daemon's counts. The writer goes on with the epoch it left.
 */
static int daemon_kernel(struct epoch *ep, struct tpm *tpm, const char *tcti, const char *log_dir,
			 struct log **log, struct buf *batch, unsigned int k, int at)
{
	struct collector c = { .tcti = tcti, .log_dir = log_dir, .window = UNEXTENDED_WINDOW };
	struct buf measured = {};
	struct epoch told;
	size_t done = 0;
	int err;

	if (!kernel_ima_dir || ep->pcr != 10) {
		fprintf(stderr, "writer: daemon-kernel needs --kernel-ima and PCR 10\n");
		return -EINVAL;
	}
	err = epoch_commit(ep, tpm, *log, batch);
	c.ep = *ep;
	c.log = *log;
	err = err ?: daemon_log(&c, batch, at, 0);
	told = c.ep; /* what the TPM did: only its copy of the replay learns of it */
	err = err ?: epoch_extend(&told, tpm, batch, &done, 0);
	add_paths(&measured, 10, "kernel", at, 0, k);
	err = err ?: kernel_measure(tpm, &measured);
	/* The daemon has no connection: its next extend rejoins the TPM, the scan in one go. */
	err = err ?: extend_pending(&c, 0) ?: c.tpm && !c.scan ? 0 : -EIO;
	printf("daemon-kernel: rejoined: the TPM holds %llu entries, the daemon wrote %llu\n",
	       (unsigned long long)c.ep.entries, (unsigned long long)c.written_entries);
	err = err ?: daemon_log(&c, batch, at, 1) ?: daemon_extend_all(&c);
	*ep = c.ep;
	*log = c.log;
	batch->len = 0;
	buf_free(&measured);
	buf_free(&c.unextended);
	buf_free(&c.queued);
	recover_scan_free(c.scan);
	tpm__free(c.tpm);
	return err;
}

/*
 * An argument that acts on the epoch rather than adds an entry (lost,
 * behind:N:MS, daemon-behind:N:CONTROL, daemon-kernel:K, snapshot, retain:MODE:N,
 * quote:...): done, with *err set.
 */
static bool act(const char *arg, int at, struct epoch *ep, struct tpm *tpm, const char *tcti,
		const char *log_dir, struct log **log, struct buf *batch, int *err)
{
	char mode[16];
	int path = 0;
	enum retention r;
	unsigned int n, stop = 0;
	char stray[8] = "";
	int slice;

	if (!strcmp(arg, "lost"))
		*err = lost_answer(ep, tpm, *log, batch);
	else if (sscanf(arg, "behind:%u:%d:%u:%7s", &n, &slice, &stop, stray) >= 2)
		*err = behind(ep, tpm, *log, batch, n, slice, stop, !strcmp(stray, "stray"), at);
	else if (sscanf(arg, "daemon-behind:%u:%n", &n, &path) == 1 && path)
		*err = daemon_behind(ep, tpm, tcti, log_dir, log, batch, n, arg + path, at);
	else if (sscanf(arg, "daemon-kernel:%u", &n) == 1)
		*err = daemon_kernel(ep, tpm, tcti, log_dir, log, batch, n, at);
	else if (!strcmp(arg, "snapshot"))
		*err = snapshot(ep, tpm, log_dir, log, batch);
	else if (sscanf(arg, "retain:%15[a-z]:%u", mode, &n) == 2)
		*err = anchor_retention_parse(mode, &r) ?: anchor_retain(ep->dir, r, n);
	else if (!strncmp(arg, "quote:", 6))
		*err = quote_entry(ep, tpm, log_dir, arg);
	else
		return false;
	return true;
}

int main(int argc, char **argv)
{
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	struct buf batch = {}, data = {};
	uint8_t digest[32] = {};
	struct epoch ep;
	struct tpm *tpm;
	const char *ascii = getenv("BIMA_ASCII_LINK"); /* keep the ASCII list, linked there */
	bool write_only = false;
	struct log *log;
	int err;

	for (int used = 1; used; argv += used, argc -= used) {
		used = 0;
		if (argc > 1 && !strcmp(argv[1], "--write-only")) {
			write_only = true;
			used = 1;
		} else if (argc > 2 && !strcmp(argv[1], "--kernel-ima")) {
			kernel_ima_dir = argv[2];
			used = 2;
		}
	}
	if (argc < 4 || !strncmp(argv[1], "--", 2)) {
		fprintf(stderr, "usage: writer [--write-only] [--kernel-ima DIR] TCTI LOG_DIR PCR "
				"PATH...\n");
		return 2;
	}
	err = tpm__open(argv[1], &tpm);
	err = err ?: kernel_ima_dir ? kernel_boot(tpm) : 0;
	err = err ?: epoch_begin(&ep, tpm, argv[2], atoi(argv[3]), ascii, &log);
	if (err)
		return 1;
	for (int i = 4; !err && i < argc; i++) {
		bool violation = !strncmp(argv[i], "violation:", 10);
		const char *name = violation ? argv[i] + 10 : argv[i];
		char path[64];
		unsigned int n;

		if (act(argv[i], i, &ep, tpm, argv[1], argv[2], &log, &batch, &err))
			continue;
		if (!strncmp(argv[i], "buf:", 4) && strchr(argv[i] + 4, ':')) {
			const char *text = strchr(argv[i] + 4, ':') + 1;

			snprintf(path, sizeof(path), "%.*s", (int)(text - 1 - argv[i] - 4),
				 argv[i] + 4);
			err = template_encode_buf(&batch, ep.pcr, path, text, strlen(text));
			continue;
		}
		if (!strncmp(argv[i], "bufhex:", 7) && strchr(argv[i] + 7, ':')) {
			/* bufhex:NAME:HEX, a buffer of any bytes: a key, as KEY_CHECK logs it */
			const char *hex = strchr(argv[i] + 7, ':') + 1;
			uint8_t bin[4096];
			size_t len = strlen(hex) / 2;

			snprintf(path, sizeof(path), "%.*s", (int)(hex - 1 - argv[i] - 7),
				 argv[i] + 7);
			for (size_t k = 0; k < len && k < sizeof(bin); k++)
				sscanf(hex + 2 * k, "%2hhx", &bin[k]);
			err = template_encode_buf(&batch, ep.pcr, path, bin,
						  len < sizeof(bin) ? len : sizeof(bin));
			continue;
		}
		if (sscanf(argv[i], "count:%u", &n) == 1) {
			add_paths(&batch, ep.pcr, "bench", i, 0, n);
			continue;
		}

		if (!violation && file_sha256(name, digest)) {
			fprintf(stderr, "writer: %s: cannot hash\n", name);
			return 1;
		}
		data.len = 0;
		template_data_ng(&data, sha256, violation ? (uint8_t[32]){} : digest, name, NULL,
				 0);
		template_encode(&batch, ep.pcr, "ima-ng", data.p, data.len, violation);
	}
	if (!err)
		err = write_only ? epoch_write(&ep, log, &batch)
				 : epoch_commit(&ep, tpm, log, &batch);
	printf("%s %lu\n", log_path(log), (unsigned long)ep.entries);
	log__close(log);
	epoch_end(&ep);
	tpm__free(tpm);
	buf_free(&batch);
	buf_free(&data);
	return err ? 1 : 0;
}
