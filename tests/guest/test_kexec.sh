#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: a real kexec continues the epoch. Phase 1 runs bima, loads the
# same kernel with `kexec -s -l` (measured: KEXEC_KERNEL_CHECK), stops the
# daemon (which logs a kexec_execute entry, as under `systemctl kexec`) and
# jumps with `kexec -e`. The guest's init then runs this script again in
# the new kernel: phase 2. The TPM kept its PCRs, and the new kernel's IMA
# extended PCR 10 with its boot_aggregate; bima imports that entry,
# continues the same epoch's log (kept on the results share, which outlives
# the kexec) and its ASCII list, and the whole log verifies against the TPM.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

state=$VMTEST_RESULTS/kexec-test
logs=$state/log
cache=$top/.cache/vmtest/$VMTEST_KERNEL
kernel=$(readlink -f "$cache/vmlinuz")
initrd=$cache/initrd.cpio.gz

if [ ! -e "$state/phase1" ]; then
	command -v kexec >/dev/null || skip "kexec-tools is not installed (make deps)"
	mkdir -p "$state/bin"
	for f in before after; do unique_copy /usr/bin/true "$state/bin/$f"; done
	chmod +x "$state/bin/"*
	start_bima "$state/bima1.out" --log-dir "$logs" --tcti "$tcti" || exit 1
	"$state/bin/before"
	kexec -s -l "$kernel" --initrd="$initrd" --reuse-cmdline
	check_eq "kexec -s -l loads the next kernel" $? 0
	"$bima" stop >"$state/stop.out" 2>&1
	wait "$bima_pid"
	check_eq "the daemon stops cleanly" $? 0
	check_grep "it logs a kexec_execute entry before the jump" \
		'a kexec image is loaded: logged a kexec_execute entry' "$state/bima1.out"
	echo "$failures" >"$state/phase1"
	sync
	echo "# phase 1 done, kexec -e"
	kexec -e
	not_ok "kexec -e jumps to the next kernel" "it returned $?"
	exit 1
fi

echo "# phase 2, in the kexec'd kernel"
failures=$(cat "$state/phase1")
check_eq "the new kernel's IMA list holds only its boot_aggregate" \
	"$(wc -l </sys/kernel/security/ima/ascii_runtime_measurements)" 1
start_bima "$state/bima2.out" --log-dir "$logs" --tcti "$tcti" || exit 1
check_grep "bima imports the new kernel's boot_aggregate from the TPM" \
	'then the kernel.s last 1 IMA entries \(a kexec' "$state/bima2.out"
check_grep "and continues the same epoch" 'continuing epoch .*epoch-[0-9]+-[0-9]+: ' "$state/bima2.out"
check "no new epoch was started" test "$(ls -d "$logs"/epoch-* | wc -l)" -eq 1
"$state/bin/after"
stop_bima
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1

"$bima" log --log-dir "$logs" >"$state/log.txt"
awk '{ print $5 }' "$state/log.txt" | grep -v '\.so' >"$state/names.txt"
order=$(grep -nE "^($(ere "$kernel")|$state/bin/before|kexec_execute|boot_aggregate|$state/bin/after)\$" \
	"$state/names.txt" | cut -d: -f2 | sed -E "s|^$state/bin/||; s|^$(ere "$kernel")\$|kernel|" |
	uniq | tr '\n' ' ')
check_eq "the log: boot_aggregate, before, the kexec kernel, kexec_execute, the new boot_aggregate, after" \
	"$order" "boot_aggregate before kernel kexec_execute boot_aggregate after "
# The ASCII list for Keylime, kept beside the log (on the results share,
# 9p: a shared mapping of a file open for writing is refused there) and
# continued across the kexec: the log's entries, line for line.
check_no_grep "the second run kept the ASCII list" 'ASCII list cannot be made' "$state/bima2.out"
check "and it is the log, line for line" cmp "$logs"/epoch-*/ascii_runtime_measurements "$state/log.txt"
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$state/verify.txt" 2>&1
check_eq "bima verify accepts the log across the kexec" $? 0
check_grep "and notes the kexec" '^note: 1 kexec into a kernel that continued this epoch' \
	"$state/verify.txt"
check_grep "and two loads of the BPF programs, one per kernel, each without a gap" \
	'kernel record\(s\) in 2 load\(s\): every sequence number logged or counted lost' \
	"$state/verify.txt"
sed 's/^/    verify| /' "$state/verify.txt"
cat "$logs"/epoch-*/segment-*.bin >"$state/list.bin"
"$top/tools/evmctl-verify.sh" "$state/list.bin" >"$state/evmctl.txt" 2>&1
check_eq "evmctl ima_measurement exits 0" $? 0
check_grep "evmctl matched every TPM bank" 'Matched per TPM bank calculated digest' "$state/evmctl.txt"
grep -v debug "$state/bima2.out" | sed 's/^/    bima2| /'
done_testing
