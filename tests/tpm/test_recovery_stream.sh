#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Recovery at start streams a long durable tail, on a real (software) TPM,
# through the daemon's own epoch code: 240,000 entries (about 24 MB) made
# durable and never extended, as by a daemon killed under a burst, are all
# extended at the next start, in order, once, and recorded in one
# bima_tail_extended entry; but no more than RECOVER_WINDOW (4 MiB) of them
# is held in memory, the rest read back from the log. The start's anonymous
# memory (its heap: the epoch's digest set of 5 MiB at most, the window) is
# sampled while it extends; the log's segment, which the scan maps, is
# file-backed and not counted.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

n=240000
out=$w/out

"$writer" --write-only "$TCTI" "$w/logs" 12 count:$n >/dev/null 2>&1
check_eq "a log of $n entries is written and not extended" $? 0
seg=$(ls "$w/logs"/epoch-*/segment-*.bin | tail -n 1)
"$writer" "$TCTI" "$w/logs" 12 >"$out" 2>&1 &
pid=$!
peak=0
while anon=$(awk '$1 == "RssAnon:" { print $2 }' "/proc/$pid/status" 2>/dev/null) && [ -n "$anon" ]; do
	[ "$anon" -gt "$peak" ] && peak=$anon
	sleep 0.05
done
wait "$pid"
check_eq "the next start succeeds" $? 0
check_grep "and extends all $n entries of the tail" \
	"$n entries are durable in the log but not in the TPM.*extending them" "$out"
check_grep "reading back from the log what its 4 MiB window does not hold" \
	"the tail's last [0-9]+ bytes \\([0-9]+ entries\\) are read back from the log, 4194304 bytes at a time" "$out"
echo "# the start's anonymous memory peaked at $peak kB (sampled every 50 ms)"
check_eq "its anonymous memory stayed below 16 MiB, under the tail's $(($(stat -c %s "$seg") >> 20)) MiB" \
	"$([ "$peak" -gt 0 ] && [ "$peak" -lt 16384 ] && echo yes)" yes

check_replays 12 "$w"/logs
# All of the segment after the epoch's first entry, its boot_aggregate.
first=$(sed -n 's/.*bima_tail_extended entry (segment [0-9]* byte \([0-9]*\) to.*/\1/p' "$out")
bytes=$(($(stat -c %s "$seg") - ${first:-0}))
"$bima" log --log-dir "$w/logs" >"$out"
hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
check_grep "one bima_tail_extended entry records all of them, the segment's $bytes bytes after its first entry" \
	" bima_tail_extended $(hex "entries=$n bytes=$bytes first_segment=1 first_byte=$first ")" "$out"
check_eq "every entry once" "$(grep -c ' /bench/' "$out")" $n
check_eq "in order" "$(grep -o ' /bench/.*' "$out" | awk -F/ '{ print $4 }' | sort -nc && echo sorted)" sorted
"$bima" verify --log-dir "$w/logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0
done_testing
