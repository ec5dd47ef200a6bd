#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A container's program, side by side in one guest: a 2 MB static program
# on an overlayfs mount whose lower layer is on tmpfs (as a container
# image's file) executed ROUNDS times, with no measurement, with bima, and
# with the kernel's own IMA, under the same policy (every exec). The file
# does not change: bima and IMA hash it once and take the rest from their
# caches, when they can.
#
#   tools/bench/overlay.sh [--kernel 6.12|6.1] [--smp N] [--icount] [ROUNDS]   (6.12, 1, 400)
#   BIMA_RUN_OPTS="--ascii none" tools/bench/overlay.sh ...   more options for bima run
#
#   BIMA_BENCH_BLOCKS=N (4): turns of no measurement and bima (below)
#
# Prints the time of the execs and its ratio to no measurement, how many
# times bima hashed the program, and, from more execs after bima's last
# turn (untimed), each of bima's programs' calls an exec and time a call
# (the kernel's counters, as tools/bench/hooks.sh). The absolute times
# mean little under emulation; the ratios, taken in one boot, are the
# result. With --icount
# (vmtest.sh's) the times are guest instructions, one a nanosecond, the
# same whatever the host's load, but for the guest's waits (none is timed
# here: the loops exec nothing from the guest's 9p root, and the clock is
# the shell's own).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	bench_static_true "$top/.output/bench-true-2m" $((2 << 20)) || exit 1
	bench_guest "$0" BIMA_BENCH_ROUNDS 400 "$@"
fi
. "$top/tools/vmtest/modules.sh"

rounds=${BIMA_BENCH_ROUNDS:-400}
blocks=${BIMA_BENCH_BLOCKS:-4}
work=/tmp/bench-overlay
mkdir -p "$work/lower" "$work/upper" "$work/work" "$work/merged"
cp "$top/.output/bench-true-2m" "$work/lower/prog"
load_module overlay || { echo "overlay: no overlay module for this kernel" >&2 && exit 1; }
mount -t overlay overlay -o "lowerdir=$work/lower,upperdir=$work/upper,workdir=$work/work" \
	"$work/merged" || exit 1
prog=$work/merged/prog
policy='measure func=BPRM_CHECK'

# The shell's own clock, in microseconds, and a loop of the shell's own: an
# exec of date(1) or seq(1), on the guest's 9p root, waits for the host and,
# under bima, which does not cache 9p, is hashed with its libraries each
# time.
workload() { # N: milliseconds N execs took
	local t0 i
	t0=${EPOCHREALTIME/./}
	for ((i = 0; i < $1; i++)); do "$prog"; done
	echo $(((${EPOCHREALTIME/./} - t0) / 1000))
}

# counters: each of bima's programs' calls and run time (ns; instructions
# under --icount), a line each: NAME CALLS NS (kernel.bpf_stats_enabled).
# bpftool, jq and sort run from tmpfs: from the guest's 9p root, bima would
# hash them at each exec, its program's time would count the host's reads,
# and jq and sort, which run beside bpftool, fall before or after its read.
mkdir -p "$work/bin"
cp "$(command -v bpftool)" "$(command -v jq)" "$(command -v sort)" "$work/bin/"
counters() {
	"$work/bin/bpftool" prog show --json |
		"$work/bin/jq" -r '.[] | select(.name != null and (.name | startswith("bima_"))) |
			"\(.name) \(.run_cnt // 0) \(.run_time_ns // 0)"' | "$work/bin/sort"
}

# delta N: each program's calls and time over N execs: NAME CALLS NS. The
# execs of bpftool, jq and sort count too: programs takes off what the same
# with no exec costs.
delta() {
	local before after
	before=$(counters)
	workload "$1" >/dev/null
	after=$(counters)
	join <(echo "$before") <(echo "$after") | awk '{ print $1, $4 - $2, $5 - $3 }'
}

# programs N: a row for each of bima's programs that ran at least once
# every two execs of N: its calls an exec and its time a call, and their
# sum an exec, as tools/bench/hooks.sh's.
programs() {
	local none all
	delta 0 >/dev/null # bpftool, jq and sort hashed, once
	# One after the other: join and awk, from 9p, would run inside a window.
	none=$(delta 0)
	all=$(delta "$1")
	join <(echo "$none") <(echo "$all") |
		awk -v n="$1" '
			{ c = $4 - $2; t = $5 - $3 }
			c >= n / 2 { printf "| %s | %.2f | %d |\n", $1, c / n, t / c; sum += t }
			END { printf "| all of bima'"'"'s programs, an exec | | %d |\n", sum / n }'
}

# warm: the program's first exec under a new measurement, which hashes and
# logs it, then a pause without an exec while bima's daemon logs it and
# extends the TPM, and while the kernel finishes what a bima stop left
# (10 s: cost.sh's warm). The turns time an unchanged program: the first
# hash of the 2 MB program is burst.sh's row, not this one.
warm() {
	"$prog"
	bench_pause 10
}

# No measurement and bima take turns, BLOCKS times ROUNDS / BLOCKS execs
# each, so that a machine whose load drifts weighs on both alike; bima
# starts afresh for each of its turns (an empty cache: one hash a turn, in
# warm). IMA cannot be turned off: it runs last, against a turn of no
# measurement just before it.
per=$((rounds / blocks)) none=0 bima=0 hashed=0 turns_none='' turns_bima='' progs=''
workload "$per" >/dev/null # warm the page cache
echo "$policy" >"$work/bima.policy"
for ((b = 0; b < blocks; b++)); do
	warm
	t=$(workload "$per") && none=$((none + t)) turns_none+=" $t"
	bench_bima_start "$work/bima.policy" "$work/log" "$work/bima.out" -v
	warm
	t=$(workload "$per") && bima=$((bima + t)) turns_bima+=" $t"
	# After the last turn, untimed: what each of bima's programs costs.
	if ((b == blocks - 1)) && sysctl -q kernel.bpf_stats_enabled=1; then
		progs=$(programs "$per")
		sysctl -q kernel.bpf_stats_enabled=0
	fi
	bench_pause 1 # the last records reach the daemon's output
	bench_bima_stop "$work/log"
	hashed=$((hashed + $(grep -cE "debug: #[0-9]+ BPRM_CHECK .* $prog\$" "$work/bima.out")))
done
warm
none_last=$(workload $((per * blocks)))
if bench_ima "$policy" 2>"$work/ima.err"; then
	warm
	ima=$(workload $((per * blocks)))
else
	ima=-
fi

echo "Linux $(uname -r), $(nproc) vCPU(s), $((per * blocks)) execs of a" \
	"$(($(stat -c %s "$prog") >> 10)) kB program on overlayfs (lower layer on tmpfs)," \
	"in $blocks turns; bima's output shows $hashed hash(es) of it (not those" \
	"still in the ring buffer when it stopped)"
echo
bench_header
bench_row "exec of a program on overlayfs, in turns" "$none" "$bima" -
bench_row "the same, IMA against no measurement just before" "$none_last" - "$ima"
# Side by side: bima and IMA against all the runs of no measurement (their
# spread, the first two rows' baselines, is the noise of the figure).
bench_row "all three, against all the runs of no measurement" $(((none + none_last) / 2)) "$bima" "$ima"
echo
echo "each turn (ms): no measurement$turns_none; bima$turns_bima"
if [ -n "$progs" ]; then
	echo
	echo "bima's programs over $per more execs after its last turn (kernel.bpf_stats_enabled;"
	echo "instructions under --icount, the trampolines' own not counted):"
	echo
	echo "| program | calls an exec | ns a call |"
	echo "| --- | --- | --- |"
	echo "$progs"
fi
