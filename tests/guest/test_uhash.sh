#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the hash fallback. A file mapped executable through a descriptor
# opened with O_DIRECT is one IMA will not read: bpf_ima_file_hash() fails
# with EOPNOTSUPP, and the daemon hashes the file itself, after checking it
# is the inode the kernel saw. The entry has the file's sha256sum and
# follows a bima_userspace_hash mark; bima verify notes it, and fails with
# --reject-userspace-hashes, naming the mark. A file replaced at its path
# before the daemon reads the record is not hashed, and says why.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=$VMTEST_RESULTS/uhash-test # 9p, writable, and it takes O_DIRECT on 6.1 as on 6.12
logs=/tmp/uhash-test/log
rm -rf "$work" && mkdir -p "$work" /tmp/uhash-test
echo 'measure func=MMAP_CHECK mask=MAY_EXEC' >"$work/policy"
map_direct() {
	python3 -c 'import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECT)
mmap.mmap(fd, 0, prot=mmap.PROT_READ | mmap.PROT_EXEC)' "$1"
}
printf 'mapped with O_DIRECT %s\n' "$$" >"$work/direct"
printf 'replaced %s\n' "$$" >"$work/gone"
printf 'the replacement %s\n' "$$" >"$work/other"

start_bima "$work/bima1.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" || exit 1
map_direct "$work/direct"
check_eq "an O_DIRECT descriptor maps PROT_EXEC" $? 0
sleep 1
stop_bima
# The next record waits in the ring buffer while its file is replaced.
map_direct "$work/gone"
mv "$work/other" "$work/gone"
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" || exit 1
sleep 1
stop_bima

"$bima" log --log-dir "$logs" >"$work/log.txt"
check_grep "bima says it hashes in userspace what the kernel cannot" \
	'are hashed here, in userspace, and marked so in the log' "$work/bima1.out"
entry=$(grep -nE " ima-ng sha256:$(sha256 "$work/direct") $(ere "$work/direct")\$" "$work/log.txt" | cut -d: -f1)
check "the O_DIRECT-mapped file is logged with its sha256sum (line ${entry:-none})" test -n "$entry"
mark=$(sed -n "$((${entry:-1} - 1))p" "$work/log.txt")
check "a bima_userspace_hash mark comes right before it" grep -q ' ima-buf sha256:[0-9a-f]* bima_userspace_hash ' <<<"$mark"
text=$(python3 -c 'import sys; print(bytes.fromhex(sys.argv[1]).decode())' "$(awk '{print $NF}' <<<"$mark")")
check "the mark names the record: $text" grep -qE '^seq=[0-9]+ hook=MMAP_CHECK load=' <<<"$text"
check_grep "a file replaced before the daemon reads its record is not hashed, and why" \
	"MMAP_CHECK $(ere "$work/gone"): not hashed \\(kernel: Operation not supported; userspace: the path now names another file\\)" \
	"$work/bima2.out"
check_grep "it is logged with a zero digest" " ima-ng sha256:0{64} $(ere "$work/gone")\$" "$work/log.txt"

"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
check_grep "and notes the userspace hash" '^note: 1 file\(s\) hashed in userspace' "$work/verify.txt"
"$bima" verify --reject-userspace-hashes --log-dir "$logs" --tcti "$tcti" >"$work/reject.txt" 2>&1
check_eq "bima verify --reject-userspace-hashes exits 1" $? 1
check_grep "naming the mark" '^FAIL: segment 1, entry [0-9]+: the next entry was hashed in userspace' "$work/reject.txt"
sed 's/^/    verify| /' "$work/verify.txt" "$work/reject.txt"
grep -hE 'userspace|not hashed' "$work"/bima*.out | sed 's/^/    bima| /'
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
rm -rf "$work"
done_testing
