#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A TPM that did an extend but whose answer was lost, on a real (software)
# TPM, through the daemon's own epoch and recovery code: when the daemon
# connects again, the TPM holds the log up to the entry it was extending.
# The rejoin sees that from the TPM and that entry alone, without reading
# the whole log again (which, on a log of a million entries, held the
# daemon's loop, and `bima status`, for minutes): it goes on from the next
# entry, extends nothing twice, and the log replays to the TPM.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

logs=$w/logs
out=$w/out

"$writer" "$TCTI" "$logs" 11 count:1000 lost /bin/true >"$out" 2>&1
check_eq "the writer commits 1000 entries, the last one's answer lost, and goes on" $? 0
check_grep "the rejoin finds the lost extend done, from the TPM and that entry alone" \
	'^rejoin: 2, took [0-9]+ of the [0-9]+ bytes that waited$' "$out"
check_eq "and says so" "$(grep -c 'the TPM did the last extend though its answer was lost' "$out")" 1
check_eq "without reading the log again (no tail found in it)" \
	"$(grep -c 'durable in the log but not in the TPM' "$out")" 0
check_replays 11 "$logs"
"$bima" log --log-dir "$logs" >"$out"
check_eq "every entry is logged once" "$(grep -c ' /bench/' "$out")" 1000
check_eq "and the entry after them too" "$(grep -c ' /bin/true$' "$out")" 1
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0
done_testing
