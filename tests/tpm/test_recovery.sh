#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Recovery at start, on a real (software) TPM, through the daemon's own
# epoch code: a durable tail that never reached the TPM is extended, and a
# bima_tail_extended entry after it records its entries and bytes, which
# bima verify notes (also for an entry appended while no daemon ran); a torn
# last entry is cut off and recorded; a TPM that matches no prefix of the
# log gets a bima_log_inconsistent entry; a log for another PCR is refused;
# a TPM reset starts a new epoch directory; a tail longer than a daemon
# leaves is not extended, and recorded as inconsistent.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

logs=$w/logs
out=$w/out

replays_to_tpm() {
	local bank
	for bank in sha1 sha256; do
		[ "$("$replay" "$bank" 11 "$logs"/epoch-*/segment-*.bin)" = "$(pcr_value "$bank" 11)" ] || return 1
	done
}

"$writer" "$TCTI" "$logs" 11 /bin/true >/dev/null 2>&1
check "a first run starts the epoch" replays_to_tpm
epoch=$(ls "$logs")

hex() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
segno() { echo "$((10#${1: -10:6}))"; }

# 1. Entries written and made durable, never extended (a daemon killed between).
"$writer" --write-only "$TCTI" "$logs" 11 /bin/ls /bin/cat >/dev/null 2>&1
lags() { ! replays_to_tpm; }
check "after a write-only run the TPM lags the log" lags
tail_seg=$(ls "$logs/$epoch"/segment-*.bin | tail -1)
tail_size=$(stat -c %s "$tail_seg")
"$writer" "$TCTI" "$logs" 11 /bin/sh >"$out" 2>&1
check_grep "the next start extends the durable tail" '2 entries are durable in the log but not in the TPM.*extending them' "$out"
check "and the log replays to the TPM again (independent replay)" replays_to_tpm
tail_text="entries=2 bytes=$tail_size first_segment=$(segno "$tail_seg") first_byte=0 last_segment=$(segno "$tail_seg") last_byte=$((tail_size - 1))"
"$bima" log --log-dir "$logs" >"$out"
check_grep "a bima_tail_extended entry records the tail: $tail_text" \
	"^11 [0-9a-f]{40} ima-buf sha256:[0-9a-f]{64} bima_tail_extended $(hex "$tail_text")\$" "$out"
check_eq "right after the tail's last entry" \
	"$(grep -A1 " $(ere /bin/cat)\$" "$out" | tail -1 | cut -d' ' -f5)" bima_tail_extended
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes after the tail was extended" $? 0
check_grep "and notes the entries extended from the log alone, with their range" \
	"^note: 2 entries extended from the log alone.*in 1 bima_tail_extended entry \\(the last: 2 entries, segment $(segno "$tail_seg") byte 0 to segment $(segno "$tail_seg") byte $((tail_size - 1))\\)" "$out"

# 1b. An entry appended while no daemon ran, as root could: a forged
# bima_seq entry claiming sequence numbers. It is extended (the TPM cannot
# tell), but recorded, and bima verify says so.
forged=$(ls "$logs/$epoch"/segment-*.bin | tail -1)
forged_at=$(stat -c %s "$forged")
python3 - "$forged" <<'PY'
import hashlib, struct, sys
buf = b"load=1-00000000 seq=0-99"
fields = b""
for f in (b"sha256:\0" + hashlib.sha256(buf).digest(), b"bima_seq\0", buf):
    fields += struct.pack("<I", len(f)) + f
entry = struct.pack("<I", 11) + hashlib.sha1(fields).digest()
entry += struct.pack("<I", 7) + b"ima-buf" + struct.pack("<I", len(fields)) + fields
open(sys.argv[1], "ab").write(entry)
PY
forged_end=$(($(stat -c %s "$forged") - 1))
"$writer" "$TCTI" "$logs" 11 /bin/true >"$out" 2>&1
check_grep "the next start extends the appended entry, and says it records it" \
	"1 entries are durable in the log but not in the TPM.*recording it in a bima_tail_extended entry \\(segment $(segno "$forged") byte $forged_at to segment $(segno "$forged") byte $forged_end\\)" "$out"
check "the log replays to the TPM (the forgery is TPM-covered)" replays_to_tpm
forged_text="entries=1 bytes=$((forged_end + 1 - forged_at)) first_segment=$(segno "$forged") first_byte=$forged_at last_segment=$(segno "$forged") last_byte=$forged_end"
"$bima" log --log-dir "$logs" >"$out"
check_grep "but a bima_tail_extended entry records it: $forged_text" \
	" bima_tail_extended $(hex "$forged_text")\$" "$out"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_grep "bima verify notes both tails, the last with the forged entry's range" \
	"^note: 3 entries extended from the log alone.*in 2 bima_tail_extended entries \\(the last: 1 entry, segment $(segno "$forged") byte $forged_at to segment $(segno "$forged") byte $forged_end\\)" "$out"
sed 's/^/    verify| /' "$out"

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

# 6. A tail longer than a daemon leaves unextended (it reads no record
# that could take what waits for the TPM past 120 MiB): 1,400,000 entries,
# 143 MB, appended while no daemon ran. Not extended; recorded as
# inconsistent.
"$writer" --write-only "$TCTI" "$logs" 11 count:1400000 >/dev/null 2>&1
"$writer" "$TCTI" "$logs" 11 /bin/echo >"$out" 2>&1
check_grep "a tail over 128 MiB is refused, saying why" \
	'1400000 entries \([0-9]+ bytes, from segment 2 byte 0\) are in the log but not in the TPM, more than a daemon leaves unextended' "$out"
"$bima" log --log-dir "$logs" | tail -n 3 >"$out"
check_grep "a bima_log_inconsistent entry says so" \
	" bima_log_inconsistent $(hex 'reason=tail_too_long entries=1400000 bytes=')" "$out"
check_eq "and no bima_tail_extended entry: nothing was extended" "$(grep -c bima_tail_extended "$out")" 0
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify fails on that epoch (exit 1)" $? 1
rm -rf "$logs"
done_testing
