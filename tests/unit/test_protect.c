// SPDX-License-Identifier: GPL-2.0-only
/*
 * Self-protection's userspace decisions: --protect's values, which names
 * at the top of a log directory are bima's (a directory holding others is
 * not protected by default), the kernel's names of a file as the hooks
 * compare them, and which lines of /proc/PID/maps are code (bima_code).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "check.h"
#include "protect.h"

static void touch(const char *dir, const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

/* A scratch directory made from tmpl, a mkdtemp template; a test that cannot make one stops. */
static void scratch(char *tmpl)
{
	if (!mkdtemp(tmpl)) {
		perror(tmpl);
		exit(1);
	}
}

static void scratch_remove(const char *dir)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		exit(1);
}

static void test_parse(void)
{
	enum protect_mode mode = PROTECT_AUTO;

	CHECK(!protect_parse("yes", &mode) && mode == PROTECT_YES, "--protect yes", "%d", mode);
	CHECK(!protect_parse("no", &mode) && mode == PROTECT_NO, "--protect no", "%d", mode);
	CHECK_EQ(protect_parse("maybe", &mode), -EINVAL, "--protect maybe is refused");
	CHECK_EQ(protect_parse("", &mode), -EINVAL, "--protect with an empty value is refused");
}

/* Which names at the top of a log directory are bima's. */
static void test_names(void)
{
	CHECK(protect_own_name("epoch-3-1"), "an epoch directory is bima's", "");
	CHECK(protect_own_name("ak.pub") && protect_own_name("ak.priv"), "the attestation key is",
	      "");
	CHECK(protect_own_name(".ak.priv.tmp"), "and its temporary file (log_write_file)", "");
	CHECK(protect_own_name("lost+found"), "lost+found, at the root of a filesystem, too", "");
	CHECK(!protect_own_name("notes.txt"), "notes.txt is not bima's", "");
	CHECK(!protect_own_name("ak.pub.bak"), "nor ak.pub.bak", "");
	CHECK(!protect_own_name(".tmp"), "nor .tmp", "");
	CHECK(!protect_own_name(".bashrc.tmp"), "nor another temporary file", "");
}

/* A directory holding names of others is not protected by default. */
static void test_dir(void)
{
	char tmpl[] = "/tmp/bima-test-protect-XXXXXX", path[512], other[64] = "";

	scratch(tmpl);
	CHECK_EQ(protect_dir_is_own(tmpl, other, sizeof(other)), 1, "an empty directory is bima's");
	snprintf(path, sizeof(path), "%s/epoch-1-0", tmpl);
	mkdir(path, 0700);
	touch(tmpl, "ak.pub");
	touch(tmpl, "ak.priv");
	CHECK_EQ(protect_dir_is_own(tmpl, other, sizeof(other)), 1,
		 "one with an epoch and the attestation key is bima's");
	touch(tmpl, "notes.txt");
	CHECK_EQ(protect_dir_is_own(tmpl, other, sizeof(other)), 0,
		 "one that also holds notes.txt is not");
	CHECK_STR(other, "notes.txt", "and notes.txt is named");
	snprintf(path, sizeof(path), "%s/nowhere", tmpl);
	CHECK_EQ(protect_dir_is_own(path, other, sizeof(other)), -ENOENT,
		 "a missing directory cannot be read");
	scratch_remove(tmpl);
}

/* The kernel's names of a file, as the hooks compare them. */
static void test_ident(void)
{
	char tmpl[] = "/tmp/bima-test-protect-XXXXXX", path[512];
	__u64 dev = 0, ino = 0;
	struct stat st;

	scratch(tmpl);
	touch(tmpl, "ak.pub");
	snprintf(path, sizeof(path), "%s/ak.pub", tmpl);
	stat(path, &st);
	CHECK_EQ(protect_ident(path, &dev, &ino), 0, "the kernel's names of a file");
	CHECK_EQ(dev, (__u64)major(st.st_dev) << 20 | minor(st.st_dev),
		 "its device in the kernel's encoding, major << 20 | minor");
	CHECK_EQ(ino, st.st_ino, "its inode number");
	snprintf(path, sizeof(path), "%s/nowhere", tmpl);
	CHECK_EQ(protect_ident(path, &dev, &ino), -ENOENT, "a missing file has none");
	scratch_remove(tmpl);
}

/* Which lines of /proc/PID/maps are code (bima_code). */
static void test_maps(void)
{
	struct bima_file_id id = { 0 };

	CHECK(protect_code_line("7f3a1c000000-7f3a1c1a5000 r-xp 00028000 fd:01 1838093   "
				"                /usr/lib/x86_64-linux-gnu/libc.so.6\n",
				&id),
	      "an executable mapping of a file is code", "");
	CHECK_EQ(id.dev, (__u64)0xfd << 20 | 1, "its device, major << 20 | minor");
	CHECK_EQ(id.ino, 1838093, "its inode number");
	CHECK(protect_code_line("55d0-55e0 r-xp 00000000 103:0a 12 /x (deleted)\n", &id) &&
		      id.dev == ((__u64)0x103 << 20 | 0xa),
	      "a replaced file's mapping too, hex major and minor", "");
	CHECK(!protect_code_line("7f3a1c1a5000-7f3a1c1fd000 r--p 001cd000 fd:01 1838093 "
				 "/usr/lib/x86_64-linux-gnu/libc.so.6\n",
				 &id),
	      "a mapping that is not executable is not", "");
	CHECK(!protect_code_line("7ffd5b3e0000-7ffd5b3e2000 r-xp 00000000 00:00 0 [vdso]\n", &id),
	      "nor the vDSO, which is no file", "");
	CHECK(!protect_code_line("garbage\n", &id), "nor a line that is not a mapping", "");
}

static void test_decide(void)
{
	char tmpl[] = "/tmp/bima-test-protect-XXXXXX", path[512];
	bool on = true;

	scratch(tmpl);
	snprintf(path, sizeof(path), "%s/not-made", tmpl);
	CHECK_EQ(protect_decide(PROTECT_NO, path, &on), 0, "--protect no decides at once");
	CHECK(!on, "it is off", "");
	CHECK(access(path, F_OK), "and it creates no log directory", "");
	scratch_remove(tmpl);
}

TEST_MAIN(CASE(parse), CASE(names), CASE(dir), CASE(ident), CASE(maps), CASE(decide))
