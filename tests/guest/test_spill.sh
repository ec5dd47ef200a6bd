#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: root maps 2,000 new files executable (MMAP_CHECK, which both
# kernels measure) while the daemon is stopped; it then reads them all at
# once, far more than the TPM takes, with its window of entries waiting
# for the TPM shrunk to 16 KiB (BIMA_TEST_QUEUE_WINDOW): the entries
# beyond it are read back from the log to be extended, and it says so.
# bima status counts all that waits (more than the window); every file is
# logged once, nothing is lost, and every entry reaches the TPM in order
# (bima verify replays the log to the PCR, with no gap).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/spill-test
logs=$work/log
files=2000
window=16384
mkdir -p "$work/files"
echo 'measure func=MMAP_CHECK mask=MAY_EXEC' >"$work/policy"

field() { sed -n "s/^$1: //p" "$2"; }

BIMA_TEST_QUEUE_WINDOW=$window start_bima "$work/bima.out" --policy "$work/policy" \
	--log-dir "$logs" --tcti "$tcti" --protect no --snapshot-entries 0 || exit 1
# The most that waited for the TPM, polled while the files are made.
(
	peak=0
	while [ ! -e "$work/done" ]; do
		"$bima" status >"$work/poll.txt" 2>/dev/null
		n=$(field unextended-bytes "$work/poll.txt")
		[ "${n:-0}" -gt "$peak" ] && peak=$n && echo "$peak" >"$work/peak"
		sleep 0.1
	done
) &
poller=$!
# The daemon is stopped while they are made: it then reads them all at once.
signal_bima STOP
python3 - "$work/files" $files <<'PY'
import mmap, os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("spill %d\n" % i)
    with open(p, "rb") as f:
        mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_EXEC).close()
PY
kill -CONT "$bima_pid"
sleep 2
touch "$work/done"
wait "$poller"
peak=$(cat "$work/peak" 2>/dev/null || echo 0)
echo "    at most $peak bytes waited for the TPM (the window holds $window)"
check "more waited for the TPM than the window holds" test "$peak" -gt $((window * 2))
check_grep "the daemon says it reads the rest back from the log" \
	"more entries wait for the TPM than the $window bytes kept in memory: the rest are read back from the log" \
	"$work/bima.out"

deadline=$((SECONDS + 300))
until "$bima" status >"$work/status.txt" 2>&1 &&
	[ "$(field unextended-entries "$work/status.txt")" = 0 ] &&
	[ "$(field queued-bytes "$work/status.txt")" = 0 ]; do
	[ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
check_eq "the TPM catches up: nothing waits" "$(field unextended-entries "$work/status.txt")" 0
check_eq "bima status: nothing lost" "$(field lost "$work/status.txt")" 0
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$bima_pid/status")
echo "    the daemon's peak resident memory: $rss kB"
stop_bima

"$bima" log --log-dir "$logs" >"$work/log.txt"
check_eq "each of the $files files is logged once" \
	"$(grep -Ec " $work/files/f[0-9]+\$" "$work/log.txt")" $files
check_eq "each of them a distinct file" \
	"$(grep -Eo "$work/files/f[0-9]+\$" "$work/log.txt" | sort -u | wc -l)" $files
check_eq "no loss entry" "$(grep -c ' bima_lost_events ' "$work/log.txt")" 0
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify: the log replays to the TPM (exit 0)" $? 0
check_grep "every kernel sequence number is logged or counted lost" \
	'^note: [1-9][0-9]* kernel record\(s\) in 1 load\(s\): every sequence number logged or counted lost' \
	"$work/verify.txt"
check_eq "no gap" "$(grep -c 'neither logged nor counted lost' "$work/verify.txt")" 0
sed 's/^/    verify| /' "$work/verify.txt"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
done_testing
