#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# selftest.sh - proves the vmtest guest environment. Run it with
#   tools/vmtest/vmtest.sh [--kernel 6.12|6.1] tools/vmtest/selftest.sh
# Prints one "ok - ..." or "not ok - ..." line per check; exits 1 if any failed.

passed=0
failed=0

check() { # DESCRIPTION COMMAND...
	desc=$1
	shift
	out=$("$@" 2>&1)
	rc=$?
	out=$(echo "$out" | tr -s '\n' ' ' | sed 's/^ //; s/ $//')
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		echo "ok - $desc${out:+: $out}"
	else
		failed=$((failed + 1))
		echo "not ok - $desc${out:+: $out}"
	fi
}

in_vmtest() {
	[ "${VMTEST:-}" = 1 ] && echo "VMTEST_KERNEL=${VMTEST_KERNEL:-}"
}

kernel_release() {
	r=$(uname -r)
	echo "$r"
	case "$r" in "${VMTEST_KERNEL:-?}".*) ;; *) return 1 ;; esac
}

bpf_lsm_active() {
	lsm=$(cat /sys/kernel/security/lsm) || return 1
	echo "$lsm"
	case ",$lsm," in *,bpf,*) ;; *) return 1 ;; esac
}

tpm_device() {
	[ -c /dev/tpmrm0 ] && echo /dev/tpmrm0
}

# PCR 10 holds at least IMA's boot_aggregate: not all zeros.
pcr10() {
	read -r v </sys/class/tpm/tpm0/pcr-sha256/10 || return 1
	echo "$v"
	[ ${#v} -eq 64 ] || return 1
	case "$v" in *[!0]*) ;; *) return 1 ;; esac
}

ima_boot_aggregate() {
	grep -m1 ' boot_aggregate\( \|$\)' /sys/kernel/security/ima/ascii_runtime_measurements
}

tmp_writable() {
	f=$(mktemp) && echo hello >"$f" && [ "$(cat "$f")" = hello ] && rm "$f" &&
		echo "$f"
}

results_writable() {
	[ -d "${VMTEST_RESULTS:-}" ] && : >"$VMTEST_RESULTS/selftest" &&
		rm "$VMTEST_RESULTS/selftest" && echo "$VMTEST_RESULTS"
}

# Both banks must be allocated: each prints a "16 : 0x..." value.
pcrread() {
	out=$(tpm2_pcrread sha1:16+sha256:16 -T device:/dev/tpmrm0) || return 1
	echo "$out"
	[ "$(echo "$out" | grep -c '16 *: 0x')" -eq 2 ]
}

check "running under vmtest" in_vmtest
check "uname -r matches VMTEST_KERNEL" kernel_release
check "bpf in /sys/kernel/security/lsm" bpf_lsm_active
check "/dev/tpmrm0 exists" tpm_device
check "PCR 10 (sha256) is extended" pcr10
check "IMA list has boot_aggregate" ima_boot_aggregate
check "/tmp is writable" tmp_writable
check "VMTEST_RESULTS is writable" results_writable
check "tpm2_pcrread sha1:16+sha256:16" pcrread
check "bpftool version runs" bpftool version
echo "selftest: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
