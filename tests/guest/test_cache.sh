#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the re-measurement cache, FILE_CHECK and IMA's violations.
# A program run three times is hashed once; changed, it is hashed again,
# once for two runs; changed back, it is hashed again but not logged twice
# (the same template digest). true on the 9p root, whose changes the
# kernel cannot see, is hashed at every exec and logged once. Where the
# kernel has file_post_open (6.9 and later), the same holds for a file root
# reads (FILE_CHECK), and reading a file open for writing logs a ToMToU
# violation, opening for writing a file open for reading and measured logs
# open_writers; bima verify counts the violations. Older kernels say that
# opens are not measured. On overlayfs (container images), the violations
# are logged all the same, on both kernels: a library mapped executable and
# then opened for writing by another process while it is still open is an
# open_writers violation, and one mapped while open for writing a ToMToU
# violation.
# Programs on overlayfs are cached through the real inode beneath: run
# again unchanged, they are not hashed again, and each change is: a write
# through the overlay (a copy-up), to the lower file, to the upper file
# after a copy-up (both of the same size), the lower file replaced by a
# rename, and the same file through a second overlay mount, logged once for
# it too. A file opened before its copy-up, which still holds the lower
# file, is hashed at every mapping.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/cache-test # tmpfs: its times and size tell a change
mkdir -p "$work"

# An overlay on tmpfs, as a container's root (OVERLAYFS_SUPER_MAGIC below).
ovl=$work/ovl
mkdir -p "$ovl/lower" "$ovl/upper" "$ovl/work" "$ovl/merged"
echo "library $$" >"$ovl/lower/lib.so"
echo "other $$" >"$ovl/lower/other.so"
load_module overlay &&
	mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper,workdir=$ovl/work" "$ovl/merged"
check_eq "an overlay is mounted" $? 0
lib=$ovl/merged/lib.so other=$ovl/merged/other.so
# Programs for the cache on overlayfs, and a second overlay over the same lower layer.
for p in a b c e g; do unique_copy /bin/true "$ovl/lower/$p"; done
mkdir -p "$ovl/upper2" "$ovl/work2" "$ovl/merged2"
mount -t overlay overlay -o "lowerdir=$ovl/lower,upperdir=$ovl/upper2,workdir=$ovl/work2" "$ovl/merged2"
check_eq "a second overlay over the same lower layer is mounted" $? 0
m=$ovl/merged m2=$ovl/merged2
# poke FILE CHAR: overwrite a byte of unique_copy's trailer in place: a change of the same size
poke() { printf '%s' "$2" | dd of="$1" bs=1 seek=$(($(stat -c %s "$1") - 2)) conv=notrunc status=none; }

cat >"$work/policy" <<'EOF2'
measure func=MMAP_CHECK fsmagic=0x794c7630
dont_measure func=MMAP_CHECK
measure func=BPRM_CHECK
measure func=FILE_CHECK mask=^MAY_READ uid=0
EOF2
prog=$work/prog
unique_copy /bin/true "$work/prog.v1"
cp "$work/prog.v1" "$prog"
f=$work/data
echo "version 1 $$" >"$f"
d1=$(sha256 "$f")
true9p=$(readlink -f /bin/true) # on the 9p root

start_bima "$work/bima.out" -v --policy "$work/policy" --log-dir "$work/log" --tcti "$tcti" || exit 1
for i in 1 2 3; do "$prog"; done
echo changed >>"$prog"
p2=$(sha256 "$prog") # FILE_CHECK hashes it here, where opens are measured
for i in 1 2; do "$prog"; done
cp "$work/prog.v1" "$prog"
"$prog"
for i in 1 2 3; do "$true9p"; done

if grep -qE 'measuring .*opens \(FILE_CHECK\)' "$work/bima.out"; then
	opens=1
	for i in 1 2 3 4 5; do cat "$f" >/dev/null; done
	echo "version 2" >>"$f"
	d2=$(sha256 "$f") # sha256sum's own open is measured, before the reads below
	for i in 1 2 3; do cat "$f" >/dev/null; done
	echo "version 1 $$" >"$f"
	cat "$f" >/dev/null
	exec 3>>"$work/written"
	cat "$work/written" >/dev/null # ToMToU: read while fd 3 writes
	exec 3>&-
	echo read >"$work/read"
	exec 4<"$work/read"      # open for reading, measured
	echo more >>"$work/read" # open_writers
	exec 4<&-
else
	opens=0
fi
# open_writers on overlayfs: mapped executable (measured) and held open, then
# opened for writing by another process, which maps it too (the hook 6.1 has).
python3 - "$lib" <<'EOF2'
import mmap, os, sys
path, prot = sys.argv[1], mmap.PROT_READ | mmap.PROT_EXEC
fd = os.open(path, os.O_RDONLY)
m = mmap.mmap(fd, 0, mmap.MAP_PRIVATE, prot)
pid = os.fork()
if pid == 0:
    w = os.open(path, os.O_RDWR)
    mmap.mmap(w, 0, mmap.MAP_PRIVATE, prot).close()
    os.pwrite(w, b"rewritten", 0)
    os.close(w)
    os._exit(0)
_, status = os.waitpid(pid, 0)
m.close()
os.close(fd)
sys.exit(status != 0)
EOF2
check_eq "a library on overlayfs is rewritten while mapped" $? 0

# The cache on overlayfs. Digests are taken from the layers' own paths: a
# read of the overlay file would be measured, and cache it.
da1=$(sha256 "$ovl/lower/a")
for i in 1 2 3; do "$m/a"; done   # hashed once
poke "$m/a" A                     # through the overlay: copied up
da2=$(sha256 "$ovl/upper/a")
for i in 1 2; do "$m/a"; done
poke "$ovl/upper/a" B             # the upper file, straight
da3=$(sha256 "$ovl/upper/a")
for i in 1 2; do "$m/a"; done
db1=$(sha256 "$ovl/lower/b")
for i in 1 2; do "$m/b"; done
poke "$ovl/lower/b" C             # the lower file, straight
db2=$(sha256 "$ovl/lower/b")
for i in 1 2; do "$m/b"; done
dc1=$(sha256 "$ovl/lower/c")
for i in 1 2; do "$m/c"; done
unique_copy /bin/true "$ovl/lower/c.new"
dc2=$(sha256 "$ovl/lower/c.new")
mv "$ovl/lower/c.new" "$ovl/lower/c" # replaced by a rename
# overlayfs keeps the replaced lower file while its dentry lives (and runs
# it, measured or not); once the dentry goes, it finds the new one.
echo 2 >/proc/sys/vm/drop_caches
for i in 1 2; do "$m/c"; done
de=$(sha256 "$ovl/lower/e")
for i in 1 2; do "$m/e"; done
for i in 1 2 3; do "$m2/e"; done  # the same lower file, through another overlay
dg1=$(sha256 "$ovl/lower/g")
python3 - "$m/g" <<'EOF2'
import mmap, os, sys
path, prot = sys.argv[1], mmap.PROT_READ | mmap.PROT_EXEC
def mapx(fd):
    mmap.mmap(fd, 0, mmap.MAP_PRIVATE, prot).close()
fd = os.open(path, os.O_RDONLY) # holds the lower file
mapx(fd)
mapx(fd)
w = os.open(path, os.O_WRONLY)  # copied up
os.pwrite(w, b"G", os.fstat(w).st_size - 2)
os.close(w)
mapx(fd)
mapx(fd)
os.close(fd)
EOF2
check_eq "a program on overlayfs is mapped through a descriptor older than its copy-up" $? 0
dg2=$(sha256 "$ovl/upper/g")
# ToMToU on overlayfs: mapped executable while open for writing.
exec 5>>"$other"
python3 -c 'import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
mmap.mmap(fd, 0, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_EXEC).close()' "$other"
exec 5>&-
sleep 1
stop_bima

hashed() { grep -cE "debug: #[0-9]+ $1 .* sha256:$2 $(ere "$3")\$" "$work/bima.out"; }
"$bima" log --log-dir "$work/log" >"$work/log.txt"
logged() { grep -cE " ima-ng sha256:$1 $(ere "$2")\$" "$work/log.txt"; }
p1=$(sha256 "$work/prog.v1")
check_eq "three runs, then one after it changed back: hashed twice" "$(hashed BPRM_CHECK "$p1" "$prog")" 2
check_eq "  and logged once (the same entry)" "$(logged "$p1" "$prog")" 1
check_eq "changed: hashed again, once for two runs" "$(hashed '[A-Z]+_CHECK' "$p2" "$prog")" 1
check_eq "  and logged" "$(logged "$p2" "$prog")" 1
check_eq "$true9p on 9p run three times: hashed three times" \
	"$(hashed BPRM_CHECK "$(sha256 "$true9p")" "$true9p")" 3
check_eq "  and logged once" "$(logged "$(sha256 "$true9p")" "$true9p")" 1
check_grep "bima says how many repeats it did not log" 'repeated an entry the log has' "$work/bima.out"
if [ "$opens" = 1 ]; then
	check_eq "five reads, then one after it changed back: hashed twice" "$(hashed FILE_CHECK "$d1" "$f")" 2
	check_eq "  and logged once" "$(logged "$d1" "$f")" 1
	check_eq "changed: hashed again, once for four reads" "$(hashed FILE_CHECK "$d2" "$f")" 1
	check_eq "  and logged" "$(logged "$d2" "$f")" 1
	check_grep "bima reports the ToMToU violation" "ToMToU violation: FILE_CHECK $(ere "$work/written")" "$work/bima.out"
	check_grep "and the open_writers violation" "open_writers violation: FILE_CHECK $(ere "$work/read")" "$work/bima.out"
	check_grep "the ToMToU entry has a zero digest" \
		"^10 0{40} ima-ng sha256:0{64} $(ere "$work/written")\$" "$work/log.txt"
	check_grep "and so has the open_writers entry" \
		"^10 0{40} ima-ng sha256:0{64} $(ere "$work/read")\$" "$work/log.txt"
else
	check_grep "without file_post_open, bima says opens are not measured" \
		'no file_post_open LSM hook for BPF: opens \(FILE_CHECK\) are not measured' "$work/bima.out"
fi
check_eq "the library on overlayfs is logged as mapped" \
	"$(logged "$(sha256 "$ovl/lower/lib.so")" "$lib")" 1
check_grep "bima reports the open_writers violation on overlayfs" \
	"open_writers violation: [A-Z_]+ $(ere "$lib")" "$work/bima.out"
check_grep "  and logs it, with a zero digest" "^10 0{40} ima-ng sha256:0{64} $(ere "$lib")\$" "$work/log.txt"
check_grep "bima reports the ToMToU violation on overlayfs" \
	"ToMToU violation: MMAP_CHECK $(ere "$other")" "$work/bima.out"
check_grep "  and logs it, with a zero digest" "^10 0{40} ima-ng sha256:0{64} $(ere "$other")\$" "$work/log.txt"
anydigest='[0-9a-f]{64}'
check_eq "a program on overlayfs run three times: hashed once" "$(hashed BPRM_CHECK "$da1" "$m/a")" 1
check_eq "  and logged once" "$(logged "$da1" "$m/a")" 1
check_eq "written through the overlay (copied up): hashed again, once for two runs" \
	"$(hashed BPRM_CHECK "$da2" "$m/a")" 1
check_eq "  and logged" "$(logged "$da2" "$m/a")" 1
check_eq "its upper file written straight, the same size: hashed again, once for two runs" \
	"$(hashed BPRM_CHECK "$da3" "$m/a")" 1
check_eq "  and logged" "$(logged "$da3" "$m/a")" 1
check_eq "  and hashed for nothing else: three times for seven runs" \
	"$(hashed BPRM_CHECK "$anydigest" "$m/a")" 3
check_eq "a lower file, run twice: hashed once" "$(hashed BPRM_CHECK "$db1" "$m/b")" 1
check_eq "written straight, the same size: hashed again, once for two runs" \
	"$(hashed BPRM_CHECK "$db2" "$m/b")" 1
check_eq "  and logged" "$(logged "$db2" "$m/b")" 1
check_eq "another lower file, run twice: hashed once" "$(hashed BPRM_CHECK "$dc1" "$m/c")" 1
check_eq "replaced by a rename: hashed again, once for two runs" "$(hashed BPRM_CHECK "$dc2" "$m/c")" 1
check_eq "  and logged" "$(logged "$dc2" "$m/c")" 1
check_eq "a third lower file, run twice: hashed once" "$(hashed BPRM_CHECK "$de" "$m/e")" 1
check_eq "  and run three times through a second overlay: hashed once more" \
	"$(hashed BPRM_CHECK "$de" "$m2/e")" 1
check_eq "  and logged once for each overlay" "$(logged "$de" "$m/e") $(logged "$de" "$m2/e")" "1 1"
check_eq "a program on overlayfs opened and mapped twice: hashed once" \
	"$(hashed '[A-Z]+_CHECK' "$dg1" "$m/g")" 1
check_eq "  then mapped twice through a descriptor older than its copy-up: hashed each time" \
	"$(hashed MMAP_CHECK "$dg2" "$m/g")" 2
check_eq "  and logged" "$(logged "$dg2" "$m/g")" 1
"$bima" verify --log-dir "$work/log" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
# The test's own greps of bima.out while bima writes it are ToMToU violations too.
violations=$(grep -c ' violation: ' "$work/bima.out")
if [ "$violations" -gt 0 ]; then
	check_grep "bima verify counts the $violations violations bima reported" \
		"^note: $violations violation entr" "$work/verify.txt"
fi
sed 's/^/    verify| /' "$work/verify.txt"
grep -E "$(ere "$work")|$(ere "$true9p")|stopped|hook" "$work/bima.out" | sed 's/^/    bima| /'
"$bima" stop --unload --log-dir "$work/log" --tcti "$tcti" >/dev/null 2>&1
umount "$ovl/merged" "$ovl/merged2"
done_testing
