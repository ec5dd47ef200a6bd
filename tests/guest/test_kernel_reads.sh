#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: what the kernel loads is measured under IMA's func names. A module
# loaded with insmod (finit_module) is logged as MODULE_CHECK with its
# sha256sum, the same module loaded from memory (init_module) as an unhashed
# MODULE_CHECK entry named <init_module>, and a kernel and initramfs loaded
# with `kexec -s -l` (kexec_file_load, not executed) as KEXEC_KERNEL_CHECK
# and KEXEC_INITRAMFS_CHECK, and an IMA policy written by path as
# POLICY_CHECK, with their sha256sums. A BPF program the kernel
# hands an fd for (bpftool looking it up by id) is logged as BPF_CHECK, an
# ima-buf entry whose buffer is "tag=TAG name=NAME" with bpftool's tag. The
# log verifies against the TPM.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/kread-test
cache=$top/.cache/vmtest/$VMTEST_KERNEL
kernel=$(readlink -f "$cache/vmlinuz") # measured under the name it resolves to
initrd=$cache/initrd.cpio.gz
mkdir -p "$work"
command -v kexec >/dev/null || skip "kexec-tools is not installed (make deps)"
ko=$(find "$cache/root/lib/modules" -name 'dummy.ko*' | head -n1)
[ -n "$ko" ] || skip "the guest kernel has no dummy module"
case $ko in
*.xz) xz -dc "$ko" >"$work/dummy.ko" ;;
*.zst) zstd -qdc "$ko" >"$work/dummy.ko" ;;
*) cp "$ko" "$work/dummy.ko" ;;
esac

start_bima "$work/bima.out" -v --log-dir "$work/log" --tcti "$tcti" || exit 1
check_grep "the kernel_read_file hook is active" 'measuring .*kernel file reads \(MODULE_CHECK' "$work/bima.out"
insmod "$work/dummy.ko"
check_eq "insmod of the dummy module exits 0" $? 0
rmmod dummy
# The same module from memory (init_module, as old insmods did): no file to hash.
python3 -c 'import ctypes, sys
data = open(sys.argv[1], "rb").read()
libc = ctypes.CDLL(None, use_errno=True)
sys.exit(0 if libc.syscall(175, data, len(data), b"") == 0 else ctypes.get_errno())' "$work/dummy.ko"
check_eq "init_module (175) of the dummy module exits 0" $? 0
rmmod dummy
kexec -s -l "$kernel" --initrd="$initrd" --append="console=ttyS0"
check_eq "kexec -s -l (load only) exits 0" $? 0
kexec -s -u
# An IMA policy loaded by path (it only skips procfs: kernel IMA adds nothing to PCR 10).
echo 'dont_measure fsmagic=0x9fa0' >"$work/ima.policy"
echo "$work/ima.policy" >/sys/kernel/security/ima/policy
check_eq "an IMA policy loaded by path is taken" $? 0
tag=$(bpftool prog show name bima_mmap_file | sed -n 's/.* tag \([0-9a-f]*\) .*/\1/p')
check "bpftool shows bima_mmap_file's tag ($tag)" test -n "$tag"
sleep 1
stop_bima

check_grep "the module is measured as MODULE_CHECK" \
	"MODULE_CHECK .* sha256:$(sha256 "$work/dummy.ko") $(ere "$work/dummy.ko")\$" "$work/bima.out"
check_grep "the module from memory as MODULE_CHECK, unhashed" \
	"MODULE_CHECK <init_module>: not hashed" "$work/bima.out"
check_grep "the kexec kernel as KEXEC_KERNEL_CHECK" \
	"KEXEC_KERNEL_CHECK .* sha256:$(sha256 "$kernel") $(ere "$kernel")\$" "$work/bima.out"
check_grep "the IMA policy file as POLICY_CHECK" \
	"POLICY_CHECK .* sha256:$(sha256 "$work/ima.policy") $(ere "$work/ima.policy")\$" "$work/bima.out"
check_grep "the kexec initramfs as KEXEC_INITRAMFS_CHECK" \
	"KEXEC_INITRAMFS_CHECK .* sha256:$(sha256 "$initrd") $(ere "$initrd")\$" "$work/bima.out"
"$bima" log --log-dir "$work/log" >"$work/log.txt"
text="tag=$tag name=bima_mmap_file"
check_grep "the BPF program is logged as an ima-buf bpf_prog entry of its tag and name" \
	" ima-buf sha256:$(printf %s "$text" | sha256sum | cut -d' ' -f1) bpf_prog $(printf %s "$text" | od -An -tx1 | tr -d ' \n')\$" "$work/log.txt"
check_grep "and -v prints it as BPF_CHECK" "BPF_CHECK .* $(ere "$text")\$" "$work/bima.out"
check_grep "the log has it with a zero digest" " ima-ng sha256:0{64} <init_module>\$" "$work/log.txt"
for f in "$work/dummy.ko" "$kernel" "$initrd"; do
	check_grep "the log has ${f##*/} with its sha256sum" " ima-ng sha256:$(sha256 "$f") $(ere "$f")\$" "$work/log.txt"
done
"$bima" verify --log-dir "$work/log" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
sed 's/^/    verify| /' "$work/verify.txt"
grep -E 'measuring|(MODULE|KEXEC_[A-Z]*)_CHECK ' "$work/bima.out" | sed 's/^/    bima| /'
"$bima" stop --unload --log-dir "$work/log" --tcti "$tcti" >/dev/null 2>&1
done_testing
