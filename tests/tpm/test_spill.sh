#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM, as root: the daemon's own rounds (the collector
# bench: a real BPF ring buffer, no hooks) log 20,000 new files at once,
# far more than fit in a queue window shrunk to 64 KiB. The entries that
# wait for the TPM beyond the window are read back from the log: every
# file is logged once and extended, in order (the log replays to the PCR,
# independently and by `bima verify`), nothing is lost, and the queue
# never took more than its window of memory.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (a BPF ring buffer)"
bench=$top/.output/bench/collector
[ -x "$bench" ] || make -C "$top" .output/bench/collector >/dev/null || exit 1
. "$top/tests/tpm/swtpm.sh"
swtpm_start || exit 1

bima=$top/bima
replay=$top/tests/ima_replay.py
logs=$swtpm_dir/logs
out=$swtpm_dir/out
files=20000

"$bench" --runs 1 --records $files --window 65536 --tcti "$TCTI" "$logs" >"$out" 2>&1
check_eq "the bench takes every record and extends every entry" $? 0
peak=$(awk '$1 == "1" && $2 ~ /^[0-9]+$/ { print $NF }' "$out")
check_eq "the queue took no more memory than its 64 KiB window" "$([ "${peak:-999}" -le 64 ] && echo yes)" yes

"$bima" log --log-dir "$logs" >"$out"
check_eq "each file is logged once" "$(grep -c ' /var/lib/build/src/module-[0-9]*/file-[0-9]*\.py$' "$out")" $files
check_eq "and each of them a distinct file" \
	"$(grep -o 'file-[0-9]*\.py$' "$out" | sort -u | wc -l)" $files
check_eq "nothing is lost" "$(grep -c bima_lost_events "$out")" 0

epoch=$(ls "$logs")
for bank in sha1 sha256; do
	want=$("$replay" "$bank" 11 "$logs/$epoch"/segment-*.bin)
	have=$(tpm2_pcrread -T "$TCTI" "$bank:11" | awk '/11:/ { print tolower($2) }')
	check_eq "independent $bank replay of the log equals TPM PCR 11" "0x$want" "$have"
done
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify exits 0" $? 0
check_grep "and the log replays to the TPM" '^PCR 11: the log replays to the TPM value' "$out"
check_grep "and finds no gap in the sequence numbers" \
	"^note: $files kernel record\(s\) in 1 load\(s\): every sequence number logged or counted lost" "$out"
rm -rf "$logs"
done_testing
