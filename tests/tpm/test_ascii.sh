#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM, through the daemon's own epoch code: the
# epoch's ASCII list holds a line for every entry, linked where asked;
# replayed from its lines alone it gives the TPM's PCR 10 in sha1 and
# sha256. At a start, a torn last line is cut, lines of entries the binary
# log does not have (never durable there, so never extended) are cut, and
# lines it lacks are appended; the list is `bima log` again after each.
# A list that lost lines before the anchor retention left cannot be made
# again, and a list whose last line is not its entry's was altered: the
# run keeps none, and says so.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

log=$w/log
list=$log/epoch-1-0/ascii_runtime_measurements
export BIMA_ASCII_LINK=$w/run/ascii_runtime_measurements
write() { "$writer" "$TCTI" "$log" 10 "$@" >"$w/writer.out" 2>&1; }
same_as_log() { "$bima" log --log-dir "$log" >"$w/log.txt" && cmp -s "$w/log.txt" "$list"; }

write /bin/true /bin/ls snapshot /bin/cat
check_eq "the list is linked where asked" "$(readlink "$BIMA_ASCII_LINK")" "$list"
check "it is the log's rendering, line for line" same_as_log
python3 "$top/tests/ima_ascii.py" replay "$list" >"$w/replay.out" 2>&1
check_eq "replayed from its lines, it gives PCR 10 in sha1" "$(awk '$1 == "sha1" { print $2 }' "$w/replay.out")" \
	"$(pcr_value sha1 10)"
check_eq "and in sha256" "$(awk '$1 == "sha256" { print $2 }' "$w/replay.out")" \
	"$(pcr_value sha256 10)"

printf '10 0123' >>"$list"
write /bin/echo
check_grep "a torn last line is cut at a start" 'cut a torn last line of 7 bytes' "$w/writer.out"
check "and the list is the log again" same_as_log

tail -n 1 "$list" >>"$list"
write /bin/sh
check_grep "a line of an entry the log does not have is cut" 'cut [0-9]+ bytes after line [0-9]+: entries that were never durable' "$w/writer.out"
check "and the list is the log again" same_as_log

head -n 3 "$list" >"$w/short" && cat "$w/short" >"$list"
write /bin/dd
check_grep "lines the list lacks are appended" 'appended the lines of [0-9]+ entries the log had' "$w/writer.out"
check "and the list is the log again" same_as_log

sed -i '$ s/ima-ng/ima-xx/' "$list"
write /bin/rm
check_grep "a last line that is not its entry's is named" 'line [0-9]+ is not the log.s entry [0-9]+: the list was altered' "$w/writer.out"
check_grep "and the run keeps no list" 'this run keeps none' "$w/writer.out"
"$bima" log --log-dir "$log" >"$list" # mended by hand

write retain:remove:1
head -n 2 "$list" >"$w/short" && cat "$w/short" >"$list"
write /bin/mv
check_grep "lines from before the anchor retention left cannot be made again" \
	'the lines before it cannot be made again' "$w/writer.out"
check_grep "the run keeps no list, and says so" 'the ASCII list cannot be made to match the log; this run keeps none' "$w/writer.out"
"$bima" verify --log-dir "$log" --tcti "$TCTI" >"$w/verify.out" 2>&1
check_eq "the log itself still verifies" $? 0
sed 's/^/    | /' "$w/writer.out"
swtpm_stop
done_testing
