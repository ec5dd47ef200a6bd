#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: faults without loss. The log's filesystem fills up (ENOSPC): the
# records wait in the ring buffer, and are logged when space returns. The
# TPM goes away (a private swtpm, stopped mid-run and restarted from the
# state it saved a little earlier, so the extends of set h are lost with
# it): entries stay durable in the log; when it comes back, bima finds its
# PCR behind the log and extends what it lacks, in order. A snapshot taken
# just as the TPM goes away waits for it, while what comes meanwhile is
# logged in the next segment; once the TPM is back the snapshot is quoted
# at its own place in the log. Afterwards every executable run during the
# faults is in the log, nothing is lost, and verify passes, snapshot and
# quote included. The ASCII list (--ascii), on the same full disk, stays
# the log's rendering, line for line.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"
. "$top/tests/tpm/swtpm.sh"

work=/tmp/fault-test
small=$work/small
mkdir -p "$work/bin" "$small"
mount -t tmpfs -o size=512k tmpfs "$small"
for set in f g h i j; do
	for i in 1 2 3 4 5; do unique_copy /usr/bin/true "$work/bin/$set-$i"; done
done
# Set g, on the full disk, takes more: a write that fits in the slack of the
# page the segment ends in still succeeds on a full tmpfs, and 5 entries
# may, since a bima_seq entry no longer follows each round.
for i in $(seq 6 40); do unique_copy /usr/bin/true "$work/bin/g-$i"; done
chmod +x "$work/bin/"*
runset() { for i in 1 2 3 4 5; do "$work/bin/$1-$i"; done; }

# wait_for PATTERN FILE SECONDS
wait_for() {
	local deadline=$((SECONDS + $3))
	until grep -q "$1" "$2"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}

# The kernel's TPM cannot be stopped and restarted; a private one can.
# PCR 11: the private TPM holds no boot_aggregate of the kernel's.
swtpm_start || exit 1
start_bima "$work/bima.out" --log-dir "$small/log" --tcti "$TCTI" --pcr 11 --ascii /run/bima/faults || exit 1
runset f

# 1. The log's filesystem fills up.
dd if=/dev/zero of="$small/fill" bs=4k 2>/dev/null
for i in $(seq 40); do "$work/bin/g-$i"; done
check "a full disk is reported" wait_for 'cannot write\( log\)\?: No space left on device' "$work/bima.out" 20
check_grep "the records are kept in the ring buffer" 'records stay in the ring buffer until the log can be written' "$work/bima.out"
check "the daemon keeps running" kill -0 "$bima_pid"
rm "$small/fill"
check "writing resumes once space returns" wait_for 'the log is writable again' "$work/bima.out" 40

# 2. The TPM goes away.
swtpm_save
runset h
sleep 1 # set h is extended, into a state the TPM will not come back with
swtpm_halt
runset i
check "a missing TPM is reported" wait_for 'TPM extend failed' "$work/bima.out" 20
"$bima" log --log-dir "$small/log" >"$work/log-during.txt"
check_grep "entries are durable in the log while the TPM is away" " $work/bin/i-5\$" "$work/log-during.txt"
"$bima" status >"$work/status-during.txt"
sleep 1
"$bima" status >"$work/status-later.txt"
waiting=$(sed -n 's/^unextended-entries: //p' "$work/status-during.txt")
lag1=$(sed -n 's/^extend-lag-ms: //p' "$work/status-during.txt")
lag2=$(sed -n 's/^extend-lag-ms: //p' "$work/status-later.txt")
check "bima status counts the entries that wait for the TPM (set i, 5 or more)" test "${waiting:-0}" -ge 5
check "and the age of the oldest, which grows while the TPM is away ($lag1 ms, then $lag2 ms)" \
	test "${lag1:-0}" -gt 0 -a "${lag2:-0}" -ge $((${lag1:-0} + 1000))
swtpm_resume || exit 1
check "extends resume, in order, when the TPM is back" wait_for 'TPM extends work again' "$work/bima.out" 60
check_grep "the TPM's lost extends were noticed" 'PCR 11 is not where bima left it before the TPM failed' "$work/bima.out"
check_grep "and taken again from the log" 'entries are durable in the log but not in the TPM' "$work/bima.out"
caught_up() { # within 20 s, nothing waits for the TPM
	local deadline=$((SECONDS + 20))
	until "$bima" status >"$work/status-after.txt" &&
		grep -q '^unextended-entries: 0$' "$work/status-after.txt"; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.2
	done
}
check "once the TPM is back, it catches up: nothing waits" caught_up
check_grep "and the lag is 0" '^extend-lag-ms: 0$' "$work/status-after.txt"

# 3. A snapshot as the TPM goes away (saved and stopped at once: no extend is lost).
swtpm_pause
"$bima" snapshot >"$work/snapshot.out" 2>&1 &
snap_pid=$!
check "the snapshot waits for the TPM" wait_for 'TPM extend failed' "$work/bima.out" 20
runset j
"$bima" log --log-dir "$small/log" >"$work/log-snap.txt"
check_grep "what comes meanwhile is logged" " $work/bin/j-5\$" "$work/log-snap.txt"
segs=$(ls "$small"/log/epoch-*/segment-*.bin)
check_grep "in the segment after the snapshot's" "$(ere "$work/bin/j-5")" <(cat $(echo "$segs" | tail -n 1))
swtpm_resume || exit 1
wait "$snap_pid"
check_eq "once the TPM is back, the snapshot is taken (bima snapshot exits 0)" $? 0
check_grep "and the kernel holds its anchor" '^snapshot 1: ' "$work/snapshot.out"
check_grep "quoted" 'snapshot 1: quoted' "$work/bima.out"

stop_bima
"$bima" stop --unload --log-dir "$small/log" --tcti "$TCTI" --pcr 11 --ascii /run/bima/faults >/dev/null 2>&1
"$bima" log --log-dir "$small/log" >"$work/log.txt"
check "the ASCII list, on the same full disk, is the log's rendering, line for line" \
	cmp -s "$work/log.txt" /run/bima/faults
missing=0
for f in "$work"/bin/*; do
	grep -q "sha256:$(sha256 "$f") $f\$" "$work/log.txt" || { missing=$((missing + 1)); echo "    missing: $f"; }
done
check_eq "every executable run before and during the faults is logged" "$missing" 0
check_eq "no loss entry" "$(grep -c ' bima_lost_events ' "$work/log.txt")" 0
"$bima" verify --log-dir "$small/log" --tcti "$TCTI" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log after the faults" $? 0
check_grep "with the snapshot's quote at its place" '^note: 1 snapshot\(s\), up to id 1: .*; 1 quote\(s\) verified' "$work/verify.txt"
sed 's/^/    verify| /' "$work/verify.txt"
grep -v 'debug' "$work/bima.out" | sed 's/^/    bima| /'
done_testing
