#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: no silent loss. With a one-page ring buffer and the daemon stopped
# (SIGSTOP) during 60 execs, the ring buffer overflows; the kernel counts the
# dropped events, and the log holds a bima_lost_events entry with that
# count, extended like any other, so the log still verifies and the loss
# is in the PCR.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/loss-test
mkdir -p "$work/bin"
unique_copy /usr/bin/true "$work/bin/true-e"
chmod +x "$work/bin/true-e"

start_bima "$work/bima.out" --ringbuf-size 4096 --log-dir "$work/log" --tcti "$tcti" || exit 1
signal_bima STOP
for _ in $(seq 60); do "$work/bin/true-e"; done
kill -CONT "$bima_pid"
sleep 1
stop_bima

"$bima" log --log-dir "$work/log" >"$work/log.txt"
check_grep "the log has a bima_lost_events entry (ima-buf)" '^10 [0-9a-f]{40} ima-buf sha256:[0-9a-f]{64} bima_lost_events [0-9a-f]+$' "$work/log.txt"
awk '$5 == "bima_lost_events" { print $6 }' "$work/log.txt" >"$work/losses"
lost_logged=0
while read -r hex; do
	text=$(python3 -c 'import sys; print(bytes.fromhex(sys.argv[1]).decode())' "$hex")
	echo "    loss entry: $text"
	n=${text#lost=}
	lost_logged=$((lost_logged + ${n%% *}))
done <"$work/losses"
lost_counted=$(sed -n 's/.*records logged by this run, \([0-9]*\) lost in all.*/\1/p' "$work/bima.out")
check "the kernel counted dropped events ($lost_counted)" test "${lost_counted:-0}" -gt 0
check_eq "the loss entries add up to the kernel's drop count" "$lost_logged" "$lost_counted"
logged=$(grep -c " $work/bin/true-e\$" "$work/log.txt")
check "some of the 60 execs were logged ($logged entries)" test "$logged" -gt 0

"$bima" verify --log-dir "$work/log" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "the log with its loss entries verifies against the TPM" $? 0
check_grep "bima verify notes the loss, with the kernel's count" \
	"^note: $lost_counted measurement\\(s\\) lost, recorded in [0-9]+ bima_lost_events entr" \
	"$work/verify.txt"
check_grep "and that the sequence numbers it has are whole, but for the losses" \
	'every sequence number logged or counted lost' "$work/verify.txt"
sed 's/^/    verify| /' "$work/verify.txt"
grep -v 'debug' "$work/bima.out" | sed 's/^/    bima| /'
done_testing
