#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `bima log --format cel-json` and `cel-json-array` on a real (software)
# TPM with three banks allocated, sha1, sha256 and sha384: an independent
# replay (tests/cel_replay.py) of every record's digests, from zero, gives
# the TPM's PCR value in every bank; each digest is the bank's hash of the
# record's template data (0xff... for a violation); a file whose name has a
# quote, a backslash, a newline and a byte that is not UTF-8 still gives
# valid JSON, and its path comes back from template_data; jq reads the
# JSON text sequence (jq --seq, which also writes an RS before each output)
# as systemd's tpm2-measure.log is read. Before any
# snapshot the records carry every bank a TPM may have; after one, the
# banks it names, those the TPM has. A log whose start retention removed is
# refused, and so are --format with --json and an unknown format.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/tpm/swtpm.sh"
swtpm_start || exit 1
command -v tpm2_pcrallocate >/dev/null || skip "tpm2-tools is not installed"

bima=$top/bima
writer=$top/.output/tests/tpm-writer
replay=$top/tests/cel_replay.py
state=$swtpm_dir/state
out=$swtpm_dir

tpm2_pcrallocate -T "$TCTI" sha1:all+sha256:all+sha384:all+sha512:none >"$out/alloc" 2>&1
check_eq "the TPM takes an allocation of sha1, sha256 and sha384" $? 0
swtpm_restart || exit 1 # a TPM reset: the allocation takes effect

hostile=$out/$'q"b\\c\nd\xffe'
echo hostile >"$hostile"
"$writer" "$TCTI" "$state" 11 /bin/true "$hostile" violation:/tmp/x /bin/sh >"$out/w1" 2>&1
check_eq "the writer logs and extends 5 entries" $? 0

"$bima" log --log-dir "$state" --format cel-json >"$out/seq1" 2>"$out/err1"
check_eq "bima log --format cel-json exits 0" $? 0
check_grep "without a snapshot it says which banks it gives" \
	"no snapshot in the log names the banks .* sha1, sha256, sha384 and sha512" "$out/err1"
python3 "$replay" --tcti "$TCTI" --paths "$out/seq1" >"$out/r1" 2>&1
check_eq "the independent replay of the JSON text sequence matches the TPM" $? 0
check_grep "it read the 5 records" "^records 5$" "$out/r1"
for bank in sha1 sha256 sha384; do
	check_grep "PCR 11 $bank replays to the TPM's value" "^PCR 11 $bank [0-9a-f]+ match$" "$out/r1"
done
check_grep "sha512, which the TPM lacks, is there but not in the TPM" \
	"^PCR 11 sha512 [0-9a-f]{128} no-bank$" "$out/r1"
check_grep "the hostile name comes back from template_data, escaped as n-ng stores it" \
	"^path $(ere "$out/q\"b\\c\\012d\\377e")$" "$out/r1"
check_eq "the output is ASCII: the name's bytes are in hex" "$(LC_ALL=C grep -c '[^ -~]' \
	<(tr -d '\036' <"$out/seq1"))" 0
check_eq "jq reads it as JSON text sequences (jq --seq)" \
	"$(jq -c --seq -s 'map(.content.template_name) | unique' <"$out/seq1" | tr -d '\036')" \
	'["ima-ng"]'
check_eq "the violation's digests are 0xff in every bank" \
	"$(jq -r --seq -s '.[3].digests | map(.digest | test("^f+$")) | unique | tostring' \
		<"$out/seq1" | tr -d '\036')" '[true]'

"$writer" "$TCTI" "$state" 11 snapshot /bin/ls >"$out/w2" 2>&1
check_eq "a second writer run takes a snapshot and logs one more" $? 0
"$bima" log --log-dir "$state" --format cel-json-array >"$out/arr" 2>"$out/err2"
check_eq "bima log --format cel-json-array exits 0" $? 0
python3 "$replay" --array --tcti "$TCTI" "$out/arr" >"$out/r2" 2>&1
check_eq "the independent replay of the array matches the TPM" $? 0
check_grep "it read the 7 records" "^records 7$" "$out/r2"
for bank in sha1 sha256 sha384; do
	check_grep "PCR 11 $bank replays to the TPM's value" "^PCR 11 $bank [0-9a-f]+ match$" "$out/r2"
done
check_eq "with a snapshot: the banks it names, the TPM's" \
	"$(jq -c '[.[].digests | map(.hashAlg)] | unique' "$out/arr")" '[["sha1","sha256","sha384"]]'
check_eq "no notice then" "$(cat "$out/err2")" ""
"$bima" log --log-dir "$state" --format cel-json >"$out/seq2" 2>/dev/null
check_eq "the array holds the same records as the sequence" \
	"$(jq -c --seq -s . <"$out/seq2" | tr -d '\036')" "$(jq -c . "$out/arr")"
check_eq "recnum counts from 0" "$(jq -c '[.[].recnum]' "$out/arr")" '[0,1,2,3,4,5,6]'

"$bima" log --log-dir "$state" --format cel-json --json >/dev/null 2>"$out/err3"
check_eq "--format with --json is a usage error (exit 2)" $? 2
"$bima" log --log-dir "$state" --format yaml >/dev/null 2>&1
check_eq "an unknown format is a usage error (exit 2)" $? 2

"$writer" "$TCTI" "$state" 11 /bin/cat snapshot /bin/echo retain:remove:1 >"$out/w3" 2>&1
check_eq "a third run takes another snapshot and removes the segments before it" $? 0
"$bima" log --log-dir "$state" --format cel-json >"$out/seq3" 2>"$out/err4"
check_eq "a log whose start is removed is refused (exit 1)" $? 1
check_grep "saying why" "the log starts at anchor [0-9]+ .*no replay from zero could match" \
	"$out/err4"
check_eq "and it writes no record" "$(wc -c <"$out/seq3")" 0

sed 's/^/    | /' "$out/w1" "$out/err1" "$out/r1" "$out/r2" "$out/err4"
head -c 1200 "$out/seq2" | tr '\036' '^' | sed 's/^/    | /'
echo
swtpm_stop
done_testing
