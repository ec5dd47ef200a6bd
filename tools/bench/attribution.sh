#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What attribution costs, side by side in one guest: a file rewritten and
# read ROUNDS times by a shell that moves itself, before each read, into
# the next of K cgroups (K = 1: one container; K = 4: a new container at
# every measurement, the worst case for ima-ng's bima_container marks),
# with no measurement, with bima-ct entries and with ima-ng entries and
# their marks (both on PCR 11, without the ASCII list, so that only the
# template differs).
#
#   tools/bench/attribution.sh [ROUNDS]   (default 500; in the 6.12 guest)
#
# Prints, per run, the workload's time and its ratio to no measurement,
# then what the log holds: the reads' entries, the marks, all entries (each
# is one extend per bank; bima_seq entries and the boot aggregate too), and
# the log's bytes per read's entry. FILE_CHECK needs Linux 6.9 or later.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${VMTEST:-}" != 1 ]; then
	[ -x "$top/bima" ] || make -C "$top" >/dev/null
	BIMA_BENCH_ROUNDS=${1:-500} exec "$top/tools/vmtest/vmtest.sh" --timeout 3600 --kernel 6.12 "$0"
fi

rounds=${BIMA_BENCH_ROUNDS:-500}
work=/tmp/bench-attribution
cg=/sys/fs/cgroup
mkdir -p "$work"
mountpoint -q $cg || mount -t cgroup2 cgroup2 $cg
for i in 0 1 2 3; do
	mkdir -p "$cg/machine.slice/libpod-$(printf '%064d' "$i").scope"
done
echo 'measure func=FILE_CHECK mask=^MAY_READ uid=0' >"$work/bima.policy"

# The shell's own clock, in ms: date(1) would be an exec from the guest's 9p root.
ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }
# workload K: ROUNDS rewrites and reads, each from the next of K cgroups
workload() {
	local k=$1 t0 i
	t0=$(ms)
	for i in $(seq "$rounds"); do
		echo $BASHPID >"$cg/machine.slice/libpod-$(printf '%064d' $((i % k))).scope/cgroup.procs"
		echo "round $i" >"$work/changing"
		read -r _ <"$work/changing"
	done
	echo $BASHPID >$cg/cgroup.procs
	echo $(($(ms) - t0))
}

# run TEMPLATE K PCR: the workload under bima (a log extends one PCR per TPM
# epoch: each run its own); prints "ms file-entries marks entries bytes"
run() {
	local log=$work/log-$1-$2 t
	"$top/bima" run --pcr "$3" --ascii none --template "$1" --policy "$work/bima.policy" \
		--log-dir "$log" >"$work/bima.out" 2>&1 &
	local pid=$!
	until grep -q 'measuring exec' "$work/bima.out"; do
		kill -0 "$pid" 2>/dev/null || { cat "$work/bima.out" >&2; exit 1; }
		sleep 0.2
	done
	t=$(workload "$2")
	kill -TERM "$pid"
	wait "$pid"
	"$top/bima" stop --unload --pcr "$3" --ascii none --template "$1" --log-dir "$log" >/dev/null 2>&1
	"$top/bima" log --log-dir "$log" >"$work/log.txt"
	echo "$t $(grep -c " $work/changing" "$work/log.txt") $(grep -c ' bima_container ' "$work/log.txt")" \
		"$(grep -c . "$work/log.txt") $(cat "$log"/epoch-*/segment-*.bin | wc -c)"
}

workload 1 >/dev/null # warm the page cache
echo "Linux $(uname -r), $rounds rounds"
echo
echo "| cgroups | template | workload | ratio | file entries | marks | all entries | log bytes per file entry |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
pcr=11
for k in 1 4; do
	none1=$(workload $k)
	ct=$(run bima-ct $k $pcr)
	ng=$(run ima-ng $k $((pcr + 1)))
	pcr=$((pcr + 2))
	none2=$(workload $k)
	none=$(((none1 + none2) / 2))
	echo "| $k | none | $none ms | 1.00 | - | - | - | - |"
	for r in "bima-ct $ct" "ima-ng $ng"; do
		read -r name t files marks entries bytes <<<"$r"
		awk -v k=$k -v name="$name" -v t="$t" -v n="$none" -v f="$files" -v m="$marks" \
			-v e="$entries" -v b="$bytes" 'BEGIN {
			printf "| %d | %s | %d ms | %.2f | %d | %d | %d | %.0f |\n", k, name, t, t / n,
				f, m, e, b / (f ? f : 1) }'
	done
done
