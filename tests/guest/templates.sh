# SPDX-License-Identifier: GPL-2.0-only
# The body of the tests/guest/test_template_*.sh tests, one a template the
# kernel can boot with (each boots the guest with its own ima_template= or
# ima_template_fmt=, in its "# vmtest-options:" line). Source it after
# tests/lib.sh and guest.sh, then call: template_test NAME
#
# bima starts on PCR 10 under a kernel whose boot_aggregate is in template
# NAME, imports it, logs an exec; `bima log` prints the imported entry as
# the kernel's ascii_runtime_measurements does, byte for byte, and so does
# bima's ASCII list; `bima verify` and evmctl replay the log to the TPM.
# Then an IMA policy measures execs into the kernel's own list, and `bima
# log` of that list (copied into a log directory as a segment) prints it
# byte for byte as the kernel does.

template_test() {
	local want=$1 work=/tmp/template-test kernel=/sys/kernel/security/ima
	local logs=$work/log first status

	mkdir -p "$work/bin" "$work/kernel/epoch-0-0"
	first=$(head -n 1 "$kernel/ascii_runtime_measurements")
	read -r _ _ name _ <<<"$first"
	[ "$name" = "$want" ] || skip "the kernel did not boot with template $want (its boot_aggregate: $first)"
	ok "the kernel booted with template $want"
	unique_copy /usr/bin/true "$work/bin/true-t"
	chmod +x "$work/bin/true-t"

	start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" || return 1
	"$work/bin/true-t"
	sleep 1
	stop_bima
	"$bima" log --log-dir "$logs" >"$work/log.txt" 2>"$work/log.err"
	check_eq "bima log reads the log whole" $? 0
	check_eq "its first line is the kernel's boot_aggregate, byte for byte" \
		"$(head -n 1 "$work/log.txt")" "$first"
	echo "    kernel| $first"
	echo "    bima  | $(head -n 1 "$work/log.txt")"
	check_eq "so is the first line of bima's ASCII list" \
		"$(head -n 1 /run/bima/ascii_runtime_measurements)" "$first"
	check "bima's ASCII list is bima log's rendering, line for line" \
		cmp -s "$work/log.txt" /run/bima/ascii_runtime_measurements
	# in the kernel's file hash algorithm: sha1 under ima_hash=sha1
	check_grep "the exec is logged in ima-ng" \
		"^10 [0-9a-f]{40} ima-ng (sha256:$(sha256 "$work/bin/true-t")|sha1:$(sha1sum "$work/bin/true-t" | cut -d' ' -f1)) $(ere "$work/bin/true-t")\$" \
		"$work/log.txt"

	"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
	check_eq "bima verify exits 0" $? 0
	check_grep "and replays PCR 10 in sha1 and sha256" \
		'^PCR 10: the log replays to the TPM value in sha1 sha256' "$work/verify.txt"
	cat "$logs"/epoch-*/segment-*.bin >"$work/list.bin"
	"$top/tools/evmctl-verify.sh" "$work/list.bin" >"$work/evmctl.txt" 2>&1
	status=$?
	if [ "$want" = ima ] && grep -q 'Mixed measurement list containing "ima"' "$work/evmctl.txt"; then
		# evmctl's limit, not the log's: bima verify replayed it above
		echo "ok - evmctl ima_measurement # SKIP evmctl refuses a list that mixes the ima template with others"
	else
		check_eq "evmctl ima_measurement exits 0" "$status" 0
		check_grep "evmctl matched every TPM bank" 'Matched per TPM bank calculated digest' \
			"$work/evmctl.txt"
	fi
	sed 's/^/    evmctl| /' "$work/evmctl.txt" | tail -n 3
	"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1

	# The kernel's own list, with entries of files, in template $want.
	echo "measure func=BPRM_CHECK" >"$kernel/policy"
	check_eq "an IMA policy measuring execs is loaded" $? 0
	unique_copy /usr/bin/true "$work/bin/k-a"
	unique_copy /usr/bin/true "$work/bin/k b"
	chmod +x "$work/bin/"k*
	"$work/bin/k-a"
	"$work/bin/k b"
	cp "$kernel/binary_runtime_measurements" "$work/kernel/epoch-0-0/segment-000001.bin"
	cp "$kernel/ascii_runtime_measurements" "$work/kernel.txt"
	check "the kernel's list has entries of files" test "$(wc -l <"$work/kernel.txt")" -gt 2
	"$bima" log --log-dir "$work/kernel" >"$work/kernel-log.txt" 2>"$work/kernel-log.err"
	check_eq "bima log reads the kernel's list" $? 0
	check "and prints it byte for byte as the kernel does" cmp "$work/kernel-log.txt" "$work/kernel.txt"
	diff "$work/kernel-log.txt" "$work/kernel.txt" | head -n 6 | sed 's/^/    diff| /'
	sed 's/^/    error| /' "$work/kernel-log.err"
	echo "    kernel| $(grep -m1 -E 'bin/k-a( |$)' "$work/kernel.txt")"
	echo "    bima  | $(grep -m1 -E 'bin/k-a( |$)' "$work/kernel-log.txt")"
}
