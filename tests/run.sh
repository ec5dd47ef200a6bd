#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test: unit tests (no privileges), TPM tests on swtpm (host),
# and guest tests in a QEMU guest with BPF LSM, IMA and a TPM, once per
# guest kernel. Prints each test's checks, then "N passed, N failed, N skipped".
#
#   tests/run.sh [PATTERN]     only tests whose name contains PATTERN
#   tests/run.sh unit/test_policy:cgroup
#                              only the case cgroup of that unit test;
#                              unit/test_log:torn,gap two cases (a unit
#                              test's --list names its cases)
#
# Environment: BIMA_TEST_KERNELS (default "6.12 6.1"; none: no guest test); BIMA_TEST_JOBS, how
# many kernels' guest tests run at once (default: one per CPU, each guest
# takes one; the output stays in order); CI=true turns every skip into a
# failure, because CI has BPF, a TPM and the VM.
# A test exits 0 (pass), 77 (skip, with a reason) or anything else (fail);
# a test that printed "not ok" fails whatever its exit status.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pattern=${1:-}
cases=() # unit/NAME:CASE,CASE: the cases to run of the unit tests PATTERN names
only=     # and ":CASE,CASE", which their names in the output end with
case $pattern in
unit/*:*)
	only=:${pattern#*:}
	IFS=, read -ra cases <<<"${only#:}"
	pattern=${pattern%%:*}
	;;
esac
kernels=${BIMA_TEST_KERNELS:-6.12 6.1}
[ "$kernels" = none ] && kernels= # host tests only
passed=0 failed=0 skipped=0
failed_names=()
jobs=${BIMA_TEST_JOBS:-$(nproc)}
spool=$(mktemp -d /tmp/bima-test.XXXXXX)
trap 'rm -rf "$spool"' EXIT

# run NAME DIR CMD...: run one test into DIR/NAME.{out,status,time}.
run() {
	local name=$1 dir=$2 start
	shift 2
	start=$(date +%s)
	"$@" </dev/null >"$dir/$name.out" 2>&1
	echo $? >"$dir/$name.status"
	echo $(($(date +%s) - start)) >"$dir/$name.time"
}

# report NAME DIR: print a test that ran, and count its verdict.
# A test exits 0 (pass), 77 (skip) or anything else (fail).
report() {
	local name=$1 dir=$2 status verdict out
	out=$dir/$name.out
	status=$(cat "$dir/$name.status")
	echo "=== $name"
	sed 's/^/    /' "$out"
	if [ "$status" -eq 77 ] && ! grep -q '^not ok' "$out"; then
		if [ "${CI:-}" = true ]; then
			verdict=FAIL
			echo "    (a skip is a failure under CI=true: CI has BPF, TPM and the VM)"
		else
			verdict=SKIP
		fi
	elif [ "$status" -eq 0 ] && ! grep -q '^not ok' "$out"; then
		verdict=PASS
	else
		verdict=FAIL
	fi
	case $verdict in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	FAIL) failed=$((failed + 1)); failed_names+=("$name") ;;
	esac
	echo "$verdict $name ($(cat "$dir/$name.time") s, exit $status)"
}

selected() { case ${1%:*} in *"$pattern"*) return 0 ;; esac; return 1; }

run_test() {
	local name=$1
	shift
	selected "$name" || return 0
	mkdir -p "$spool/host/${name%/*}"
	run "$name" "$spool/host" "$@"
	report "$name" "$spool/host"
}

guest_tests() { # KERNEL: the names of its selected guest tests
	local t name kernels
	for t in tests/guest/test_*.sh; do
		name=guest/$(basename "$t" .sh)@$1
		kernels=$(sed -n 's/^# vmtest-kernels: //p' "$t")
		case " ${kernels:-$1} " in *" $1 "*) ;; *) continue ;; esac
		selected "$name" && echo "$name"
	done
}

# One kernel's guest tests, one after the other, into $spool/KERNEL. A
# test's "# vmtest-options: ..." line adds options to vmtest.sh (--timeout 600, --smp 2);
# its "# vmtest-kernels: ..." line, if any, names the only kernels it runs on.
guest_series() {
	local k=$1 name t opts optv
	mkdir -p "$spool/$k/guest"
	for name in $(guest_tests "$k"); do
		t=tests/guest/${name#guest/}
		t=${t%@*}.sh
		opts=$(sed -n 's/^# vmtest-options: //p' "$t")
		eval "optv=($opts)" # as the shell splits them: --cmdline "a b" is one value
		run "$name" "$spool/$k" tools/vmtest/vmtest.sh --kernel "$k" "${optv[@]}" "$t"
		touch "$spool/$k/$name.done"
	done
}

run_test "lint/clang-format" tools/check-format.sh
for t in .output/tests/test_*; do
	[ -x "$t" ] && run_test "unit/${t##*/}$only" "$t" "${cases[@]}"
done
for t in tests/tpm/test_*.sh; do
	run_test "tpm/$(basename "$t" .sh)" "$t"
done
for t in tests/deploy/test_*.sh; do
	run_test "deploy/$(basename "$t" .sh)" "$t"
done
for t in tests/docs/test_*.sh; do
	run_test "docs/$(basename "$t" .sh)" "$t"
done
for c in $(tests/tpm/tamper.sh --list); do
	run_test "tamper/$c" tests/tpm/tamper.sh "$c"
done
# Up to $jobs kernels at once; each kernel's results print in order, as its
# tests end, the first kernel's first.
# shellcheck disable=SC2086 # a word per kernel
set -- $kernels
while [ $# -gt 0 ]; do
	batch=()
	while [ $# -gt 0 ] && [ ${#batch[@]} -lt "$jobs" ]; do
		batch+=("$1")
		shift
	done
	pids=()
	for k in "${batch[@]}"; do
		guest_series "$k" &
		pids+=($!)
	done
	for k in "${batch[@]}"; do
		for name in $(guest_tests "$k"); do
			until [ -e "$spool/$k/$name.done" ]; do sleep 1; done
			report "$name" "$spool/$k"
		done
	done
	wait "${pids[@]}"
done

echo
for n in "${failed_names[@]}"; do echo "failed: $n"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $((passed + failed + skipped)) -gt 0 ]
