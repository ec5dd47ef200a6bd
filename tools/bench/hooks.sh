#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What each of bima's BPF programs costs a call, on the operations that
# are most frequent: the exec of an unchanged program, the open and read of
# an unchanged file, an executable mapping of one, the open of a file the
# policy does not measure, and a file rewritten before each read (hashed
# every time). The kernel's own counters of BPF programs
# (kernel.bpf_stats_enabled: run_cnt, run_time_ns, read with bpftool) are
# read before and after each workload; their difference is the cost of the
# programs that ran, a program at a time.
#
#   tools/bench/hooks.sh [--kernel 6.12|6.1] [--smp N] [--icount] [ROUNDS]
#                                                  (default 6.12, 1, 2000)
#
# With --icount (vmtest.sh --icount) the guest clock counts instructions,
# one a nanosecond: the figures are then instruction counts of the
# programs and the helpers and kernel functions they call, the same from
# one run to the next and whatever else the host runs. Without, they are
# nanoseconds under emulation, which mean little alone.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	bench_static_true "$top/.output/bench-true" || exit 1
	cc -O2 -static "$top/tools/bench/hookload.c" -o "$top/.output/bench-hookload" || exit 1
	bench_guest "$0" BIMA_BENCH_ROUNDS 2000 "$@"
fi

rounds=${BIMA_BENCH_ROUNDS:-2000}
work=/tmp/bench
load=$top/.output/bench-hookload
mkdir -p "$work/files" "$work/ramfs"
cp "$top/.output/bench-true" "$work/prog" # to tmpfs, which bima caches by its change cookie
head -c 65536 /dev/urandom >"$work/files/f1"
echo start >"$work/files/changing"
# Files the policy does not measure: on ramfs, which its first rule leaves
# out. Nor 9p, the guest's root: bpftool and hookload, hashed at each exec
# else (bima does not cache 9p), would weigh on the counters.
mount -t ramfs ramfs "$work/ramfs" || exit 1
head -c 65536 /dev/urandom >"$work/ramfs/f1"
bench_hook_policy "$work/bima.policy"

# Each program's run_cnt and run_time_ns, a line each: NAME CNT NS.
counters() {
	bpftool prog show --json |
		jq -r '.[] | select(.name != null and (.name | startswith("bima_"))) |
			"\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | sort
}

# delta OP FILE N: each program's calls and ns while hookload OP FILE N
# runs, a line each: NAME CALLS NS. The counters are read by bpftool,
# whose own exec, mappings and opens are counted too.
delta() {
	local before after
	before=$(counters)
	"$load" "$1" "$2" "$3" || exit 1
	after=$(counters)
	join <(echo "$before") <(echo "$after") | awk '{ print $1, $4 - $2, $5 - $3 }'
}

# phase NAME OP FILE: hookload OP FILE, ROUNDS times, after a warm-up (a
# first measurement), and a row for each program that ran a call an
# operation or more: its calls an operation and its ns a call. What the
# same with no operation costs (bpftool, hookload's own exec) is taken off.
phase() {
	local name=$1 none
	"$load" "$2" "$3" 2 || exit 1
	none=$(delta "$2" "$3" 0)
	join <(echo "$none") <(delta "$2" "$3" "$rounds") |
		awk -v name="$name" -v n="$rounds" '
			{ c = $4 - $2; t = $5 - $3 }
			c >= n / 2 { printf "| %s | %s | %.2f | %d |\n", name, $1, c / n, t / c }'
}

sysctl -q kernel.bpf_stats_enabled=1 || exit 1
bench_bima_start "$work/bima.policy" "$work/log" "$work/bima.out"
echo "Linux $(uname -r), $rounds operations a workload$([ -n "${BIMA_BENCH_NOTE:-}" ] && echo ", $BIMA_BENCH_NOTE")"
echo
echo "| workload | program | calls an operation | ns a call |"
echo "| --- | --- | --- | --- |"
phase "exec of an unchanged program" exec "$work/prog"
phase "open and read of an unchanged file" open "$work/files/f1"
phase "executable mapping of an unchanged file" mmap "$work/files/f1"
phase "open of a file the policy does not measure" open "$work/ramfs/f1"
phase "a file rewritten, then read" rewrite "$work/files/changing"
bench_bima_stop "$work/log"
