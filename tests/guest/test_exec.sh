#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: bima on PCR 10 with no IMA policy. Exec'd and PROT_EXEC-mapped files
# are logged with their sha256sum, also one exec'd while no daemon ran (the
# pinned hooks queue it, the next daemon adopts them and logs it); the log
# starts with the kernel's own boot_aggregate; bima verify and evmctl accept
# the log against the TPM; a flipped byte fails and is named; bpftool shows
# the pinned objects; `bima stop --unload` removes them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/exec-test
logs=$work/log
mkdir -p "$work/bin"
unique_copy /usr/bin/true "$work/bin/true-a"
unique_copy /usr/bin/echo "$work/bin/echo-b"
unique_copy /usr/bin/true "$work/bin/true-down"
unique_copy "$(ldconfig -p | awk '/libz.so.1 / { print $NF; exit }')" "$work/libz-copy.so"
chmod +x "$work/bin/"*
# Run every helper once first, so their own measurements happen now.
python3 -c 'pass'
bpftool version >/dev/null

start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" -v || exit 1

"$work/bin/true-a"
"$work/bin/echo-b" hello >/dev/null
python3 - "$work/libz-copy.so" <<'PY'
import mmap, sys
with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)
    m.close()
PY

# (f) while it runs: the pinned objects, by name.
bpftool prog show name bima_bprm_check >"$work/bpftool" 2>&1
check_grep "bpftool prog show names bima_bprm_check (lsm)" 'lsm +name bima_bprm_check' "$work/bpftool"
bpftool prog show name bima_mmap_file >"$work/bpftool" 2>&1
check_grep "bpftool prog show names bima_mmap_file" 'name bima_mmap_file' "$work/bpftool"
bpftool map show name bima_events >"$work/bpftool" 2>&1
check_grep "bpftool map show names the ring buffer bima_events" 'ringbuf +name bima_events' "$work/bpftool"
bpftool map show pinned /sys/fs/bpf/bima/maps/bima_stats >"$work/bpftool" 2>&1
check_grep "stats map pinned at /sys/fs/bpf/bima/maps/bima_stats" 'name bima_stats' "$work/bpftool"
bpftool link show pinned /sys/fs/bpf/bima/links/bima_bprm_check >"$work/bpftool" 2>&1
check_grep "exec link pinned at /sys/fs/bpf/bima/links/bima_bprm_check" 'tracing|lsm' "$work/bpftool"
check "programs pinned under /sys/fs/bpf/bima/progs" test -e /sys/fs/bpf/bima/progs/bima_mmap_file

sleep 1
stop_bima
check_grep "bima reports no loss at exit" 'records logged by this run, 0 lost in all' "$work/bima.out"
check "the hooks stay pinned after SIGTERM" test -e /sys/fs/bpf/bima/links/bima_bprm_check

"$work/bin/true-down" # measured into the ring buffer while no daemon runs
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" || exit 1
check_grep "the second daemon adopts the pinned objects" 'adopted the BPF objects pinned in /sys/fs/bpf/bima; [1-9][0-9]* bytes of records queued' "$work/bima2.out"
check_grep "and continues the epoch's log" 'continuing epoch .*: [0-9]+ entries, the TPM agrees with the log' "$work/bima2.out"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/stop.out" 2>&1
check_eq "bima stop --unload exits 0" $? 0
check_grep "it stopped the daemon" 'stopped bima \(pid [0-9]+\)' "$work/stop.out"
check_grep "it names what it removed" 'removed /sys/fs/bpf/bima/links/bima_bprm_check' "$work/stop.out"
check "no pins are left" test ! -e /sys/fs/bpf/bima
check "the daemon is gone" test ! -e "/proc/$bima_pid"

"$bima" log --log-dir "$logs" >"$work/log.txt"
check_eq "first log line is the kernel's own boot_aggregate line" \
	"$(head -1 "$work/log.txt")" "$(head -1 /sys/kernel/security/ima/ascii_runtime_measurements)"

# (a) every executed file, and the mapped library, with its sha256sum
for f in "$work/bin/true-a" "$work/bin/echo-b" "$work/libz-copy.so" "$work/bin/true-down"; do
	check_grep "$(basename "$f") logged with its sha256sum" \
		"^10 [0-9a-f]{40} ima-ng sha256:$(sha256 "$f") $f\$" "$work/log.txt"
done

# (c) bima verify against the TPM
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify exits 0" $? 0
check_grep "bima verify: PCR 10 replays in sha1 and sha256" '^PCR 10: the log replays to the TPM value in sha1 sha256' "$work/verify.txt"
check_grep "bima verify: three segments, one per daemon run and one for the unload" ' entries in 3 segment\(s\): verified' "$work/verify.txt"
sed 's/^/    verify| /' "$work/verify.txt"

# (d) evmctl, with the TPM's PCRs given per bank
cat "$logs"/epoch-*/segment-*.bin >"$work/list.bin"
"$top/tools/evmctl-verify.sh" "$work/list.bin" >"$work/evmctl.txt" 2>&1
check_eq "evmctl ima_measurement exits 0" $? 0
check_grep "evmctl matched every TPM bank" 'Matched per TPM bank calculated digest' "$work/evmctl.txt"
sed 's/^/    evmctl| /' "$work/evmctl.txt"

# (e) one byte flipped in a copy: verify fails and names the entry
cp -r "$logs" "$work/copy"
seg=$(ls "$work"/copy/epoch-*/segment-000001.bin)
off=$(grep -obUa 'echo-b' "$seg" | head -1 | cut -d: -f1)
printf 'X' | dd of="$seg" bs=1 seek="$off" conv=notrunc status=none
"$bima" verify --log-dir "$work/copy" --tcti "$tcti" >"$work/verify2.txt" 2>&1
check_eq "bima verify of the tampered copy exits 1" $? 1
check_grep "the failure names the tampered entry" '^FAIL: segment 1, entry [0-9]+: template hash does not match the template data \(.*Xcho-b\)' "$work/verify2.txt"
sed 's/^/    verify| /' "$work/verify2.txt"
cat "$work"/copy/epoch-*/segment-*.bin >"$work/bad.bin"
"$top/tools/evmctl-verify.sh" "$work/bad.bin" >"$work/evmctl2.txt" 2>&1
check_eq "evmctl rejects the tampered copy too (exit 1)" $? 1
check_grep "evmctl says no bank matched" 'Failed to match per TPM bank' "$work/evmctl2.txt"

sed 's/^/    bima| /' "$work/bima.out" | grep -v 'debug: #' | head -n 20
done_testing
