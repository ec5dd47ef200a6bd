#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: bima never measures its own files (DESIGN.md invariant 9). Under a
# policy that measures every read by root (FILE_CHECK, Linux 6.9 and later)
# and root's executable mappings on tmpfs (MMAP_CHECK, every kernel), root
# reads the live ASCII list as a Keylime agent does (one descriptor, kept,
# read again as the list grows), the binary log being written, the
# control socket's lock file and a pin, runs `bima log`, and maps the list
# and the live segment executable. The log then holds no entry naming the
# log directory, /run/bima or the pin directory: no measurement, and no
# violation (the daemon keeps the list, the segment and the lock open for
# writing: each read would otherwise be a ToMToU violation). The agent saw
# no line Keylime rejects (a violation is Keylime's "tomtou" failure), and
# the whole list replays as Keylime replays it. The same with --protect no.
# Controls: a file root maps executable (and, with FILE_CHECK, one it reads)
# is measured, and a file root maps while it is open for writing is a ToMToU
# violation, as before.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/selfmeasure-test # tmpfs
logs=$work/log
link=/run/bima/ascii_runtime_measurements
ascii=$top/tests/ima_ascii.py
pins=/sys/fs/bpf/bima
mkdir -p "$work"
# bima's stdout, which start_bima reads while bima writes it, is the test's: not measured.
cat >"$work/policy" <<'EOF'
dont_measure fowner=4242
measure func=FILE_CHECK mask=MAY_READ uid=0
measure func=MMAP_CHECK uid=0 fsmagic=0x1021994
EOF

# map_exec FILE...: map each file PROT_READ|PROT_EXEC, as a loader maps code (MMAP_CHECK)
map_exec() {
	python3 - "$@" <<'PY'
import mmap, os, sys
for p in sys.argv[1:]:
    fd = os.open(p, os.O_RDONLY)
    mmap.mmap(fd, 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
    os.close(fd)
PY
}

# own_lines FILE: the lines of a `bima log` rendering that name one of bima's own files
own_lines() {
	grep -E " ($(ere "$logs")|/run/bima|$pins)/" "$1"
}

# run_case NAME ARGS...: bima run ARGS, then root reads bima's files as above
run_case() {
	local name=$1 w=$work/$1 tail_pid status
	shift
	mkdir -p "$w"
	: >"$w/bima.out"
	chown 4242 "$w/bima.out"
	echo "root reads this ($name) $$" >"$w/data"
	echo "root maps this ($name) $$" >"$w/code"
	start_bima "$w/bima.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" "$@" ||
		return 1
	epoch=$(ls -d "$logs"/epoch-*)
	python3 "$ascii" tail "$link" "$w/stop" >"$w/tail.out" 2>&1 &
	tail_pid=$!
	sleep 1
	cat "$w/data" >/dev/null # measured: the list grows while the agent reads it
	map_exec "$w/code"
	cat "$epoch"/segment-*.bin >/dev/null
	cat /run/bima/control.lock >/dev/null
	cat "$pins/maps/bima_stats" >/dev/null 2>&1
	map_exec "$link" "$(ls "$epoch"/segment-*.bin | tail -n 1)"
	"$bima" log --log-dir "$logs" >/dev/null
	sleep 1
	touch "$w/stop"
	wait "$tail_pid"
	status=$?
	sed 's/^/    agent| /' "$w/tail.out"
	check_eq "$name: the agent, reading the live list, saw no line Keylime rejects" "$status" 0
	check_eq "$name: no tomtou entry among them" "$(grep -c tomtou "$w/tail.out")" 0
	python3 "$ascii" replay "$link" >"$w/replay.out" 2>&1
	status=$?
	sed 's/^/    replay| /' "$w/replay.out"
	check_eq "$name: the whole list replays as Keylime replays it" "$status" 0
	"$bima" log --log-dir "$logs" >"$w/log.txt"
	own_lines "$w/log.txt" | sed 's/^/    own| /'
	check_eq "$name: no entry names the log directory, /run/bima or the pins" \
		"$(own_lines "$w/log.txt" | wc -l)" 0
	check_eq "$name: no violation among them" \
		"$(own_lines "$w/log.txt" | grep -cE '^10 0{40} ')" 0
	check_grep "$name: the control: root's executable mapping of a file is measured" \
		" sha256:$(sha256 "$w/code") $(ere "$w/code")\$" "$w/log.txt"
	if grep -qE 'measuring .*opens \(FILE_CHECK\)' "$w/bima.out"; then
		check_grep "$name: and so is root's read of a file" \
			" sha256:$(sha256 "$w/data") $(ere "$w/data")\$" "$w/log.txt"
	else
		echo "# $name: this kernel has no file_post_open: reads (FILE_CHECK) are not measured"
	fi
}

run_case protect
check_grep "protect: self-protection is on" "^.*self-protection: while this daemon runs" \
	"$work/protect/bima.out"
stop_bima
run_case protect-no --protect no
check "protect-no: self-protection is off" \
	test "$(grep -c 'self-protection: while this daemon runs' "$work/protect-no/bima.out")" = 0

# The control: a violation on a file that is not bima's is still logged (last:
# Keylime would reject the list from here on).
exec 3>>"$work/written"
echo "open for writing" >&3
map_exec "$work/written"
exec 3>&-
sleep 1
"$bima" log --log-dir "$logs" >"$work/log.txt"
check_grep "the control: mapping a file open for writing is a ToMToU violation" \
	"^10 0{40} ima-ng sha256:0{64} $(ere "$work/written")\$" "$work/log.txt"
check_eq "and still no entry names bima's own files" "$(own_lines "$work/log.txt" | wc -l)" 0
stop_bima
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
done_testing
