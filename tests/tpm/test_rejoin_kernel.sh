#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A rejoin on PCR 10 under kernel IMA, through the daemon's own queue
# (user/daemon/) on a real (software) TPM: the TPM did the extend of the
# daemon's last entry but its answer was lost, and kernel IMA measured 3
# files into PCR 10 before the daemon connected again. The TPM then holds
# the whole log and then the kernel's last 3 entries: the rejoin imports
# them, as a start does after a kexec. They must be written to the log,
# after the daemon's entry and before its next: before, the rejoin took
# them into its replay and its count but never wrote them, and the log no
# longer replayed to the TPM. The ASCII list, which Keylime reads on PCR
# 10, holds them too. The kernel's list is the writer's own (--kernel-ima):
# the host's kernel has no IMA on this TPM.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

logs=$w/logs
out=$w/out
n=100
k=3
mkdir "$w/ima" "$w/run"
export BIMA_ASCII_LINK=$w/run/ascii_runtime_measurements

"$writer" --kernel-ima "$w/ima" "$TCTI" "$logs" 10 count:$n daemon-kernel:$k >"$out" 2>&1
check_eq "the daemon loses an answer, kernel IMA measures $k files, the daemon rejoins" $? 0
sed 's/^/    | /' "$out"
check_grep "the rejoin imports the kernel's $k entries" \
	"PCR 10 holds the log and then the kernel's last $k IMA entries" "$out"
# The log before the rejoin: the kernel's boot_aggregate, the n entries and the daemon's first.
check_grep "by the daemon's count the TPM holds them after the log's $((1 + n + 1))" \
	"^daemon-kernel: rejoined: the TPM holds $((1 + n + 1 + k)) entries, the daemon wrote $((1 + k))\$" \
	"$out"

check_replays 10 "$logs"
"$bima" log --log-dir "$logs" >"$out"
check_eq "the log holds the kernel's boot_aggregate, the $n entries, the kernel's $k, the daemon's 2" \
	"$(grep -c ' boot_aggregate$' "$out") $(grep -c ' /bench/' "$out") $(grep -c ' /kernel/' "$out") $(grep -c ' /daemon/' "$out")" \
	"1 $n $k 2"
check_eq "the kernel's after the daemon's first entry, and before its next" \
	"$(grep -oE ' (/daemon/[0-9]+/[01]|/kernel/[0-9]+/[0-9]+)$' "$out" | sed 's#/[0-9]*/#/#' | tr -d ' \n')" \
	"/daemon/0/kernel/0/kernel/1/kernel/2/daemon/1"
check_eq "and no mark of an inconsistency" "$(grep -c bima_log_inconsistent "$out")" 0
check "the ASCII list is the log's rendering, line for line" cmp -s "$out" "$BIMA_ASCII_LINK"
python3 "$top/tests/ima_ascii.py" replay "$BIMA_ASCII_LINK" >"$out" 2>&1
check_eq "replayed from its lines, it gives PCR 10 in sha256" \
	"$(awk '$1 == "sha256" { print $2 }' "$out")" "$(pcr_value sha256 10)"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0
sed 's/^/    | /' "$out"

# A start after it finds the TPM and the log agree: it imports nothing, marks nothing.
"$writer" --kernel-ima "$w/ima" "$TCTI" "$logs" 10 /bin/true >"$out" 2>&1
check_eq "a writer starts again in the epoch" $? 0
check_eq "and finds the log and the TPM agree" \
	"$(grep -c 'kernel.s last\|not in the TPM\|matches no prefix' "$out")" 0
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes after it" $? 0
done_testing
