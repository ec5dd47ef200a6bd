// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy language: every condition compiles to the rule bpf/bima.h
 * describes; the built-in policy is IMA's tcb policy; each kind of bad line
 * is refused with its line, column and reason; cgroup= takes the cgroup
 * directory's inode number and depth (a real directory stands in for the
 * cgroup2 root).
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "check.h"
#include "policy.h"

static char errors[4096];

/* Compile text; errors go to the errors buffer. */
static int compile_flags(struct policy *p, const char *text, const char *root, unsigned int flags)
{
	FILE *err;
	int n;

	errors[0] = '\0';
	err = fmemopen(errors, sizeof(errors), "w");

	n = policy_compile(p, text, "test.policy", root, flags, err);
	fclose(err);
	return n;
}

static int compile(struct policy *p, const char *text, const char *root)
{
	return compile_flags(p, text, root, 0);
}

static void bad_flags(const char *text, const char *want, const char *name, unsigned int flags)
{
	struct policy p;
	int n = compile_flags(&p, text, "/nonexistent", flags);

	CHECK(n == 1 && strstr(errors, want), name, "%d error(s): \"%s\", expected \"%s\"", n,
	      errors, want);
	policy_free(&p);
}

static void bad(const char *text, const char *want, const char *name)
{
	bad_flags(text, want, name, 0);
}

/* Compiles to nrules rules with no error, and a warning that says want (or none: NULL). */
static void warned(const char *text, size_t nrules, const char *want, const char *name)
{
	struct policy p;
	int n = compile(&p, text, "/nonexistent");

	CHECK(n == 0 && p.nrules == nrules && (want ? strstr(errors, want) != NULL : !errors[0]),
	      name, "%d error(s), %zu rule(s): \"%s\", expected %zu and \"%s\"", n, p.nrules,
	      errors, nrules, want ? want : "");
	policy_free(&p);
	if (want) /* each is an error under --strict */
		bad_flags(text, "", "and refused with POLICY_STRICT", POLICY_STRICT);
}

/*
 * Policies shaped as the real ones people have (written here, not copied):
 * the kernel documentation's example of a default policy, which mixes
 * measure and appraise rules; an SELinux system's, whose dont_measure rules
 * name LSM labels; a secure-boot architecture policy; an appraisal-only
 * one; a test suite's, which measures keys and critical data.
 */
static void test_shapes(void)
{
	struct policy p;

	CHECK_EQ(compile(&p,
			 "# PROC_SUPER_MAGIC\n"
			 "dont_measure fsmagic=0x9fa0\n"
			 "dont_appraise fsmagic=0x9fa0\n"
			 "# SYSFS_MAGIC\n"
			 "dont_measure fsmagic=0x62656572\n"
			 "dont_appraise fsmagic=0x62656572\n"
			 "measure func=FILE_MMAP mask=MAY_EXEC\n"
			 "measure func=BPRM_CHECK\n"
			 "measure func=FILE_CHECK mask=MAY_READ uid=0\n"
			 "appraise fowner=0\n"
			 "appraise func=BPRM_CHECK appraise_type=imasig\n",
			 "/"),
		 0, "a mixed measure and appraise policy compiles");
	CHECK_EQ(p.nrules, 5, "to its measure and dont_measure rules");
	CHECK(p.rules[2].action == BIMA_MEASURE && p.rules[2].func == BIMA_HOOK_MMAP_CHECK &&
		      p.rules[4].uid == 0,
	      "in their order", "");
	CHECK(strstr(errors,
		     "test.policy: warning: 4 rule(s) of IMA's appraise, dont_appraise, audit, "
		     "hash or dont_hash actions skipped, the first at line 3") != NULL,
	      "one warning counts the skipped rules", "%s", errors);
	policy_free(&p);
	CHECK_EQ(compile_flags(&p, "measure func=BPRM_CHECK\nappraise func=BPRM_CHECK\n", "/",
			       POLICY_STRICT),
		 1, "POLICY_STRICT refuses an appraise rule");
	CHECK(strstr(errors, "test.policy:2:1: \"appraise\": bima only measures") != NULL,
	      "and names it", "%s", errors);
	policy_free(&p);

	CHECK_EQ(compile(&p,
			 "dont_measure obj_type=var_log_t\n"
			 "dont_measure obj_type=auditd_log_t func=FILE_CHECK\n"
			 "dont_measure fsmagic=0x9fa0\n"
			 "measure func=BPRM_CHECK template=ima-ng\n"
			 "measure func=FILE_CHECK mask=^MAY_READ euid=0 template=ima-sig\n",
			 "/"),
		 0, "an SELinux system's policy compiles");
	CHECK_EQ(p.nrules, 3, "without the dont_measure rules on LSM labels");
	CHECK(p.rules[0].fsmagic == 0x9fa0 && p.rules[1].func == BIMA_HOOK_BPRM_CHECK,
	      "the rest in order", "");
	CHECK(strstr(errors, "test.policy:1:14: warning: dont_measure with obj_type=var_log_t (an "
			     "LSM label, which bima cannot evaluate): the rule is dropped") != NULL,
	      "each dropped rule is named, with why", "%s", errors);
	CHECK(strstr(errors, "test.policy:5:47: warning: template=ima-sig: bima writes its own") !=
		      NULL,
	      "a template other than ima-ng is named", "%s", errors);
	CHECK(!strstr(errors, "template=ima-ng"), "template=ima-ng, what bima writes, is not", "%s",
	      errors);
	policy_free(&p);

	/* A secure-boot architecture policy: kexec and modules appraised and measured. */
	CHECK_EQ(compile(&p,
			 "appraise func=KEXEC_KERNEL_CHECK appraise_type=imasig|modsig\n"
			 "appraise func=MODULE_CHECK appraise_type=imasig|modsig\n"
			 "measure func=KEXEC_KERNEL_CHECK\n"
			 "measure func=MODULE_CHECK\n",
			 "/"),
		 0, "a secure-boot policy compiles");
	CHECK(p.nrules == 2 && p.rules[0].func == BIMA_HOOK_KEXEC_KERNEL_CHECK &&
		      p.rules[1].func == BIMA_HOOK_MODULE_CHECK,
	      "to its two measure rules", "%zu", p.nrules);
	policy_free(&p);
	/* An appraisal-only policy (appraise_tcb): nothing to measure, and it says so. */
	CHECK_EQ(compile(&p,
			 "dont_appraise fsmagic=0x9fa0\n"
			 "appraise func=MODULE_CHECK appraise_type=imasig\n"
			 "appraise fowner=0\n",
			 "/"),
		 0, "an appraisal-only policy compiles");
	CHECK_EQ(p.nrules, 0, "to no rule");
	CHECK(strstr(errors, "3 rule(s) of IMA's appraise") != NULL, "all three are counted", "%s",
	      errors);
	policy_free(&p);
	/* A test suite's keys and critical data: measured by kernel IMA only, refused by name. */
	CHECK_EQ(compile(&p,
			 "measure func=KEY_CHECK keyrings=.ima|.builtin_trusted_keys "
			 "template=ima-buf\n"
			 "measure func=CRITICAL_DATA label=selinux\n"
			 "measure func=BPRM_CHECK\n",
			 "/"),
		 2, "a policy measuring keys and critical data is refused");
	CHECK(strstr(errors, "1:14: func=KEY_CHECK: IMA has it, bima does not measure it") !=
			      NULL &&
		      strstr(errors, "2:14: func=CRITICAL_DATA: IMA has it, bima does not") != NULL,
	      "each line named, with what to do", "%s", errors);
	policy_free(&p);
}

/* A rule with every condition compiles to bpf/bima.h's rule, and prints back. */
static void test_rule(void)
{
	struct bima_rule *r;
	struct policy p;
	char *out;
	size_t len;
	FILE *f;

	CHECK_EQ(compile(&p,
			 "measure func=FILE_CHECK mask=^MAY_READ uid>999 euid<5 fowner=0 "
			 "fgroup=7 gid=100 egid>4 fsmagic=0x1021994 fsname=tmpfs pcr=11 "
			 "fsuuid=0123abcd-4567-89ab-cdef-0123456789AB\n",
			 "/"),
		 0, "a rule with every condition compiles");
	r = &p.rules[0];
	CHECK_EQ(p.nrules, 1, "one rule");
	CHECK_EQ(r->action, BIMA_MEASURE, "measure");
	CHECK_EQ(r->func, BIMA_HOOK_FILE_CHECK, "func=FILE_CHECK");
	CHECK_EQ(r->mask, BIMA_MAY_READ, "mask MAY_READ");
	CHECK(r->flags & BIMA_RULE_INMASK && !(r->flags & BIMA_RULE_MASK), "^ means contains", "");
	CHECK(r->uid == 999 && r->uid_op == BIMA_OP_GT, "uid>999", "%u %u", r->uid, r->uid_op);
	CHECK(r->euid == 5 && r->euid_op == BIMA_OP_LT, "euid<5", "%u %u", r->euid, r->euid_op);
	CHECK(r->fowner == 0 && r->fowner_op == BIMA_OP_EQ, "fowner=0", "");
	CHECK_EQ(r->fgroup, 7, "fgroup=7");
	CHECK(r->gid == 100 && r->gid_op == BIMA_OP_EQ && (r->flags & BIMA_RULE_GID), "gid=100",
	      "%u %u", r->gid, r->gid_op);
	CHECK(r->egid == 4 && r->egid_op == BIMA_OP_GT && (r->flags & BIMA_RULE_EGID), "egid>4",
	      "%u %u", r->egid, r->egid_op);
	CHECK(!memcmp(r->fsname, "tmpfs\0\0\0\0\0\0\0\0\0\0", BIMA_FSNAME_LEN) &&
		      (r->flags & BIMA_RULE_FSNAME),
	      "fsname=tmpfs, NUL-padded", "%.16s", r->fsname);
	CHECK_EQ(r->fsmagic, 0x1021994, "fsmagic in hex");
	CHECK_EQ(r->pcr, 11, "pcr=11");
	CHECK(r->fsuuid[0] == 0x01 && r->fsuuid[4] == 0x45 && r->fsuuid[15] == 0xab,
	      "fsuuid bytes in order", "%02x %02x %02x", r->fsuuid[0], r->fsuuid[4], r->fsuuid[15]);
	f = open_memstream(&out, &len);
	policy_print(&p, f);
	fclose(f);
	CHECK_STR(out,
		  " 1: measure func=FILE_CHECK mask=^MAY_READ uid>999 euid<5 fowner=0 fgroup=7 "
		  "gid=100 egid>4 fsname=tmpfs fsmagic=0x1021994 "
		  "fsuuid=0123abcd-4567-89ab-cdef-0123456789ab pcr=11\n",
		  "the compiled rule prints back in the policy language");
	free(out);
	policy_free(&p);
}

/* The built-in policy: IMA's tcb policy. */
static void test_default(void)
{
	struct policy p;

	CHECK_EQ(compile(&p, policy_default, "/"), 0, "the built-in policy compiles");
	CHECK_EQ(p.nrules, 23, "13 dont_measure and 7 measure rules of tcb, 2 kexec, BPF_CHECK");
	CHECK(p.rules[3].func == BIMA_HOOK_FILE_CHECK && p.rules[3].fsmagic == 0x1021994,
	      "tmpfs is skipped for FILE_CHECK only", "");
	CHECK(p.rules[13].func == BIMA_HOOK_MMAP_CHECK && p.rules[13].mask == BIMA_MAY_EXEC,
	      "then MMAP_CHECK mask=MAY_EXEC is measured", "");
	CHECK(p.rules[21].func == BIMA_HOOK_KEXEC_INITRAMFS_CHECK &&
		      p.rules[21].flags == BIMA_RULE_FUNC,
	      "the last rule measures every KEXEC_INITRAMFS_CHECK", "");
	policy_free(&p);
}

/* Comments, blank lines and IMA's old func names. */
static void test_comments(void)
{
	struct policy p;

	CHECK_EQ(compile(&p, "# comment\n\n  \t\ndont_measure func=FILE_MMAP\n", "/"), 0,
		 "comments, blank lines and IMA's old func names");
	CHECK(p.nrules == 1 && p.rules[0].func == BIMA_HOOK_MMAP_CHECK, "FILE_MMAP is MMAP_CHECK",
	      "");
	policy_free(&p);
}

/* Funcs bima does not take, named with those it takes. */
static void test_func(void)
{
	bad("measure func=FOO\n", "test.policy:1:14: func=FOO: no such func", "an unknown func");
	bad("measure func=KEXEC_CMDLINE\n", "1:14: func=KEXEC_CMDLINE: IMA has it, bima does not",
	    "an IMA func bima does not measure");
	bad("measure func=NOPE_CHECK\n",
	    "func=NOPE_CHECK: no such func (BPRM_CHECK, MMAP_CHECK, FILE_CHECK, MODULE_CHECK, "
	    "FIRMWARE_CHECK, KEXEC_KERNEL_CHECK, KEXEC_INITRAMFS_CHECK, POLICY_CHECK, BPF_CHECK, "
	    "MMAP_CHECK_REQPROT, CREDS_CHECK)",
	    "the funcs bima takes are listed, BPF_CHECK too");
	bad("measure func<BPRM_CHECK\n", "1:9: func takes '=', not '<'", "< on func");
}

/* Actions: a misspelt one, and one IMA has that bima does not. */
static void test_action(void)
{
	bad("mesure func=BPRM_CHECK\n", "1:1: \"mesure\" is not an action", "a misspelt action");
	bad_flags("\nappraise func=BPRM_CHECK\n",
		  "test.policy:2:1: \"appraise\": bima only measures", "an appraise rule, strict",
		  POLICY_STRICT);
}

/* Values a key does not take. */
static void test_values(void)
{
	bad("measure mask=MAY_RAED\n", "1:14: mask=MAY_RAED: not one of", "a misspelt mask");
	bad("measure uid=root\n", "1:13: uid=: \"root\" is not a numeric id", "a uid by name");
	bad("measure fsmagic=0xzz\n", "1:17: fsmagic=0xzz: not a hexadecimal", "a bad fsmagic");
	bad("measure fsuuid=1234\n", "1:16: fsuuid=1234: not a UUID", "a short fsuuid");
	bad("measure fsname=a_name_of_16_byte\n",
	    "1:16: fsname=a_name_of_16_byte: not a file system",
	    "an fsname= longer than a file system type's name");
}

/* One PCR, 0 to 23, on measure rules. */
static void test_pcr(void)
{
	bad("measure pcr=24\n", "1:13: pcr=24: IMA takes up to 63, but a TPM has 24 PCRs (0-23)",
	    "a PCR IMA takes, past the TPM's 23");
	bad("measure pcr=64\n", "1:13: pcr=64: not a PCR number", "a PCR past 63");
	bad("measure func=BPRM_CHECK pcr=11\nmeasure func=MMAP_CHECK pcr=12\n",
	    "2:29: pcr=12, but line 1 has pcr=11: one log replays one PCR",
	    "two different PCRs, which no daemon can load");
	warned("measure func=BPRM_CHECK pcr=11\nmeasure func=MMAP_CHECK pcr=11\n", 2, NULL,
	       "the same PCR twice");
	warned("dont_measure fsmagic=0x9fa0 pcr=11\n", 1,
	       "1:29: warning: pcr= on a dont_measure rule: kernel IMA refuses the line",
	       "pcr= on dont_measure, which IMA refuses, is flagged");
}

/* What IMA refuses or does, and bima does not. */
static void test_ima(void)
{
	warned("measure func=BPRM_CHECK # exec\n", 1,
	       "1:25: warning: a comment after a rule: kernel IMA refuses the line",
	       "a comment after a rule, which IMA refuses, is flagged");
	warned("measure func=BPRM_CHECK permit_directio\n", 1,
	       "1:25: warning: permit_directio: IMA's, for direct I/O on appraised files",
	       "permit_directio is IMA's, and ignored");
	warned("dont_measure func=KEY_CHECK\nmeasure func=BPRM_CHECK\n", 1,
	       "1:14: warning: dont_measure with func=KEY_CHECK (a func bima does not measure",
	       "a dont_measure rule on a func bima does not measure is dropped");
	warned("dont_measure obj_user=system_u subj_type=init_t\n", 0,
	       "1:14: warning: dont_measure with obj_user=system_u (an LSM label",
	       "a dont_measure rule with two LSM labels is dropped, naming the first");
	warned("measure template=ima-ngv2\n", 1, "1:9: warning: template=ima-ngv2: bima writes",
	       "another template is named");
	bad("measure template=ima-foo\n", "1:18: template=ima-foo: not one of IMA's templates",
	    "an unknown template");
	bad("dont_measure template=ima-ng\n", "1:14: template= is for measure rules",
	    "template= on dont_measure, which IMA refuses");
}

/* Keys and conditions bima refuses. */
static void test_keys(void)
{
	bad("measure keyrings=.ima\n", "1:9: keyrings=.ima: a keyring (func=KEY_CHECK), which",
	    "measure keyrings= is refused");
	bad("measure appraise_type=imasig\n", "1:9: appraise_type= is an appraisal option",
	    "an appraisal option on a measure rule");
	bad("measure lsm=selinux\n", "1:9: lsm=: no such key in IMA or bima; IMA's LSM",
	    "lsm= is said to be no one's");
	bad("measure func=BPRM_CHECK func=MMAP_CHECK\n", "1:25: func is given twice",
	    "a key given twice");
	bad("measure obj_type=bin_t\n",
	    "1:9: obj_type=bin_t: an LSM label, which bima cannot evaluate; without the "
	    "condition, the rule measures more than IMA would",
	    "an LSM condition on a measure rule");
	bad("measure colour=red\n", "1:9: unknown key \"colour\"", "an unknown key");
	bad("measure func\n", "1:9: \"func\" is not a condition", "a key without a value");
}

/* One rule past BIMA_RULES_MAX. */
static void test_many(void)
{
	struct policy p;
	char *many;

	many = malloc((BIMA_RULES_MAX + 1) * 32);
	many[0] = '\0';
	for (int i = 0; i <= BIMA_RULES_MAX; i++)
		strcat(many, "measure func=BPRM_CHECK\n");
	CHECK_EQ(compile(&p, many, "/"), 1, "one rule too many is one error");
	CHECK(strstr(errors, "test.policy:65:1: more than 64 rules") != NULL, "it names the line",
	      "%s", errors);
	policy_free(&p);
	free(many);
}

/* cgroup= takes the directory's inode number and depth; a real directory stands in
 * for the cgroup2 root, with the runtimes' layouts below it. */
static void test_cgroup(void)
{
	char root[] = "/tmp/bima-test-cgroup-XXXXXX", sub[128], text[256];
	struct policy p;
	struct stat st;

	bad("measure cgroup=/no/such\n", "1:16: cgroup=/no/such: no such cgroup",
	    "a cgroup that does not exist");
	bad("measure cgroup=relative\n", "1:16: cgroup=: \"relative\" is neither an absolute",
	    "a relative cgroup path");
	bad("measure cgroup=docker:4f3c\n",
	    "1:16: cgroup=docker:4f3c: no running container's cgroup matches",
	    "a container that does not run");

	if (!mkdtemp(root))
		exit(1);
	snprintf(sub, sizeof(sub), "%s/kubepods.slice", root);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/kubepods.slice/pod1", root);
	mkdir(sub, 0700);
	stat(sub, &st);
	CHECK_EQ(compile(&p, "measure cgroup=/kubepods.slice/pod1\n", root), 0,
		 "cgroup= of an existing cgroup compiles");
	CHECK_EQ(p.rules[0].cgroup_id, st.st_ino, "its id is the directory's inode number");
	CHECK_EQ(p.rules[0].cgroup_level, 2, "two levels below the root");
	policy_free(&p);

	/* The runtimes' layouts: the kubelet's top cgroup; a container by its id. */
	CHECK_EQ(compile(&p, "measure cgroup=kubepods\n", root), 0, "cgroup=kubepods compiles");
	CHECK_STR(p.cgroups[0], "/kubepods.slice", "to the systemd driver's /kubepods.slice");
	policy_free(&p);
	for (int i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/kubepods.slice/pod1/crio-%s.scope", root,
			 i ? "4f3c2b1a4f3c2b1a" : "4f3c2b1a00000000");
		mkdir(sub, 0700);
	}
	snprintf(sub, sizeof(sub), "%s/kubepods.slice/pod1/crio-4f3c2b1a4f3c2b1a.scope/sub", root);
	mkdir(sub, 0700);
	snprintf(sub, sizeof(sub), "%s/kubepods.slice/pod1/crio-4f3c2b1a4f3c2b1a.scope", root);
	stat(sub, &st);
	CHECK_EQ(compile(&p, "dont_measure cgroup=cri-o:4f3c2b1a4f\n", root), 0,
		 "cgroup=cri-o:PREFIX compiles");
	CHECK_STR(p.cgroups[0], "/kubepods.slice/pod1/crio-4f3c2b1a4f3c2b1a.scope",
		  "to the container's cgroup, not its sub-cgroup");
	CHECK_EQ(p.rules[0].cgroup_id, st.st_ino, "its id is that directory's inode number");
	CHECK_EQ(p.rules[0].cgroup_level, 3, "three levels below the root");
	policy_free(&p);
	CHECK_EQ(compile(&p, "measure cgroup=cri-o:4f3c2b1a\n", root), 1,
		 "a prefix of two containers' ids is refused");
	CHECK(strstr(errors, "more than one container matches") != NULL, "and says why", "%s",
	      errors);
	policy_free(&p);
	snprintf(text, sizeof(text), "rm -rf '%s'", root);
	if (system(text))
		exit(1);
}

TEST_MAIN(CASE(rule), CASE(default), CASE(comments), CASE(func), CASE(action), CASE(values),
	  CASE(pcr), CASE(ima), CASE(keys), CASE(shapes), CASE(many), CASE(cgroup))
