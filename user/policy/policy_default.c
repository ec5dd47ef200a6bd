// SPDX-License-Identifier: GPL-2.0-only
/* The built-in policy (policy.h), `bima policy default`. */
#include "policy.h"

/* IMA's tcb policy (ima_policy=tcb) as of Linux 6.12, in its own language. */
const char policy_default[] =
	"# bima's default policy: IMA's ima_policy=tcb\n"
	"dont_measure fsmagic=0x9fa0\n"			   /* proc */
	"dont_measure fsmagic=0x62656572\n"		   /* sysfs */
	"dont_measure fsmagic=0x64626720\n"		   /* debugfs */
	"dont_measure fsmagic=0x1021994 func=FILE_CHECK\n" /* tmpfs: opens only */
	"dont_measure fsmagic=0x1cd1\n"			   /* devpts */
	"dont_measure fsmagic=0x42494e4d\n"		   /* binfmt_misc */
	"dont_measure fsmagic=0x73636673\n"		   /* securityfs */
	"dont_measure fsmagic=0xf97cff8c\n"		   /* selinuxfs */
	"dont_measure fsmagic=0x43415d53\n"		   /* smackfs */
	"dont_measure fsmagic=0x27e0eb\n"		   /* cgroup */
	"dont_measure fsmagic=0x63677270\n"		   /* cgroup2 */
	"dont_measure fsmagic=0x6e736673\n"		   /* nsfs */
	"dont_measure fsmagic=0xde5e81e4\n"		   /* efivarfs */
	"measure func=MMAP_CHECK mask=MAY_EXEC\n"
	"measure func=BPRM_CHECK mask=MAY_EXEC\n"
	"measure func=FILE_CHECK mask=^MAY_READ euid=0\n"
	"measure func=FILE_CHECK mask=^MAY_READ uid=0\n"
	"measure func=MODULE_CHECK\n"
	"measure func=FIRMWARE_CHECK\n"
	"measure func=POLICY_CHECK\n"
	"# and what IMA's architecture policy adds under secure boot\n"
	"measure func=KEXEC_KERNEL_CHECK\n"
	"measure func=KEXEC_INITRAMFS_CHECK\n"
	"# and bima's own: every BPF program\n"
	"measure func=BPF_CHECK\n";
