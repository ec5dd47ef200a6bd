// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop. Each poll of the ring buffer turns what it drained into
 * log entries, writes them with one fdatasync (group commit), and only then
 * extends the TPM with them.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "epoch.h"
#include "kernel_ima.h"
#include "loader.h"
#include "msg.h"

_Static_assert(offsetof(struct bima_event, path) == sizeof(struct bima_event),
	       "a record's path starts right after its fixed part");

#define POLL_MS 200
#define BATCH_MAX (1u << 20) /* commit early when this many bytes are pending */
#define LOST_NAME "bima_lost_events"

struct collector {
	struct epoch ep;
	struct tpm *tpm;
	struct log *log;
	struct loader *bpf;
	struct buf batch;     /* encoded entries not yet written */
	struct buf scratch;   /* one entry's template data */
	uint64_t received;    /* records taken from the ring buffer */
	uint64_t lost_logged; /* losses already written to the log */
	int err;	      /* first error of the event callback */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static const char *hook_name(unsigned int hook)
{
	switch (hook) {
	case BIMA_HOOK_BPRM_CHECK:
		return "BPRM_CHECK";
	case BIMA_HOOK_MMAP_CHECK:
		return "MMAP_CHECK";
	default:
		return "?";
	}
}

static int commit(struct collector *c)
{
	int err = epoch_commit(&c->ep, c->tpm, c->log, &c->batch);

	c->batch.len = 0;
	return err;
}

/*
 * A loss the verifier must see: an ima-buf entry whose buffer says how many
 * events were lost and why, and which is extended like any other.
 */
static int log_loss(struct collector *c, uint64_t count, const char *why)
{
	uint8_t digest[HASHALG_MAX_SIZE];
	const struct hashalg *sha256 = hashalg_by_name("sha256", 6);
	char text[128];
	int n, err;

	n = snprintf(text, sizeof(text), "lost=%lu reason=%s", (unsigned long)count, why);
	pr_err("%lu measurement(s) lost: %s; recorded in the log", (unsigned long)count, why);
	c->scratch.len = 0;
	err = hashalg_digest(sha256, text, n, digest);
	err = err ?: template_data_ng(&c->scratch, sha256, digest, LOST_NAME, (uint8_t *)text, n);
	if (err)
		return err;
	return template_encode(&c->batch, c->ep.pcr, "ima-buf", c->scratch.p, c->scratch.len,
			       false);
}

/* Log what the kernel dropped since the last look. */
static int account_drops(struct collector *c)
{
	struct bima_stats st;
	int err = loader_stats(c->bpf, &st);

	if (err)
		return err;
	if (st.dropped <= c->lost_logged)
		return 0;
	err = log_loss(c, st.dropped - c->lost_logged, "ring_buffer_full");
	c->lost_logged = st.dropped;
	return err;
}

static int entry_from_event(struct collector *c, const struct bima_event *ev)
{
	static const uint8_t zero[HASHALG_MAX_SIZE];
	const struct hashalg *alg = NULL;
	const uint8_t *digest = ev->digest;
	const char *path = ev->path_len ? ev->path : "<unknown>";
	int err;

	if (ev->hash_algo >= 0)
		alg = hashalg_by_kernel_id(ev->hash_algo);
	if (!alg) {
		/* An entry with a zero digest: the file was seen but not measured. */
		pr_warn("%s %s: not hashed (%s)", hook_name(ev->hook), path,
			ev->hash_algo < 0 ? strerror(-ev->hash_algo) : "unknown hash algorithm");
		alg = hashalg_by_name("sha256", 6);
		digest = zero;
	}
	if (msg_max_level >= MSG_DEBUG) {
		char hex[2 * HASHALG_MAX_SIZE + 1];

		hex_encode(digest, alg->size, hex);
		pr_debug("#%lu %s pid %u (%.16s) %s:%s %s", (unsigned long)ev->seq,
			 hook_name(ev->hook), ev->tgid, ev->comm, alg->name, hex, path);
	}
	c->scratch.len = 0;
	err = template_data_ng(&c->scratch, alg, digest, path, NULL, 0);
	if (err)
		return err;
	return template_encode(&c->batch, c->ep.pcr, "ima-ng", c->scratch.p, c->scratch.len, false);
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct collector *c = ctx;
	const struct bima_event *ev = data;
	int err;

	c->received++;
	if (size < sizeof(*ev) || ev->path_len > size - sizeof(*ev) ||
	    (ev->path_len && ev->path[ev->path_len - 1] != '\0')) {
		err = log_loss(c, 1, "malformed_record");
	} else {
		err = entry_from_event(c, ev);
	}
	if (!err && c->batch.len >= BATCH_MAX)
		err = commit(c);
	if (err && !c->err)
		c->err = err;
	return err ? -1 : 0; /* a negative value stops ring_buffer__poll() */
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

static int loop(struct collector *c, struct ring_buffer *rb)
{
	time_t last_check = time(NULL);
	int n, err = 0;

	while (!stopping && !err) {
		n = ring_buffer__poll(rb, POLL_MS);
		if (n < 0 && n != -EINTR) {
			err = c->err ?: n;
			break;
		}
		err = account_drops(c) ?: commit(c);
		if (!err && time(NULL) != last_check) {
			last_check = time(NULL);
			err = check_kernel_ima(c);
		}
	}
	return err;
}

/* Stop measuring, then take and record everything still queued. */
static int drain(struct collector *c, struct ring_buffer *rb)
{
	struct bima_stats st;
	int n, err;

	loader_detach(c->bpf);
	n = ring_buffer__consume(rb);
	err = n < 0 ? (c->err ?: n) : 0;
	err = err ?: account_drops(c);
	err = err ?: loader_stats(c->bpf, &st);
	/* Every sequence number handed out was received or counted as dropped. */
	if (!err && st.next_seq > c->received + st.dropped)
		err = log_loss(c, st.next_seq - c->received - st.dropped, "unaccounted");
	err = err ?: commit(c);
	if (!err)
		pr_info("stopped: %lu measurements logged, %lu lost, log %s",
			(unsigned long)c->received, (unsigned long)st.dropped, log_path(c->log));
	return err;
}

int collector_run(const struct collector_opts *opts)
{
	struct loader_opts lo = { .ringbuf_size = opts->ringbuf_size };
	struct sigaction sa = { .sa_handler = on_signal };
	struct collector c = {};
	struct ring_buffer *rb = NULL;
	int err;

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	err = tpm__open(opts->tcti, &c.tpm);
	err = err ?: epoch_begin(&c.ep, c.tpm, opts->log_dir, opts->pcr, &c.log);
	err = err ?: loader__open(&lo, &c.bpf);
	if (err)
		goto out;
	rb = ring_buffer__new(loader_events_fd(c.bpf), on_event, &c, NULL);
	if (!rb) {
		err = -errno;
		pr_err("cannot open the ring buffer: %s", strerror(-err));
		goto out;
	}
	pr_info("measuring exec (BPRM_CHECK) and executable mmap (MMAP_CHECK) into PCR %u; "
		"log %s; BPF objects pinned in %s",
		opts->pcr, log_path(c.log), LOADER_PIN_DIR);

	err = loop(&c, rb);
	err = drain(&c, rb) ?: err;
out:
	ring_buffer__free(rb);
	loader__free(c.bpf);
	log__close(c.log);
	tpm__free(c.tpm);
	buf_free(&c.batch);
	buf_free(&c.scratch);
	return err;
}
