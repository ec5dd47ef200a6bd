#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A container's program, side by side in one guest: a 2 MB static program
# on an overlayfs mount whose lower layer is on tmpfs (as a container
# image's file) executed ROUNDS times, with no measurement, with bima, and
# with the kernel's own IMA, under the same policy (every exec). The file
# does not change: bima and IMA hash it once and take the rest from their
# caches, when they can.
#
#   tools/bench/overlay.sh [--kernel 6.12|6.1] [--smp N] [ROUNDS]   (6.12, 1, 400)
#   BIMA_RUN_OPTS="--ascii none" tools/bench/overlay.sh ...   more options for bima run
#
# Prints the time of the execs and its ratio to no measurement (the mean of
# a run before and one after bima's), and how many times bima hashed the
# program. The absolute times mean little under emulation; the ratios,
# taken in one boot, are the result. IMA goes last: its policy cannot be
# removed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	bench_static_true "$top/.output/bench-true-2m" $((2 << 20)) || exit 1
	bench_guest "$0" BIMA_BENCH_ROUNDS 400 "$@"
fi
. "$top/tools/vmtest/modules.sh"

rounds=${BIMA_BENCH_ROUNDS:-400}
work=/tmp/bench-overlay
mkdir -p "$work/lower" "$work/upper" "$work/work" "$work/merged"
cp "$top/.output/bench-true-2m" "$work/lower/prog"
load_module overlay || { echo "overlay: no overlay module for this kernel" >&2 && exit 1; }
mount -t overlay overlay -o "lowerdir=$work/lower,upperdir=$work/upper,workdir=$work/work" \
	"$work/merged" || exit 1
prog=$work/merged/prog
policy='measure func=BPRM_CHECK'

workload() {
	local t0 i
	t0=$(ms)
	for i in $(seq "$rounds"); do "$prog"; done
	echo $(($(ms) - t0))
}

workload >/dev/null # warm the page cache
none1=$(workload)

echo "$policy" >"$work/bima.policy"
bench_bima_start "$work/bima.policy" "$work/log" "$work/bima.out" -v
bima=$(workload)
sleep 1 # the last records reach the daemon's output
bench_bima_stop "$work/log"
hashed=$(grep -cE "debug: #[0-9]+ BPRM_CHECK .* $prog\$" "$work/bima.out")
none2=$(workload)
none=$(bench_mean "$none1" "$none2")

if bench_ima "$policy" 2>"$work/ima.err"; then
	ima=$(workload)
else
	ima=-
fi

echo "Linux $(uname -r), $(nproc) vCPU(s), $rounds execs of a $(($(stat -c %s "$prog") >> 10)) kB" \
	"program on overlayfs (lower layer on tmpfs); bima hashed it $hashed time(s)"
echo
bench_header
bench_row "exec of a program on overlayfs" "$none" "$bima" "$ima"
