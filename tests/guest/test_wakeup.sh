#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: a new record is logged at once while older records are held. The
# daemon keeps records in the ring buffer until a bima_seq entry covers
# them (up to SEQ_WINDOW_MS), so the kernel's default notification, which
# wakes the reader only when the consumer position has caught up, would
# not wake it for the next record: that record would wait for the daemon's
# 200 ms poll. The hooks wake the daemon for the first record past the
# position it published before it slept (bima_reader). Here each of 12 new
# executables runs at a random phase of that poll, with records held, and
# the time from the program's exit to its entry's write to the log segment
# must stay well below the poll: a median under 20 ms (50 to 100 ms when
# it waits for the poll). Each entry's digest and path is checked, the records
# must be held all along, and the idle daemon still sleeps. The daemon runs
# as SCHED_BATCH (its wakeups do not preempt the measured work), which must
# not delay it on an idle CPU.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/wakeup-test
logs=$work/log
files=12
mkdir -p "$work/bin"
for i in $(seq 0 $files); do
	unique_copy /usr/bin/true "$work/bin/t-$i"
done
chmod +x "$work/bin/"*
echo 'measure func=BPRM_CHECK mask=MAY_EXEC' >"$work/policy"

field() { sed -n "s/^$1: //p" "$2"; }

start_bima "$work/bima.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--protect no || exit 1
"$bima" status >/dev/null 2>&1
"$bima" log --log-dir "$logs" >/dev/null
# One record logged and held: from here on, the ring buffer is not caught up.
"$work/bin/t-0"
sleep 0.5
"$bima" status >"$work/status0.txt" 2>&1
check "records are held before the runs (uncovered-records > 0)" \
	test "$(field uncovered-records "$work/status0.txt")" -gt 0
segment=$(field segment "$work/status0.txt")
check "bima status names the log segment" test -f "$segment"

# Exec each file at a random phase; print the ms from its exec to the first
# growth of the segment (the daemon's write of its entry), and the ms the
# exec itself took, up to the exit of the program.
python3 - "$segment" "$work/bin" "$files" >"$work/lat.txt" <<'EOF'
import os, random, subprocess, sys, time
seg, bindir, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(1)
for i in range(1, n + 1):
    time.sleep(0.25 + random.random() * 0.2)
    size = os.stat(seg).st_size
    t0 = time.monotonic()
    subprocess.run([f"{bindir}/t-{i}"])
    t1 = time.monotonic()
    while os.stat(seg).st_size == size and time.monotonic() - t0 < 2:
        time.sleep(0.001)
    t2 = time.monotonic()
    print(int((t2 - t0) * 1000), int((t1 - t0) * 1000))
EOF
sed 's/^/    ms from exec to log, ms of the exec| /' "$work/lat.txt"
check_eq "a latency for each of the $files files" "$(wc -l <"$work/lat.txt")" $files
# The daemon's share: from the program's exit to the entry in the log.
wait_ms=$(awk '{ d = $1 - $2; print d < 0 ? 0 : d }' "$work/lat.txt" | sort -n | sed -n "$((files / 2))p")
check "with records held, the median wait from the program's exit to its entry is under 20 ms (a 200 ms poll: about 100): ${wait_ms} ms" \
	test "${wait_ms:-9999}" -lt 20

"$bima" log --log-dir "$logs" >"$work/log.txt"
logged=0
for i in $(seq $files); do
	grep -q "sha256:$(sha256 "$work/bin/t-$i") $work/bin/t-$i\$" "$work/log.txt" && logged=$((logged + 1))
done
check_eq "each file's entry is in the log, with its digest" "$logged" $files
"$bima" status >"$work/status1.txt" 2>&1
check "the records stayed held: no bima_seq entry since ($(field uncovered-records "$work/status1.txt") uncovered)" \
	test "$(field uncovered-records "$work/status1.txt")" -ge $((files + 1))
check "the daemon runs as SCHED_BATCH: its wakeups do not preempt the measured work" \
	grep -q "SCHED_BATCH" <(chrt -p "$bima_pid")
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$bima_pid/stat"; }
cpu0=$(cpu_ms)
sleep 2
idle=$(($(cpu_ms) - cpu0))
check "while records are held, the idle daemon sleeps: ${idle} ms of CPU in 2 s (at most 200)" \
	test "$idle" -le 200
stop_bima
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
done_testing
