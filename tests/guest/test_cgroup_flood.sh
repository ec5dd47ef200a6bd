#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: a cgroup flood costs no measurement. Anyone with a delegated
# cgroup2 subtree can make and remove cgroups as fast as mkdir(2) goes; the
# kernel hands the daemon a record for each, and none of them is a
# measurement. With nothing measured between them, 6,000 mkdirs and 6,000
# rmdirs in one subtree (by one process) must leave the ring buffer with
# room: the exec after the flood is logged, nothing is lost, and with
# --fail-closed that exec runs instead of being refused.
#
# The numbers: a mkdir record used to be reserved at 1,200 bytes (its path
# at BIMA_CGROUP_PATH_MAX), so 3,495 of them filled the 4 MiB ring buffer,
# and a round that read only cgroup records freed none of them; the next
# measurement was lost, or refused under --fail-closed. Now a mkdir record
# here is 200 bytes and an rmdir record 176 (2.3 MB for the whole flood
# even if none were freed), and every round frees what it read.
#
# While a --fail-closed daemon may deny, the test runs nothing but the exec
# under test, bima and shell builtins.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/cgroup-flood-test
cg=/sys/fs/cgroup
flood=$cg/bima-flood
count=6000
rm -rf "$work"
mkdir -p "$work/bin"
mountpoint -q $cg || mount -t cgroup2 cgroup2 $cg
mkdir -p "$flood"
unique_copy /usr/bin/true "$work/bin/after-plain"
unique_copy /usr/bin/true "$work/bin/after-fail-closed"
chmod +x "$work/bin/"*

# spin SECONDS: wait without running anything
spin() {
	local end=$((SECONDS + $1 + 1))
	while [ $SECONDS -lt $end ]; do :; done
}

# run_flood NAME PCR ARGS...: a daemon with ARGS, the flood, then one exec.
run_flood() {
	local name=$1 pcr=$2 logs=$work/log-$1 status
	shift 2
	start_bima "$work/$name.out" --pcr "$pcr" --log-dir "$logs" --tcti "$tcti" "$@" || return 1
	# One process: its own measurements (its exec, its libraries, the files
	# python opens at start) are logged before the flood, and nothing is
	# measured between the first mkdir and the last rmdir.
	python3 - "$flood" "$count" <<'EOF'
import os, sys, time
time.sleep(3)
for i in range(int(sys.argv[2])):
    os.mkdir(f"{sys.argv[1]}/{i}")
for i in range(int(sys.argv[2])):
    os.rmdir(f"{sys.argv[1]}/{i}")
EOF
	check_eq "$name: $count cgroups made and removed" $? 0
	spin 2 # the daemon reads the records
	"$work/bin/after-$name" 2>"$work/$name.err"
	status=$?
	spin 1
	# Unload rather than stop: a daemon stopped with a full ring buffer denies everything.
	"$bima" stop --unload --pcr "$pcr" --log-dir "$logs" --tcti "$tcti" >"$work/$name.stop" 2>&1
	check_eq "$name: bima stop --unload exits 0" $? 0
	sed "s/^/    $name stop| /" "$work/$name.stop"
	wait "$bima_pid"
	check_eq "$name: the daemon exits 0" $? 0
	bima_pid=
	check_eq "$name: the exec after the flood runs" "$status" 0
	sed "s/^/    $name exec| /" "$work/$name.err"

	"$bima" log --log-dir "$logs" >"$work/$name.txt"
	check_grep "$name: the exec after the flood is logged" " $(ere "$work/bin/after-$name")( |\$)" \
		"$work/$name.txt"
	check_eq "$name: the log has no bima_lost_events entry" \
		"$(grep -c ' bima_lost_events ' "$work/$name.txt")" 0
	check_grep "$name: the daemon lost nothing" 'records logged by this run, 0 lost in all' \
		"$work/$name.out"
	check "$name: no operation was denied" test "$(grep -c 'fail-closed denied' "$work/$name.out")" -eq 0
	"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/$name.verify" 2>&1
	check_eq "$name: bima verify accepts the log" $? 0
	grep -v debug "$work/$name.out" | sed "s/^/    $name| /"
}

run_flood plain 11
run_flood fail-closed 12 --fail-closed --grace 600
rmdir "$flood"
done_testing
