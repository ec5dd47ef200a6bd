#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# bima-initramfs-join (tools/initramfs), bima.service's ExecStartPre, on a
# directory taken for / (BIMA_JOIN_ROOT): with no initramfs log it does
# nothing; it copies the initramfs's epoch into the log directory
# (bima.conf's log-dir), whole, and prints the initramfs daemon's output
# once; it leaves an epoch the log directory has (a restart); it refuses,
# copying nothing, while the initramfs's daemon runs; a copy that fails
# fails the unit, leaves neither the epoch nor epoch-join.tmp, and keeps
# the initramfs's log; a temporary left by a crash is replaced.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
join=$top/tools/initramfs/bima-initramfs-join
work=$(mktemp -d /tmp/bima-join.XXXXXX)
trap 'rm -rf "$work"' EXIT

r=$work/root
mkdir -p "$r/run/bima" "$r/etc/bima" "$r/var/lib"
BIMA_JOIN_ROOT=$r "$join" >"$work/none.out" 2>&1
check_eq "no initramfs log: exits 0" $? 0
check_eq "and makes nothing" "$(ls "$r/var/lib")" ""

# An epoch as the initramfs's daemon left it.
e=$r/run/bima/initramfs-log/epoch-7-0
mkdir -p "$e"
seq 1000 >"$e/segment-000001.bin"
echo ascii >"$e/ascii_runtime_measurements"
echo "bima: stopped: 92 records logged by this run" >"$r/run/bima/initramfs.out"
echo "log-dir = /srv/bima" >"$r/etc/bima/bima.conf"
BIMA_JOIN_ROOT=$r "$join" >"$work/join.out" 2>&1
check_eq "joins (0)" $? 0
check "into bima.conf's log-dir, the epoch whole" diff -r "$e" "$r/srv/bima/epoch-7-0"
check_grep "and says so" "joined the initramfs's log $e into $r/srv/bima/epoch-7-0" "$work/join.out"
check_grep "with the initramfs daemon's output" '^  bima: stopped: 92 records' "$work/join.out"
check "no temporary left" test ! -e "$r/srv/bima/epoch-join.tmp"

echo more >>"$r/srv/bima/epoch-7-0/segment-000001.bin" # the daemon went on
BIMA_JOIN_ROOT=$r "$join" >"$work/again.out" 2>&1
check_eq "a restart: exits 0" $? 0
check_grep "and leaves the epoch the log directory has" 'epoch-7-0 exists: .* not copied' "$work/again.out"
check_eq "as it was" "$(tail -n1 "$r/srv/bima/epoch-7-0/segment-000001.bin")" more
check "the output is printed once" sh -c "! grep -q 'records logged' '$work/again.out'"

rm -rf "$r/srv/bima"
sleep 300 &
echo $! >"$r/run/bima/initramfs.pid"
BIMA_JOIN_ROOT=$r "$join" >"$work/running.out" 2>&1
check_eq "the initramfs's daemon still runs: fails (1)" $? 1
check_grep "and says so" "the initramfs's bima \\(pid $!\\) still runs" "$work/running.out"
check "and copies nothing" test ! -e "$r/srv/bima/epoch-7-0"
kill $! && wait $! 2>/dev/null

mkdir -p "$r/srv/bima/epoch-join.tmp" # a crash's
echo stale >"$r/srv/bima/epoch-join.tmp/segment-000009.bin"
BIMA_JOIN_ROOT=$r "$join" >"$work/crash.out" 2>&1
check_eq "after a crashed join: joins (0)" $? 0
check "the epoch whole, nothing of the crash's" diff -r "$e" "$r/srv/bima/epoch-7-0"

rm -rf "$r/srv/bima"
mkdir -p "$r/srv/bima"
chmod 0500 "$r/srv/bima"
if touch "$r/srv/bima/probe" 2>/dev/null; then
	rm -f "$r/srv/bima/probe"
	# root writes anywhere: a log directory that is a file cannot be written into.
	rmdir "$r/srv/bima" && echo file >"$r/srv/bima"
fi
BIMA_JOIN_ROOT=$r "$join" >"$work/fail.out" 2>&1
check_eq "the log directory cannot be written: fails (1)" $? 1
check_grep "and names it" "bima-initramfs-join: " "$work/fail.out"
check "and leaves the initramfs's log" test -s "$e/segment-000001.bin"
check "and no epoch-join.tmp" test ! -e "$r/srv/bima/epoch-join.tmp"
done_testing
