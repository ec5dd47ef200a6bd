// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records read from the ring buffer become log entries: attribution,
 * userspace hashes, marks, repeats, losses and the bima_seq entries
 * (daemon.h).
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
int account_drops(struct collector *c)
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

int on_record(void *ctx, const void *data, size_t size)
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
int log_seqs(struct collector *c)
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
