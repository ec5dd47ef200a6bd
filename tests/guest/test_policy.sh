#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the measurement policy. Started with --policy P1 (exec of files
# owned by uid 1000 only, no mmaps), bima logs an exec of a file owned by
# 1000 and not one owned by root, nor any MMAP_CHECK; P1 itself is logged
# as a bima_policy entry with its sha256sum. `bima policy load P2` (every
# exec) takes over in the running daemon, is logged before what it
# measures, and root's execs are logged from then on. A policy with a
# syntax error is refused with FILE:LINE: and leaves P2 in force; one with
# another pcr= is refused. P3 measures execs in one cgroup (cgroup=) but not
# of uid 1000's files on tmpfs (fsmagic=, fowner=). P4 takes gid=, egid=,
# fsname= and MMAP_CHECK_REQPROT to the kernel: an exec by gid 1000 on tmpfs
# is not measured, one with egid 1001 is; a mapping that asks for PROT_EXEC
# is measured as MMAP_CHECK_REQPROT, one made executable by
# READ_IMPLIES_EXEC only is not; an exec no BPRM_CHECK rule measures is
# evaluated again as CREDS_CHECK. The log verifies against the TPM.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/policy-test
logs=$work/log
mkdir -p "$work/bin"
for x in a b c d e f g h i j k; do unique_copy /bin/true "$work/bin/true-$x"; done
chmod +x "$work/bin/"*
chown 1000 "$work/bin/true-a"
printf '%s\n' 'dont_measure func=MMAP_CHECK' 'measure func=BPRM_CHECK fowner=1000' >"$work/p1.policy"
printf '%s\n' 'measure func=BPRM_CHECK' >"$work/p2.policy"
printf '%s\n' 'measure func=NOPE' >"$work/bad.policy"
printf '%s\n' 'measure func=BPRM_CHECK pcr=11' >"$work/pcr11.policy"

# 1. A fresh load with --policy P1.
start_bima "$work/bima1.out" -v --policy "$work/p1.policy" --log-dir "$logs" --tcti "$tcti" || exit 1
"$work/bin/true-a"
check_eq "true-a (owned by uid 1000) runs" $? 0
"$work/bin/true-b"
check_eq "true-b (owned by root) runs" $? 0
sleep 1
stop_bima
"$bima" log --log-dir "$logs" >"$work/log1.txt"
check_grep "P1: true-a (fowner=1000) is logged with its sha256sum" \
	"^10 [0-9a-f]{40} ima-ng sha256:$(sha256 "$work/bin/true-a") $(ere "$work/bin/true-a")\$" "$work/log1.txt"
check "P1: true-b (owned by root) is not logged" \
	test "$(grep -c "sha256:$(sha256 "$work/bin/true-b") " "$work/log1.txt")" -eq 0
check_grep "P1 is logged as bima_policy with its sha256sum" \
	"^10 [0-9a-f]{40} ima-ng sha256:$(sha256 "$work/p1.policy") bima_policy\$" "$work/log1.txt"
check_grep "-v prints the exec of true-a as BPRM_CHECK" \
	"debug: #[0-9]+ BPRM_CHECK .* sha256:$(sha256 "$work/bin/true-a") $(ere "$work/bin/true-a")\$" "$work/bima1.out"
check "P1 (dont_measure func=MMAP_CHECK): no MMAP_CHECK in the -v output" \
	test "$(grep -c 'debug: #[0-9]* MMAP_CHECK ' "$work/bima1.out")" -eq 0

# 2. The next daemon adopts the pins (P1 stays); P2 is loaded while it runs.
start_bima "$work/bima2.out" -v --log-dir "$logs" --tcti "$tcti" || exit 1
"$bima" policy load "$work/p2.policy" >"$work/load2.out" 2>&1
check_eq "bima policy load P2 exits 0" $? 0
check_grep "it says P2 is now in force" 'is now in force' "$work/load2.out"
"$work/bin/true-c"

# 3. A policy with a syntax error is refused; P2 stays in force.
"$bima" policy load "$work/bad.policy" >"$work/load3.out" 2>"$work/load3.err"
check_eq "bima policy load of a bad policy exits 1" $? 1
check_grep "the error names bad.policy:1:" 'bad\.policy:1:[0-9]+' "$work/load3.err"
"$work/bin/true-d"

# 4. A policy with pcr= other than the daemon's PCR 10 is refused.
"$bima" policy load "$work/pcr11.policy" >"$work/load4.out" 2>"$work/load4.err"
status=$?
check "bima policy load of a pcr=11 policy exits non-zero (status $status)" test "$status" -ne 0
check_grep "the refusal mentions pcr" 'pcr' "$work/load4.err"

# 5. cgroup= and fsmagic= are evaluated in the kernel: P3 measures execs in
# the cgroup /bima-test only, and not those of uid 1000's files on tmpfs.
mountpoint -q /sys/fs/cgroup || mount -t cgroup2 cgroup2 /sys/fs/cgroup
mkdir -p /sys/fs/cgroup/bima-test
printf '%s\n' 'dont_measure func=BPRM_CHECK fsmagic=0x1021994 fowner=1000' \
	'measure func=BPRM_CHECK cgroup=/bima-test' >"$work/p3.policy"
"$bima" policy load "$work/p3.policy" >"$work/load5.out" 2>&1
check_eq "bima policy load P3 (cgroup=, fsmagic=) exits 0" $? 0
in_cgroup() { sh -c 'echo $$ >/sys/fs/cgroup/bima-test/cgroup.procs && exec "$0"' "$1"; }
chown 1000 "$work/bin/true-g"
in_cgroup "$work/bin/true-e"
check_eq "true-e runs in the cgroup bima-test" $? 0
"$work/bin/true-f"
in_cgroup "$work/bin/true-g"

# 6. gid=, egid=, fsname= and MMAP_CHECK_REQPROT, in the kernel too.
printf '%s\n' 'dont_measure func=BPRM_CHECK fsname=tmpfs gid=1000' 'measure func=BPRM_CHECK egid>999' \
	'measure func=MMAP_CHECK_REQPROT fsname=tmpfs fowner=1000' 'measure func=CREDS_CHECK fowner=1002' \
	>"$work/p4.policy"
"$bima" policy load "$work/p4.policy" >"$work/load6.out" 2>&1
check_eq "bima policy load P4 (gid=, egid=, fsname=, MMAP_CHECK_REQPROT) exits 0" $? 0
check "$work is on tmpfs, for fsname=tmpfs" test "$(stat -f -c %T "$work")" = tmpfs
setpriv --regid=1000 --clear-groups "$work/bin/true-h"
check_eq "true-h runs with gid 1000" $? 0
setpriv --egid=1001 --clear-groups "$work/bin/true-i"
check_eq "true-i runs with egid 1001" $? 0
# uid 1000's, so that the execs above, which map their own files, are not measured by it.
for m in m-1 m-2; do head -c 4096 /dev/urandom >"$work/$m" && chown 1000 "$work/$m"; done
map() { python3 -c 'import mmap, sys; f = open(sys.argv[1], "rb"); mmap.mmap(f.fileno(), 0, prot=int(sys.argv[2]))' "$@"; }
map "$work/m-1" $((1 | 4)) # PROT_READ | PROT_EXEC
check_eq "m-1 is mapped with PROT_EXEC asked for" $? 0
setarch "$(uname -m)" --read-implies-exec python3 -c 'import mmap, sys; f = open(sys.argv[1], "rb"); mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)' "$work/m-2"
check_eq "m-2 is mapped PROT_READ, made executable by READ_IMPLIES_EXEC" $? 0
chown 1002 "$work/bin/true-j" && chown 1003 "$work/bin/true-k"
"$work/bin/true-j"
check_eq "true-j, uid 1002's, runs" $? 0
"$work/bin/true-k"
check_eq "true-k, uid 1003's, runs" $? 0
sleep 1
stop_bima

"$bima" log --log-dir "$logs" >"$work/log.txt"
line_of() { grep -nE -- "$1" "$work/log.txt" | head -n 1 | cut -d: -f1; }
p2_line=$(line_of " ima-ng sha256:$(sha256 "$work/p2.policy") bima_policy\$")
c_line=$(line_of " ima-ng sha256:$(sha256 "$work/bin/true-c") $(ere "$work/bin/true-c")\$")
check "P2 is logged as bima_policy with its sha256sum (line ${p2_line:-none})" test -n "$p2_line"
check "P2: true-c (owned by root) is logged (line ${c_line:-none})" test -n "$c_line"
check "the P2 entry comes before true-c's" test "${p2_line:-999999}" -lt "${c_line:-0}"
check_grep "after the bad policy, true-d is still logged (P2 in force)" \
	"^10 [0-9a-f]{40} ima-ng sha256:$(sha256 "$work/bin/true-d") $(ere "$work/bin/true-d")\$" "$work/log.txt"
check "the refused policies are not logged" test "$(grep -cE \
	"sha256:($(sha256 "$work/bad.policy")|$(sha256 "$work/pcr11.policy")) " "$work/log.txt")" -eq 0

check_grep "P3: true-e, run in the cgroup, is logged" \
	" ima-ng sha256:$(sha256 "$work/bin/true-e") $(ere "$work/bin/true-e")\$" "$work/log.txt"
check "P3: true-f, run outside it, is not" \
	test "$(grep -c "sha256:$(sha256 "$work/bin/true-f") " "$work/log.txt")" -eq 0
check "P3: true-g, uid 1000's on tmpfs, run in it, is not (fsmagic=, fowner=)" \
	test "$(grep -c "sha256:$(sha256 "$work/bin/true-g") " "$work/log.txt")" -eq 0

check "P4: true-h, run by gid 1000 from tmpfs, is not logged (gid=, fsname=)" \
	test "$(grep -c "sha256:$(sha256 "$work/bin/true-h") " "$work/log.txt")" -eq 0
check_grep "P4: true-i, run with egid 1001, is logged (egid>999)" \
	" ima-ng sha256:$(sha256 "$work/bin/true-i") $(ere "$work/bin/true-i")\$" "$work/log.txt"
check_grep "P4: m-1, mapped asking for PROT_EXEC, is logged" \
	" ima-ng sha256:$(sha256 "$work/m-1") $(ere "$work/m-1")\$" "$work/log.txt"
check_grep "as MMAP_CHECK_REQPROT" \
	"debug: #[0-9]+ MMAP_CHECK_REQPROT .* sha256:$(sha256 "$work/m-1") $(ere "$work/m-1")\$" "$work/bima2.out"
check "P4: m-2, made executable by READ_IMPLIES_EXEC only, is not" \
	test "$(grep -c "sha256:$(sha256 "$work/m-2") " "$work/log.txt")" -eq 0
check_grep "P4: true-j, which no BPRM_CHECK rule measures, is logged as CREDS_CHECK (fowner=1002)" \
	"debug: #[0-9]+ CREDS_CHECK .* sha256:$(sha256 "$work/bin/true-j") $(ere "$work/bin/true-j")\$" "$work/bima2.out"
check "P4: true-k, 1003's, is not" \
	test "$(grep -c "sha256:$(sha256 "$work/bin/true-k") " "$work/log.txt")" -eq 0

# 7. The log verifies against the TPM.
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
sed 's/^/    verify| /' "$work/verify.txt"
sed 's/^/    load| /' "$work/load2.out" "$work/load3.err" "$work/load4.err" "$work/load6.out"
grep -hv 'debug: #' "$work/bima1.out" "$work/bima2.out" | sed 's/^/    bima| /'
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
done_testing
