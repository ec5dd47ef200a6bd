#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM: the daemon's epoch, log and TPM code extend PCR
# 11 after writing the log; an independent replay of the log equals the PCR
# in the sha1 and sha256 banks; `bima verify` agrees, continues across a
# second segment, and names the entry when one byte of a copy is flipped.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

logs=$w/logs
out=$w/out

check "writer commits three entries and a violation" \
	"$writer" "$TCTI" "$logs" 11 /bin/true /bin/ls violation:/tmp/gone
epoch=$(ls "$logs")
check_eq "one epoch directory, named for the TPM epoch" "$(echo "$epoch" | grep -c '^epoch-[0-9]*-[0-9]*$')" 1

for bank in sha1 sha256; do
	want=$("$replay" "$bank" 11 "$logs/$epoch"/segment-*.bin)
	check_eq "independent $bank replay of the log equals TPM PCR 11" "$want" "$(pcr_value "$bank" 11)"
done

"$bima" log --log-dir "$logs" >"$out"
check_eq "bima log prints 4 entries" "$(wc -l <"$out")" 4
head -1 "$out" >"$out.first"
check_grep "first entry is bima's boot_aggregate on PCR 11" '^11 [0-9a-f]{40} ima-ng sha256:[0-9a-f]{64} boot_aggregate$' "$out.first"
check_grep "exec'd file logged with its sha256sum" "^11 [0-9a-f]{40} ima-ng sha256:$(sha256sum /bin/true | cut -d' ' -f1) /bin/true$" "$out"
check_grep "violation logged with zero template hash" '^11 0{40} ima-ng sha256:0{64} /tmp/gone$' "$out"

"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify exits 0" $? 0
check_grep "bima verify names every bank" '^PCR 11: the log replays to the TPM value in sha1 sha256' "$out"

check "a second run continues the epoch in segment 2" "$writer" "$TCTI" "$logs" 11 /bin/sh
check "segment 2 exists" test -s "$logs/$epoch/segment-000002.bin"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes across segments" $? 0
check_grep "verify counts 5 entries in 2 segments" '5 entries in 2 segment' "$out"

# Tamper with a copy: one byte of the path of segment 1, entry 2 (/bin/ls).
cp -r "$logs" "$w/copy"
seg=$w/copy/$epoch/segment-000001.bin
off=$(grep -obUa '/bin/ls' "$seg" | head -1 | cut -d: -f1)
printf 'X' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
"$bima" verify --log-dir "$w/copy" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify fails on a flipped byte (exit 1)" $? 1
check_grep "the failure names segment 1, entry 2" '^FAIL: segment 1, entry 2: template hash does not match' "$out"

# A log that another TPM epoch wrote does not verify against this TPM.
"$bima" verify --log-dir "$logs" --tcti "$TCTI" --epoch epoch-99-0 >"$out" 2>&1
check_eq "bima verify of a missing epoch exits 2" $? 2

swtpm_stop
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify without a TPM exits 2" $? 2
check_grep "and says it cannot reach the TPM" 'cannot open TPM|Esys|TPM' "$out"
done_testing
