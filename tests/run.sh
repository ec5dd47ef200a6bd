#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run every test: unit tests (no privileges), TPM tests on swtpm (host),
# and guest tests in a QEMU guest with BPF LSM, IMA and a TPM, once per
# guest kernel. Prints each test's checks, then "N passed, N failed, N skipped".
#
#   tests/run.sh [PATTERN]     only tests whose name contains PATTERN
#
# Environment: BIMA_TEST_KERNELS (default "6.12 6.1"); CI=true turns every
# skip into a failure, because CI has BPF, a TPM and the VM.
# A test exits 0 (pass), 77 (skip, with a reason) or anything else (fail);
# a test that printed "not ok" fails whatever its exit status.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pattern=${1:-}
kernels=${BIMA_TEST_KERNELS:-6.12 6.1}
passed=0 failed=0 skipped=0
failed_names=()
out=$(mktemp /tmp/bima-test.XXXXXX)
trap 'rm -f "$out"' EXIT

run_test() {
	local name=$1 start status verdict
	shift
	case $name in *"$pattern"*) ;; *) return ;; esac
	echo "=== $name"
	start=$(date +%s)
	"$@" </dev/null >"$out" 2>&1
	status=$?
	sed 's/^/    /' "$out"
	if [ $status -eq 77 ] && ! grep -q '^not ok' "$out"; then
		if [ "${CI:-}" = true ]; then
			verdict=FAIL
			echo "    (a skip is a failure under CI=true: CI has BPF, TPM and the VM)"
		else
			verdict=SKIP
		fi
	elif [ $status -eq 0 ] && ! grep -q '^not ok' "$out"; then
		verdict=PASS
	else
		verdict=FAIL
	fi
	case $verdict in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	FAIL) failed=$((failed + 1)); failed_names+=("$name") ;;
	esac
	echo "$verdict $name ($(($(date +%s) - start)) s, exit $status)"
}

run_test "lint/clang-format" tools/check-format.sh
for t in .output/tests/test_*; do
	[ -x "$t" ] && run_test "unit/${t##*/}" "$t"
done
for t in tests/tpm/test_*.sh; do
	run_test "tpm/$(basename "$t" .sh)" "$t"
done
for t in tests/deploy/test_*.sh; do
	run_test "deploy/$(basename "$t" .sh)" "$t"
done
for c in $(tests/tpm/tamper.sh --list); do
	run_test "tamper/$c" tests/tpm/tamper.sh "$c"
done
for k in $kernels; do
	for t in tests/guest/test_*.sh; do
		run_test "guest/$(basename "$t" .sh)@$k" tools/vmtest/vmtest.sh --kernel "$k" "$t"
	done
done

echo
for n in "${failed_names[@]}"; do echo "failed: $n"; done
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ] && [ $((passed + failed + skipped)) -gt 0 ]
