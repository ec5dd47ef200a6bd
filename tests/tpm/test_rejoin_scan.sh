#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A rejoin that must read the whole log again (a TPM restarted from a state
# saved before its last extends: it lost them) does not hold the daemon's
# loop for the scan, on a real (software) TPM, through the daemon's own
# recovery code: on a log of 200,000 entries the scan is read a slice of
# 5 ms at a time, and between slices an entry is written to the log, as the
# daemon logs records (and answers `bima status`) between them. The scan
# follows the log to its end: the entries the TPM lost and those written
# during the scan are all extended, once, in log order, and the log
# replays to the TPM. Before, the scan ran whole, in one call. A writer
# killed during the scan extends nothing more: the next start finds the
# lost entries and those written during the scan in the log, and extends
# them. A PCR extended during the scan by something else fails the scan
# at its end, which is then begun anew (and finds the log inconsistent).
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

logs=$w/logs
out=$w/out
n=200000
lost=1000
bound=25000 # us of CPU: a slice of 5 ms (the CPU time: the host's load aside)

"$writer" "$TCTI" "$logs" 11 count:$n >/dev/null 2>&1
check_eq "a log of $n entries is written and extended" $? 0
"$writer" "$TCTI" "$logs" 11 behind:$lost:5 /bin/true >"$out" 2>&1
check_eq "the writer loses $lost extends, rejoins, and goes on" $? 0
read -r slices meanwhile longest all < <(sed -n 's/^behind: \([0-9]*\) slices, \([0-9]*\) entries written between them, the longest \([0-9]*\) us of CPU of \([0-9]*\) us in all$/\1 \2 \3 \4/p' "$out")
echo "# $slices slices, $meanwhile entries written between them; CPU: the longest ${longest:-?} us, all ${all:-?} us"
check_eq "the scan of the log is read in many slices" "$([ "${slices:-0}" -ge 10 ] && echo yes)" yes
check_eq "each of them short (under $bound us of CPU)" "$([ "${longest:-999999}" -le $bound ] && echo yes)" yes
check_eq "a tenth of the whole scan's CPU time at most" \
	"$([ $((${longest:-1} * 10)) -le "${all:-0}" ] && echo yes)" yes
check_eq "an entry written between each two" "$meanwhile" $((slices - 1))
check_grep "the tail found holds the lost entries and those written during the scan" \
	"$((lost + meanwhile)) entries are durable in the log but not in the TPM" "$out"
check_replays 11 "$logs"
"$bima" log --log-dir "$logs" >"$out"
check_eq "every entry of the log before is logged once" "$(grep -c ' /bench/' "$out")" $n
check_eq "every lost one once" "$(grep -c ' /behind/' "$out")" $lost
check_eq "every one written during the scan once" "$(grep -c ' /meanwhile/' "$out")" "$meanwhile"
check_eq "they follow the lost ones, then the tail's mark, then the entry after" \
	"$(grep -oE ' (/behind/|/meanwhile/|bima_tail_extended|/bin/true$)' "$out" | uniq | tr -d ' \n')" \
	"/behind//meanwhile/bima_tail_extended/bin/true"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0

# Killed during the scan, on another PCR and log.
logs=$w/logs-killed
"$writer" "$TCTI" "$logs" 12 count:20000 >/dev/null 2>&1
check_eq "a log of 20000 entries on PCR 12" $? 0
"$writer" "$TCTI" "$logs" 12 behind:100:1:3 >"$out" 2>&1
check_eq "a writer loses 100 extends and stops 3 slices into the rejoin's scan" $? 0
check_grep "an entry written between each two" \
	'^behind: 3 slices, 2 entries written between them' "$out"
"$writer" "$TCTI" "$logs" 12 /bin/true >"$out" 2>&1
check_eq "the next start goes on" $? 0
check_grep "and extends the lost entries and those written during the scan" \
	"102 entries are durable in the log but not in the TPM" "$out"
check_replays 12 "$logs" "that log"
"$bima" log --log-dir "$logs" >"$out"
check_eq "every entry is logged once" \
	"$(grep -c ' /bench/' "$out") $(grep -c ' /behind/' "$out") $(grep -c ' /meanwhile/' "$out")" \
	"20000 100 2"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0

# The PCR extended during the scan with an entry the log lacks.
logs=$w/logs-stray
"$writer" "$TCTI" "$logs" 13 count:20000 >/dev/null 2>&1
check_eq "a log of 20000 entries on PCR 13" $? 0
"$writer" "$TCTI" "$logs" 13 behind:100:1:2:stray >"$out" 2>&1
check_eq "a writer loses 100 extends, and its PCR is extended 2 slices into the scan" $? 0
check_grep "the scan sees the PCR changed at its end" \
	'PCR 13 changed while the log was read again; reading it again' "$out"
check_grep "and the scan begun anew finds no prefix of the log in the TPM" \
	'matches no prefix of this epoch.s log' "$out"
"$bima" log --log-dir "$logs" >"$out"
check_eq "which the log records, once" "$(grep -c 'bima_log_inconsistent' "$out")" 1
done_testing
