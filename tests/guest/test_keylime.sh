#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the live ASCII list a Keylime agent reads (bima run on PCR 10). It
# is linked at /run/bima/ascii_runtime_measurements; a reader that keeps one
# descriptor, as the agent does, and reads it while bima measures an exec
# storm never sees a line that fails to parse, and a torn last line always
# resolves; replayed as Keylime's verifier replays it (every line rebuilt
# into its template data), it gives the TPM's PCR 10 in sha1 and sha256;
# its first line is the kernel's boot_aggregate line, byte for byte, and it
# is `bima log`, line for line. Odd file names: a space (as the kernel
# stores it, '_'), a newline and a byte that is not UTF-8 (escaped, so that
# the line stays one parseable line), a 4000-byte path (whole). `bima
# keylime check` passes and prints the ima_ml_path line. Then, bima on
# PCR 11 with --ascii and an IMA policy measuring the same execs: each
# file's line has the digest and the name of the kernel's own line. `bima
# log --format cel-json` replays independently to PCR 10 in sha1 and
# sha256, a record a line, the odd names whole in template_data.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/keylime-test
logs=$work/log
link=/run/bima/ascii_runtime_measurements
ascii=$top/tests/ima_ascii.py
mkdir -p "$work/bin"
for i in $(seq 40); do unique_copy /usr/bin/true "$work/bin/storm-$i"; done
space="$work/bin/with space"
newline="$work/bin/new
line"
notutf8="$work/bin/bad$(printf '\377')"
deep=$work/deep
while [ ${#deep} -lt 3800 ]; do deep=$deep/$(printf 'd%.0s' $(seq 190)); done
mkdir -p "$deep"
long=$deep/$(printf 'l%.0s' $(seq $((4000 - ${#deep} - 1))))
for f in "$space" "$newline" "$notutf8" "$long"; do unique_copy /usr/bin/true "$f"; done
chmod +x "$work/bin/"* "$long"
check_eq "the long path has 4000 bytes" ${#long} 4000

start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" || exit 1
epoch=$(ls -d "$logs"/epoch-*)
check_eq "the list is linked at $link" "$(readlink "$link")" "$epoch/ascii_runtime_measurements"
python3 "$ascii" tail "$link" "$work/stop" >"$work/tail.out" 2>&1 &
tail_pid=$!
for round in 1 2 3; do
	for i in $(seq 40); do "$work/bin/storm-$i"; done
	[ $round = 2 ] && "$bima" snapshot >/dev/null 2>&1
done
for f in "$space" "$newline" "$notutf8" "$long"; do "$f"; done
sleep 1
"$bima" keylime check --tcti "$tcti" --log-dir "$logs" >"$work/check.out" 2>&1
check_eq "bima keylime check passes (0)" $? 0
check_grep "the path is the epoch's list" "^ok: $link is the ASCII list of the TPM's epoch" "$work/check.out"
check_grep "bima extends PCR 10" '^ok: bima extends PCR 10$' "$work/check.out"
check_grep "the list starts with the kernel's boot_aggregate line" "^ok: kernel IMA adds nothing after its boot_aggregate, which is the list's first line" "$work/check.out"
check_grep "and it prints the agent's configuration line" "^    ima_ml_path = \"$link\"\$" "$work/check.out"
sed 's/^/    check| /' "$work/check.out"
stop_bima # the hooks stay: what comes now waits in the ring buffer, PCR 10 stays
touch "$work/stop"
wait "$tail_pid"
check_eq "a reader that tails the list saw no line it could not parse" $? 0
check_eq "and as many lines as the list has" "$(awk '{ print $2 }' "$work/tail.out")" "$(wc -l <"$link")"
sed 's/^/    tail| /' "$work/tail.out"

python3 "$ascii" replay "$link" >"$work/replay.out" 2>&1
read -r sha1 <"/sys/class/tpm/tpm0/pcr-sha1/10"
read -r sha256 <"/sys/class/tpm/tpm0/pcr-sha256/10"
check_eq "the list replays, line by line, to the TPM's PCR 10 in sha1" \
	"$(awk '$1 == "sha1" { print $2 }' "$work/replay.out")" "$(echo "$sha1" | tr A-F a-f)"
check_eq "and in sha256" "$(awk '$1 == "sha256" { print $2 }' "$work/replay.out")" "$(echo "$sha256" | tr A-F a-f)"
check "its first line is the kernel's, byte for byte" \
	cmp -s <(head -n 1 "$link") <(head -n 1 /sys/kernel/security/ima/ascii_runtime_measurements)
"$bima" log --log-dir "$logs" >"$work/log.txt"
check "it is bima log's rendering, line for line" cmp -s "$work/log.txt" "$link"
check_grep "a snapshot is in it" ' ima-buf sha256:[0-9a-f]{64} snapshot_aggregate [0-9a-f]+$' "$link"
check_grep "a space is stored as the kernel stores it ('_')" \
	" sha256:$(sha256 "$space") $(ere "$work/bin/with_space")\$" "$link"
check_grep "a newline is escaped, and the line stays whole" \
	" sha256:$(sha256sum <"$newline" | cut -d' ' -f1) $(ere "$work/bin/new\\012line")\$" "$link"
check_grep "a byte that is not UTF-8 is escaped" " sha256:$(sha256 "$notutf8") $(ere "$work/bin/bad\\377")\$" "$link"
check_grep "a 4000-byte path is whole" " sha256:$(sha256 "$long") $(ere "$long")\$" "$link"

# The same log as a TCG Canonical Event Log, replayed independently.
"$bima" log --log-dir "$logs" --format cel-json >"$work/cel" 2>"$work/cel.err"
check_eq "bima log --format cel-json exits 0" $? 0
python3 "$top/tests/cel_replay.py" --tcti "$tcti" --paths "$work/cel" >"$work/cel.replay" 2>&1
check_eq "its records replay, from zero, to the TPM's PCR 10 in every bank" $? 0
check_grep "in sha1" "^PCR 10 sha1 [0-9a-f]{40} match$" "$work/cel.replay"
check_grep "and in sha256" "^PCR 10 sha256 [0-9a-f]{64} match$" "$work/cel.replay"
check_eq "a record for each line of the list" \
	"$(sed -n 's/^records //p' "$work/cel.replay")" "$(wc -l <"$link")"
check_grep "the name that is not UTF-8 comes back from template_data" \
	"^path $(ere "$work/bin/bad\\377")\$" "$work/cel.replay"
grep -v '^path ' "$work/cel.replay" | sed 's/^/    cel| /'

# Against the kernel's own rendering of the same files.
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
for x in a b; do unique_copy /usr/bin/true "$work/bin/k-$x"; done
unique_copy /usr/bin/true "$work/bin/k with space"
chmod +x "$work/bin/"k*
start_bima "$work/bima11.out" --log-dir "$work/log11" --tcti "$tcti" --pcr 11 --ascii /run/bima/pcr11 || exit 1
echo "measure func=BPRM_CHECK" >/sys/kernel/security/ima/policy
for x in a b; do "$work/bin/k-$x"; done
"$work/bin/k with space"
sleep 1
stop_bima
for f in "$work/bin/k-a" "$work/bin/k-b" "$work/bin/k with space"; do
	d=$(sha256 "$f")
	ours=$(awk -v d="sha256:$d" '$4 == d { print $4, $5 }' /run/bima/pcr11)
	# The kernel names a file from the global root (the guest's chroot), bima from the task's.
	theirs=$(awk -v d="sha256:$d" '$4 == d { print $4, $5 }' /sys/kernel/security/ima/ascii_runtime_measurements)
	check "the kernel's line for $(basename "$f") has bima's digest and name ($ours)" \
		test -n "$ours" -a "${theirs%"${ours#* }"}" != "$theirs" -a "${theirs%% *}" = "${ours%% *}"
done
"$bima" stop --unload --log-dir "$work/log11" --tcti "$tcti" --pcr 11 --ascii /run/bima/pcr11 >/dev/null 2>&1
done_testing
