/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The measurement policy, evaluated in the hooks: the rules of the slot in
 * force (bima_policy), in order, the first that matches deciding, as IMA
 * does, and the pseudo-hooks that evaluate an operation as two of IMA's
 * funcs. Part of measure.bpf.c, included where it needs it.
 */
#ifndef BIMA_POLICY_BPF_H
#define BIMA_POLICY_BPF_H

/* What a rule is matched against: the operation, the task and the file. */
struct subject {
	struct bima_policy *policy;
	__u32 hook, mask;
	__u32 uid, euid, suid, gid, egid, sgid, fowner, fgroup;
	bool cap_setuid, cap_setgid;
	__u64 fsmagic;
	__u64 fsuuid[2];
	struct super_block *sb;
	/* The file system type's name, read at the first rule with fsname=: one byte past
	 * the longest a rule compares, so that a longer name matches none. */
	bool fsname_read;
	union {
		char fsname[BIMA_FSNAME_LEN + 8];
		__u64 fsname_words[(BIMA_FSNAME_LEN + 8) / 8];
	};
	bool file;  /* false: the file conditions cannot match (BPF_CHECK) */
	int action; /* the first matching rule's, or 0 */
};

static __always_inline bool id_match(__u32 id, __u8 op, __u32 want)
{
	switch (op) {
	case BIMA_OP_LT:
		return id < want;
	case BIMA_OP_GT:
		return id > want;
	default:
		return id == want;
	}
}

/* As IMA: a task that may change its id matches by its saved and real id too. */
static __always_inline bool effective_match(__u32 eid, __u32 sid, __u32 id, bool may_change,
					    __u8 op, __u32 want)
{
	return id_match(eid, op, want) ||
	       (may_change && (id_match(sid, op, want) || id_match(id, op, want)));
}

static __always_inline bool fsname_match(const struct bima_rule *r, struct subject *sj)
{
	struct super_block *sb = sj->sb;
	__u64 want[BIMA_FSNAME_LEN / 8];

	if (!sj->fsname_read) {
		sj->fsname_read = true;
		/* A probe read: sb, kept in the loop's context, is no longer a BTF pointer. */
		bpf_probe_read_kernel_str(sj->fsname, sizeof(sj->fsname),
					  BPF_CORE_READ(sb, s_type, name));
	}
	__builtin_memcpy(want, r->fsname, sizeof(want));
	/* A name of BIMA_FSNAME_LEN bytes or more has no NUL in the words compared. */
	return want[0] == sj->fsname_words[0] && want[1] == sj->fsname_words[1];
}

static bool rule_matches(const struct bima_rule *r, struct subject *sj)
{
	__u64 uuid[2];

	if ((r->flags & BIMA_RULE_FUNC) && r->func != sj->hook)
		return false;
	if (!sj->file && (r->flags & BIMA_RULE_FILE))
		return false;
	if ((r->flags & BIMA_RULE_MASK) && r->mask != sj->mask)
		return false;
	if ((r->flags & BIMA_RULE_INMASK) && !(r->mask & sj->mask))
		return false;
	if ((r->flags & BIMA_RULE_UID) && !id_match(sj->uid, r->uid_op, r->uid))
		return false;
	if ((r->flags & BIMA_RULE_EUID) &&
	    !effective_match(sj->euid, sj->suid, sj->uid, sj->cap_setuid, r->euid_op, r->euid))
		return false;
	if ((r->flags & BIMA_RULE_GID) && !id_match(sj->gid, r->gid_op, r->gid))
		return false;
	if ((r->flags & BIMA_RULE_EGID) &&
	    !effective_match(sj->egid, sj->sgid, sj->gid, sj->cap_setgid, r->egid_op, r->egid))
		return false;
	if ((r->flags & BIMA_RULE_FOWNER) && !id_match(sj->fowner, r->fowner_op, r->fowner))
		return false;
	if ((r->flags & BIMA_RULE_FGROUP) && !id_match(sj->fgroup, r->fgroup_op, r->fgroup))
		return false;
	if ((r->flags & BIMA_RULE_FSMAGIC) && r->fsmagic != sj->fsmagic)
		return false;
	if (r->flags & BIMA_RULE_FSUUID) {
		__builtin_memcpy(uuid, r->fsuuid, sizeof(uuid));
		if (uuid[0] != sj->fsuuid[0] || uuid[1] != sj->fsuuid[1])
			return false;
	}
	if ((r->flags & BIMA_RULE_FSNAME) && !fsname_match(r, sj))
		return false;
	if ((r->flags & BIMA_RULE_CGROUP) &&
	    bpf_get_current_ancestor_cgroup_id(r->cgroup_level) != r->cgroup_id)
		return false;
	return true;
}

static long match_rule(__u32 i, void *ctx)
{
	struct subject *sj = ctx;
	struct bima_rule *r;

	if (i >= sj->policy->nrules)
		return 1;
	barrier_var(i); /* keep the mask below, the bound the verifier sees */
	r = &sj->policy->rules[i & (BIMA_RULES_MAX - 1)];
	if (!rule_matches(r, sj))
		return 0;
	sj->action = r->action;
	return 1; /* the first match decides */
}

#define POLICY_RETRIES 4

/*
 * Whether the policy in force measures this operation by a task of these
 * credentials. An evaluation that keeps meeting policy switches measures:
 * better one entry too many.
 */
static __always_inline bool policy_measures_as(struct inode *inode, __u32 hook, __u32 mask,
					       struct bima_stats *st, const struct cred *cred)
{
	struct subject sj = {
		.hook = hook,
		.mask = mask,
		.uid = cred->uid.val,
		.euid = cred->euid.val,
		.suid = cred->suid.val,
		.gid = cred->gid.val,
		.egid = cred->egid.val,
		.sgid = cred->sgid.val,
		.file = inode != NULL,
	};
	struct super_block *sb;
	__u32 caps = 0, slot;
	__u64 gen;
	int i;

	if (inode) { /* NULL where there is no file: the file conditions never match */
		sb = inode->i_sb;
		sj.sb = sb;
		sj.fowner = inode->i_uid.val;
		sj.fgroup = inode->i_gid.val;
		sj.fsmagic = sb->s_magic;
		bpf_probe_read_kernel(sj.fsuuid, sizeof(sj.fsuuid), &sb->s_uuid);
	}
	/* kernel_cap_t is u32[2] before Linux 6.3, a u64 since: bits 6, 7 in the first word. */
	bpf_probe_read_kernel(&caps, sizeof(caps), &cred->cap_effective);
	sj.cap_setuid = caps & (1u << CAP_SETUID);
	sj.cap_setgid = caps & (1u << CAP_SETGID);
	for (i = 0; i < POLICY_RETRIES; i++) {
		gen = __sync_fetch_and_add(&st->policy_gen, 0);
		slot = gen & 1;
		sj.policy = bpf_map_lookup_elem(&bima_policy, &slot);
		if (!sj.policy)
			return true;
		sj.action = 0;
		bpf_loop(BIMA_RULES_MAX, match_rule, &sj, 0);
		if (__sync_fetch_and_add(&st->policy_gen, 0) == gen)
			return sj.action == BIMA_MEASURE;
	}
	return true;
}

/* policy_measures_as() for the current task. */
static __always_inline bool policy_measures(struct inode *inode, enum bima_hook hook, __u32 mask,
					    struct bima_stats *st)
{
	return policy_measures_as(inode, hook, mask, st, bpf_get_current_task_btf()->cred);
}

/*
 * Operations IMA evaluates twice, as two funcs, the first that measures
 * naming the record; each stands for its two in the hooks, never in a
 * record:
 * - MMAP_BOTH, an executable mapping that asked for PROT_EXEC:
 *   MMAP_CHECK_REQPROT (the protection asked for), then MMAP_CHECK (the
 *   protection given); one made executable only by READ_IMPLIES_EXEC is
 *   MMAP_CHECK alone;
 * - BPRM_BOTH, an exec: BPRM_CHECK (by the task as it is), then
 *   CREDS_CHECK (by creds, bprm->cred: the credentials the kernel
 *   prepared for the exec, which an LSM's transition has changed at this
 *   hook, a setuid not yet).
 */
#define MMAP_BOTH 0xff
#define BPRM_BOTH 0xfe

/* The hook a record of this operation names, or 0 when the policy measures none of it. */
static __always_inline __u32 policy_hook(struct inode *inode, __u32 hook, __u32 mask,
					 struct bima_stats *st, const struct cred *creds)
{
	if (hook == MMAP_BOTH) {
		if (policy_measures(inode, BIMA_HOOK_MMAP_CHECK_REQPROT, mask, st))
			return BIMA_HOOK_MMAP_CHECK_REQPROT;
		hook = BIMA_HOOK_MMAP_CHECK;
	} else if (hook == BPRM_BOTH) {
		if (policy_measures(inode, BIMA_HOOK_BPRM_CHECK, mask, st))
			return BIMA_HOOK_BPRM_CHECK;
		return creds && policy_measures_as(inode, BIMA_HOOK_CREDS_CHECK, mask, st, creds)
			       ? BIMA_HOOK_CREDS_CHECK
			       : 0;
	}
	return policy_measures(inode, hook, mask, st) ? hook : 0;
}

#endif
