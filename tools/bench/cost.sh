#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What measuring costs, side by side in one guest: the same workload with no
# measurement, with bima, and with the kernel's own IMA, under the same
# policy (every exec, every executable mapping, every file root reads).
# The workload: execs of one program, and reads of files that do not change
# (both cached by bima and IMA after the first time), then reads of files
# rewritten before each read (hashed every time by both).
#
#   tools/bench/cost.sh [--kernel 6.12|6.1] [--smp N] [--icount] [ROUNDS]   (6.12, 1, 500)
#   BIMA_RUN_OPTS="--ascii none" tools/bench/cost.sh ...   more options for bima run
#
# Prints the time of each workload and its ratio to no measurement (the
# mean of a run before and one after bima's). Each timed run comes after
# the program's first exec and the files' first reads (warm, below). The
# absolute times mean little under emulation; the ratios, taken in one
# boot, are the result. With --icount (vmtest.sh's) the times are guest
# instructions, one a nanosecond, the same whatever the host's load (the
# timed loops wait for nothing: they exec nothing from the guest's 9p root).
# IMA goes last: its policy cannot be removed. The files are on tmpfs,
# which both cache by its change cookie.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	bench_static_true "$top/.output/bench-true" || exit 1
	bench_guest "$0" BIMA_BENCH_ROUNDS 500 "$@"
fi

rounds=${BIMA_BENCH_ROUNDS:-500}
work=/tmp/bench
mkdir -p "$work/files"
cp "$top/.output/bench-true" "$work/prog" # to tmpfs, as the files below
for i in $(seq 20); do head -c 65536 /dev/urandom >"$work/files/f$i"; done
policy='measure func=BPRM_CHECK mask=MAY_EXEC
measure func=MMAP_CHECK mask=MAY_EXEC
measure func=FILE_CHECK mask=^MAY_READ uid=0'

# The shell's own clock, in ms. Nothing in the timed loops execs a program
# of the guest's root (9p), such as seq(1) or date(1): bima does not cache
# 9p and would hash each, with its libraries, at each exec, while kernel
# IMA measures them once; that, not the reads, was most of bima's time here.
now_ms() { now=$((${EPOCHREALTIME/./} / 1000)); }

workload() {
	local t0 t1 t2 t3 i f now
	now_ms && t0=$now
	for ((i = 1; i <= rounds; i++)); do "$work/prog"; done
	now_ms && t1=$now
	for ((i = 1; i <= rounds; i++)); do
		for f in "$work"/files/f1 "$work"/files/f2 "$work"/files/f3 "$work"/files/f4; do
			read -r -n 1 _ <"$f"
		done
	done
	now_ms && t2=$now
	for ((i = 1; i <= rounds; i++)); do
		echo "round $i" >"$work/files/changing"
		read -r _ <"$work/files/changing"
	done
	now_ms && t3=$now
	echo "$((t1 - t0)) $((t2 - t1)) $((t3 - t2))"
}

# warm: before each timed run, the program's first exec and each unchanged
# file's first read, which bima and IMA hash and log (the first measurement
# of a file, burst.sh's row), then a pause without an exec while bima's
# daemon logs them and extends the TPM, and the kernel finishes what a
# bima stop left (it frees the trampolines after a grace period). The
# rows are of unchanged files: without it, the first hash of the 750 kB
# program and its TPM extend weighed on the execs' row (--icount 500 at
# 22cdd01: 1.06, IMA 1.12; with it, at the next build, 1.00, IMA 1.01).
# Under --icount, the run of no measurement after bima's took 4 % more
# instructions than the one before with a pause of 2 s, 1 % with 10 s.
warm() {
	local f
	"$work/prog"
	for f in "$work"/files/f1 "$work"/files/f2 "$work"/files/f3 "$work"/files/f4; do
		read -r -n 1 _ <"$f"
	done
	bench_pause 10
}

workload >/dev/null # warm the page cache
warm
none1=$(workload)

echo "$policy" >"$work/bima.policy"
bench_bima_start "$work/bima.policy" "$work/log" "$work/bima.out"
warm
bima=$(workload)
bench_bima_stop "$work/log"
opens=$(grep -c 'opens (FILE_CHECK)' "$work/bima.out")
warm
none2=$(workload) # before and after bima: the mean is the baseline
none=$(bench_mean "$none1" "$none2")

if bench_ima "$policy" 2>"$work/ima.err"; then
	warm
	ima=$(workload)
else
	ima="- - -"
fi

row() { # NAME INDEX
	bench_row "$1" "$(cut -d' ' -f"$2" <<<"$none")" "$(cut -d' ' -f"$2" <<<"$bima")" \
		"$(cut -d' ' -f"$2" <<<"$ima")"
}
echo "Linux $(uname -r), $rounds rounds; FILE_CHECK measured by bima: $([ "$opens" -gt 0 ] && echo yes || echo 'no (no file_post_open)')"
echo
bench_header
row "exec of one program" 1
row "reads of 4 unchanged files" 2
row "a file rewritten, then read" 3
# The two runs the baseline is the mean of: their spread is the noise.
echo
echo "no measurement, before bima and after it (ms, by row): $none1 / $none2"
