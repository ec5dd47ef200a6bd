// SPDX-License-Identifier: GPL-2.0-only
/*
 * tools/bench/attached.sh's floor: programs that return at once, on the
 * hooks an open, read and close of a file passes through, so that what the
 * BPF trampolines and the LSM calls cost alone can be told from what
 * bima's programs do in them. The same kinds as bima's: file_post_open is
 * sleepable, as bima's must be to hash.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/file_open")
int BPF_PROG(empty_file_open, struct file *file, int ret)
{
	return ret;
}

SEC("lsm.s/file_post_open")
int BPF_PROG(empty_post_open, struct file *file, int mask, int ret)
{
	return ret;
}

SEC("lsm/file_free_security")
int BPF_PROG(empty_file_free, struct file *file)
{
	return 0;
}
