#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Recovery at start, on a real (software) TPM, through the daemon's own
# epoch code: a durable tail that never reached the TPM is extended; a torn
# last entry is cut off and recorded; a TPM that matches no prefix of the
# log gets a bima_log_inconsistent entry; a log for another PCR is refused;
# a TPM reset starts a new epoch directory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/tpm/swtpm.sh"
swtpm_start || exit 1

bima=$top/bima
writer=$top/.output/tests/tpm-writer
replay=$top/tests/ima_replay.py
logs=$swtpm_dir/logs
out=$swtpm_dir/out

pcr11() { tpm2_pcrread -T "$TCTI" "$1:11" | awk '/11:/ { print tolower($2) }'; }
replays_to_tpm() {
	local bank
	for bank in sha1 sha256; do
		[ "0x$("$replay" "$bank" 11 "$logs"/epoch-*/segment-*.bin)" = "$(pcr11 "$bank")" ] || return 1
	done
}

"$writer" "$TCTI" "$logs" 11 /bin/true >/dev/null 2>&1
check "a first run starts the epoch" replays_to_tpm
epoch=$(ls "$logs")

# 1. Entries written and made durable, never extended (a daemon killed between).
"$writer" --write-only "$TCTI" "$logs" 11 /bin/ls /bin/cat >/dev/null 2>&1
lags() { ! replays_to_tpm; }
check "after a write-only run the TPM lags the log" lags
"$writer" "$TCTI" "$logs" 11 /bin/sh >"$out" 2>&1
check_grep "the next start extends the durable tail" '2 entries are durable in the log but not in the TPM.*extending them' "$out"
check "and the log replays to the TPM again (independent replay)" replays_to_tpm
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes after the tail was extended" $? 0

# 2. A torn last entry: half an entry appended to the last segment.
last=$(ls "$logs/$epoch"/segment-*.bin | tail -1)
size=$(stat -c %s "$last")
head -c 40 "$last" >>"$last"
"$writer" "$TCTI" "$logs" 11 /bin/echo >"$out" 2>&1
check_grep "the torn entry is reported" 'cut a torn last entry of 40 bytes' "$out"
check_eq "the segment is cut back to its last whole entry" "$(stat -c %s "$last")" "$size"
"$bima" log --log-dir "$logs" >"$out"
check_grep "a bima_log_torn entry records where and how much" "^11 [0-9a-f]{40} ima-buf sha256:[0-9a-f]{64} bima_log_torn $(printf 'segment=%d offset=%d bytes=40' "$((10#${last: -10:6}))" "$size" | od -An -tx1 | tr -d ' \n')\$" "$out"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes after the torn tail was cut" $? 0
check_grep "and notes the torn entry" '^note: 1 torn entry cut at a daemon start' "$out"
check "and the independent replay agrees" replays_to_tpm

# 3. Another PCR for the same epoch is refused.
"$writer" "$TCTI" "$logs" 12 /bin/true >"$out" 2>&1
check_eq "continuing the epoch on another PCR fails" $? 1
check_grep "and says which PCR the log uses" 'extends PCR 11, not PCR 12: run with --pcr 11' "$out"

# 4. Something else extends PCR 11: no prefix of the log matches any more.
tpm2_pcrextend -T "$TCTI" 11:sha256=$(printf '%064d' 7) >/dev/null
"$writer" "$TCTI" "$logs" 11 /bin/true >"$out" 2>&1
check_grep "the mismatch is reported loudly" "matches no prefix of this epoch's log" "$out"
"$bima" log --log-dir "$logs" >"$out"
check_grep "a bima_log_inconsistent entry is in the log" " bima_log_inconsistent $(printf 'reason=tpm_mismatch' | od -An -tx1 | tr -d ' \n')" "$out"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify fails on that epoch (exit 1)" $? 1
check_grep "and notes the bima_log_inconsistent entry" '^note: 1 bima_log_inconsistent entry' "$out"

# 5. A TPM reset (swtpm restarted without a saved state) is a new epoch.
swtpm_restart || exit 1
"$writer" "$TCTI" "$logs" 11 /bin/true >"$out" 2>&1
check_eq "two epoch directories after a TPM reset" "$(ls "$logs" | wc -l)" 2
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "the new epoch verifies" $? 0
done_testing
