#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The configuration file: its settings apply to every command that takes
# them (bima verify takes the log directory and the TPM from it, and leaves
# bima run's keys alone), the command line has the last word, and a bad
# line (an unknown key, a value the option refuses, no "=") is refused
# with its file and line, before anything runs.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

"$writer" "$TCTI" "$w/log" 11 /bin/true >/dev/null 2>&1
cat >"$w/bima.conf" <<CONF
# bima's settings
log-dir = $w/log     # where the log is
tcti = $TCTI
pcr = 11
snapshot-entries = 1000
fail-closed = no
CONF
"$bima" verify --config "$w/bima.conf" >"$w/out" 2>&1
check_eq "bima verify takes the log directory and the TPM from the file (0)" $? 0
check_grep "the log of that directory" "^$(ere "$w/log")/epoch-1-0: 2 entries in 1 segment\\(s\\): verified\$" "$w/out"
"$bima" verify --config "$w/bima.conf" --log-dir "$w/nowhere" >"$w/out" 2>&1
check_eq "the command line has the last word (2: no log there)" $? 2
check_grep "naming its directory" "$(ere "$w/nowhere")" "$w/out"

refused() { # NAME LINE PATTERN
	printf '%s\n' "$2" >"$w/bad.conf"
	"$bima" run --config "$w/bad.conf" >"$w/bad.out" 2>&1
	check_eq "$1: refused (2)" $? 2
	check_grep "$1: with its file and line" "$3" "$w/bad.out"
}
refused "an unknown key" "colour = red" "bad.conf:1: unknown key \"colour\""
refused "a value the option refuses" "pcr = 24" "bad.conf:1: the setting above is refused"
refused "a line without =" "pcr 11" "bad.conf:1: \"pcr 11\" is not \"key = value\""
refused "a flag that is not yes or no" "fail-closed = maybe" "bad.conf:1: fail-closed takes yes or no"
refused "protect takes yes or no" "protect = maybe" "bad.conf:1: the setting above is refused"
check_grep "protect takes yes or no: saying so" '--protect: yes or no, not "maybe"' "$w/bad.out"
refused "template takes auto, ima-ng or bima-ct" "template = ima" "bad.conf:1: the setting above is refused"
check_grep "template: saying so" '--template: "ima" is not auto, ima-ng or bima-ct' "$w/bad.out"
# The most a file and a command line may hold: 64 settings and 63 arguments
# (BIMA_BIN: another build of bima, e.g. `make OUTPUT=.output-asan
# CC="cc -fsanitize=address" .output-asan/bima`, run with ASAN_OPTIONS=detect_leaks=0).
{
	echo "tcti = $TCTI"
	for _ in $(seq 63); do echo "log-dir = $w/log"; done
} >"$w/full.conf"
many=()
for _ in $(seq 63); do many+=("--log-dir=$w/log"); done
"${BIMA_BIN:-$bima}" verify --config "$w/full.conf" "${many[@]}" >"$w/out" 2>&1
check_eq "64 settings and 63 arguments: bima verify runs (0)" $? 0
check_grep "and verifies the log" "^$(ere "$w/log")/epoch-1-0: 2 entries in 1 segment\\(s\\): verified\$" "$w/out"
"${BIMA_BIN:-$bima}" verify --config "$w/full.conf" "${many[@]}" --json >"$w/out" 2>&1
check_eq "64 arguments: refused (2)" $? 2
check_grep "saying how many it takes" 'bima: too many arguments: 64, at most 63' "$w/out"
echo "log-dir = $w/log" >>"$w/full.conf"
"${BIMA_BIN:-$bima}" verify --config "$w/full.conf" >"$w/out" 2>&1
check_eq "65 settings: refused (2)" $? 2
check_grep "naming the file and line" 'full.conf:65: more than 64 settings' "$w/out"
"$bima" run --config "$w/missing.conf" >"$w/bad.out" 2>&1
check_eq "a --config file that does not exist is refused (2)" $? 2
check_grep "named" 'missing.conf: no such file' "$w/bad.out"
# An IMA policy with appraise rules: warned of, and refused by strict-policy,
# from the file as from the command line, before anything is loaded.
printf 'measure func=BPRM_CHECK\nappraise func=BPRM_CHECK appraise_type=imasig\n' >"$w/ima.policy"
printf 'policy = %s\nstrict-policy = yes\n' "$w/ima.policy" >"$w/strict.conf"
"$bima" run --config "$w/strict.conf" >"$w/bad.out" 2>&1
check_eq "strict-policy = yes refuses an appraise rule (2)" $? 2
check_grep "naming its line" 'ima.policy:2:1: "appraise": bima only measures' "$w/bad.out"
"$bima" run --policy "$w/ima.policy" --strict-policy >"$w/bad.out" 2>&1
check_eq "and so does --strict-policy (2)" $? 2
"$bima" policy check "$w/ima.policy" >"$w/out" 2>&1
check_eq "without it, the policy compiles (0)" $? 0
check_grep "skipping the appraise rule with a warning" "ima.policy: warning: 1 rule\\(s\\) of IMA's appraise" "$w/out"
check_grep "and keeping the measure rule" '^ 1: measure func=BPRM_CHECK$' "$w/out"
check "nothing was pinned by the refused runs" test ! -e /sys/fs/bpf/bima
swtpm_stop
done_testing
