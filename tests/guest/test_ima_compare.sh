#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: bima on PCR 10 stops when an IMA policy starts measuring into PCR
# 10 under it. With that policy loaded, bima refuses PCR 10 at start and
# runs on PCR 11. The digests bima logs are the digests the kernel's own
# IMA list holds for the same files, and bima verify accepts the PCR 11 log.
# An incomplete pin set is refused with a message; --force removes pins.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/ima-test
mkdir -p "$work/bin"
unique_copy /usr/bin/true "$work/bin/true-c"
unique_copy /usr/bin/printf "$work/bin/printf-d"
chmod +x "$work/bin/"*

mkdir /sys/fs/bpf/bima
"$bima" run --log-dir "$work/pinned" --tcti "$tcti" >"$work/pinned.out" 2>&1
check_eq "bima run over an incomplete pin set exits 1" $? 1
check_grep "and names the directory and the way out" '/sys/fs/bpf/bima holds an incomplete set.*bima stop --unload --force' "$work/pinned.out"
rmdir /sys/fs/bpf/bima

start_bima "$work/pcr10.out" --log-dir "$work/pcr10" --tcti "$tcti" || exit 1
echo "measure func=BPRM_CHECK" >/sys/kernel/security/ima/policy
check_eq "IMA policy measuring BPRM_CHECK loaded" $? 0
/usr/bin/true # kernel IMA now adds to PCR 10
deadline=$((SECONDS + 60))
while kill -0 "$bima_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
wait "$bima_pid"
check_eq "bima on PCR 10 stops with exit 1 when kernel IMA extends PCR 10" $? 1
check_grep "and says why" 'kernel IMA added [0-9]+ entries to PCR 10' "$work/pcr10.out"
"$bima" stop --unload --force >"$work/force.out" 2>&1
check_eq "bima stop --unload --force exits 0" $? 0
check_grep "and names each pin it removed" 'removed /sys/fs/bpf/bima/maps/bima_events' "$work/force.out"
check "no pins are left" test ! -e /sys/fs/bpf/bima

count=$(cat /sys/kernel/security/ima/runtime_measurements_count)
check "kernel IMA list grew past boot_aggregate ($count entries)" test "$count" -gt 1

"$bima" run --log-dir "$work/refused" --tcti "$tcti" >"$work/refused.out" 2>&1
check_eq "bima run on PCR 10 is refused while kernel IMA measures there (exit 1)" $? 1
check_grep "and says why and what to do" 'kernel IMA has [0-9]+ entries in PCR 10.*--pcr 11' "$work/refused.out"
check "nothing stays pinned after the refusal" test ! -e /sys/fs/bpf/bima

start_bima "$work/bima.out" --pcr 11 --log-dir "$work/log" --tcti "$tcti" || exit 1
"$work/bin/true-c"
"$work/bin/printf-d" x >/dev/null
sleep 1
stop_bima

"$bima" log --log-dir "$work/log" >"$work/log.txt"
head -1 "$work/log.txt" >"$work/first.txt"
check_grep "bima's PCR 11 log starts with its own boot_aggregate" '^11 [0-9a-f]{40} ima-ng sha256:[0-9a-f]{64} boot_aggregate$' "$work/first.txt"
check_eq "bima's boot_aggregate digest equals the kernel's (PCRs 0-9, sha256)" \
	"$(cut -d' ' -f4 "$work/first.txt")" \
	"$(awk '$5 == "boot_aggregate" { print $4; exit }' /sys/kernel/security/ima/ascii_runtime_measurements)"
for f in "$work/bin/true-c" "$work/bin/printf-d"; do
	d=$(sha256 "$f")
	check_grep "bima logged $(basename "$f") with its sha256sum, as bima-ct (PCR 11's default), from the host" \
		"^11 [0-9a-f]{40} bima-ct sha256:$d $f [0-9]+ [0-9]+ - - /.*\$" "$work/log.txt"
	# Kernel IMA names the file from the global root (the guest's chroot is
	# /mnt/root), bima from the task's root: compare digests and file names.
	check_grep "kernel IMA list has the same digest for $(basename "$f")" \
		"^10 [0-9a-f]{40} ima-sig sha256:$d /.*/$(basename "$f") \$" /sys/kernel/security/ima/ascii_runtime_measurements
done

"$bima" verify --log-dir "$work/log" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify of the PCR 11 log exits 0" $? 0
check_grep "PCR 11 replays in sha1 and sha256" '^PCR 11: the log replays to the TPM value in sha1 sha256' "$work/verify.txt"
sed 's/^/    verify| /' "$work/verify.txt"
done_testing
