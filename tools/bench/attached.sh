#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What one operation costs in all, inside and outside bima's programs (the
# BPF trampolines, the LSM calls, the helpers): hookload OP repeated, with
# nothing attached, with programs that return at once on the hooks an open
# passes (the floor: what the BPF trampolines cost alone), with bima and all
# its programs, the same with
# kernel.bpf_stats_enabled=1 (hooks.sh's counters), with the daemon gone
# (the pinned links keep the hooks attached), then with its links removed
# one at a time: a row each, with what removing that link saved. Run with
# --icount: each figure is then guest instructions an operation, the least
# of three runs. Without it they are nanoseconds under emulation.
#
#   tools/bench/attached.sh [--kernel 6.12|6.1] [--icount] [open|exec|mmap]   (open)
#
# The operations are hookload's (open: open, read a byte, close a 64 kB
# file on tmpfs; exec: fork, exec a static program, wait; mmap: map a file
# executable, unmap), under hooks.sh's policy. Differences of a hundred
# instructions or so are noise (timer interrupts, the daemon's wakeups).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	bench_static_true "$top/.output/bench-true" || exit 1
	cc -O2 -static "$top/tools/bench/hookload.c" -o "$top/.output/bench-hookload" || exit 1
	make -s -C "$top" .output/bench/emptyhooks || exit 1
	bench_guest "$0" BIMA_BENCH_OP open "$@"
fi

op=${BIMA_BENCH_OP:-open}
case $op in
open | mmap) n=4000 ;;
exec) n=1000 ;;
*) echo "attached.sh: unknown operation $op (open, exec, mmap)" >&2 && exit 2 ;;
esac
work=/tmp/bench-attached
load=$work/hookload # on tmpfs: an exec from 9p waits for the host, whose load the clock would count
mkdir -p "$work/files"
cp "$top/.output/bench-hookload" "$load"
cp "$top/.output/bench-true" "$work/prog"
head -c 65536 /dev/urandom >"$work/files/f1"
file=$work/files/f1
[ "$op" = exec ] && file=$work/prog
bench_hook_policy "$work/bima.policy"

# run_ns N: ns (instructions with --icount) of a hookload run of N operations, the least of 3.
# The clock is the shell's own (microseconds): date(1), an exec from 9p, would add its wait.
run_ns() {
	local best='' s e _
	for _ in 1 2 3; do
		s=${EPOCHREALTIME/./}
		"$load" "$op" "$file" "$1" || exit 1
		e=${EPOCHREALTIME/./}
		[ -n "$best" ] && [ $((e - s)) -ge "$best" ] || best=$((e - s))
	done
	echo $((best * 1000))
}
# per_op: an operation's cost, hookload's own exec taken off
per_op() { echo $((($(run_ns $((n + 1))) - $(run_ns 1)) / n)); }

echo "Linux $(uname -r), $n operations ($op) a figure, the least of 3 runs"
echo
echo "| attached | instructions (ns) a $op | saved by the removal |"
echo "| --- | --- | --- |"
"$load" "$op" "$file" 2 || exit 1
per_op >/dev/null # the first seconds after boot count more, for whatever else the guest does then
echo "| nothing | $(per_op) | |"
if [ "$op" = open ]; then
	# The floor: programs that return at once, on the hooks of an open (emptyhooks.bpf.c).
	pins=/sys/fs/bpf/bench-empty
	mkdir -p "$pins"
	"$top/.output/bench/emptyhooks" "$pins" empty_file_open || exit 1
	echo "| an empty program on file_open | $(per_op) | |"
	if "$top/.output/bench/emptyhooks" "$pins" empty_post_open 2>/dev/null; then
		echo "| and one on file_post_open (sleepable) | $(per_op) | |"
	else
		echo "| (no file_post_open hook for BPF in this kernel) | | |"
	fi
	"$top/.output/bench/emptyhooks" "$pins" empty_file_free || exit 1
	echo "| and one on file_free_security | $(per_op) | |"
	rm -r "$pins"
fi
bench_bima_start "$work/bima.policy" "$work/log" "$work/bima.out" --protect no
"$load" "$op" "$file" 2 || exit 1
sleep 1
echo "| all of bima's programs, the daemon running | $(per_op) | |"
sysctl -q kernel.bpf_stats_enabled=1
echo "| the same, kernel.bpf_stats_enabled=1 | $(per_op) | |"
sysctl -q kernel.bpf_stats_enabled=0
kill -TERM "$bench_bima_pid"
wait "$bench_bima_pid"
prev=$(per_op)
echo "| all of bima's programs, no daemon | $prev | |"
for link in /sys/fs/bpf/bima/links/*; do
	rm "$link" # its last reference: the hook is detached
	now=$(per_op)
	echo "| all but those above and ${link##*/} | $now | $((prev - now)) |"
	prev=$now
done
"$top/bima" stop --unload --log-dir "$work/log" >/dev/null 2>&1
echo "| nothing, again | $(per_op) | |"
