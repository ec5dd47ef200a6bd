#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the re-measurement cache keeps no writer's change. On minix (no
# i_version, times in whole seconds, a filesystem the cache holds), the
# state bima compares cannot show a rewrite of the same size within the
# same second. Each round writes content A into a big file, then maps it
# executable (MMAP_CHECK: hashed), while a child rewrites it with content
# B, same size, and closes it before that hashing ends; then maps it again.
# B's digest must be in the log: a measurement that a writer's close
# overtook must not leave a cache entry for content it never hashed. The
# rounds whose state did not change are counted; some must be among them.
# Then a writer held open writes a small file four times, the same size
# within a second, and it is mapped after each write: each content must be
# in the log, as no entry is kept while a writer has the file open. Then
# the big file, unchanged, is mapped three times and hashed once.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/cache-race
mnt=$work/mnt
mkdir -p "$mnt"

command -v mkfs.minix >/dev/null || skip "no mkfs.minix (util-linux)"
load_module loop || skip "the guest kernel has no loop module"
load_module minix || skip "the guest kernel has no minix module"
dd if=/dev/zero of="$work/minix.img" bs=1M count=48 status=none
mkfs.minix -3 "$work/minix.img" >/dev/null
mount -t minix -o loop "$work/minix.img" "$mnt"
check_eq "a minix filesystem is mounted" $? 0

# MINIX3_SUPER_MAGIC: only this filesystem's mappings are measured.
echo 'measure func=MMAP_CHECK fsmagic=0x4d5a' >"$work/policy"
start_bima "$work/bima.out" -v --policy "$work/policy" --log-dir "$work/log" --tcti "$tcti" || exit 1

# Prints "round N same=0|1 SHA256-OF-B" for each round, after "hash S"
# (the seconds one measurement takes) and "delay S" (the child's wait).
python3 - "$mnt/big" >"$work/rounds.txt" 2>"$work/rounds.err" <<'EOF'
import hashlib, mmap, os, sys, time

path = sys.argv[1]
size = 8 << 20
rounds, limit = 24, 150.0
start = time.monotonic()

def rewrite(tag):
    fd = os.open(path, os.O_WRONLY)  # same size: no O_TRUNC
    os.pwrite(fd, tag.ljust(64, b"."), 0)
    os.close(fd)

def measure():  # mapped executable: MMAP_CHECK hashes it unless the cache has it
    t = time.monotonic()
    fd = os.open(path, os.O_RDONLY)
    m = mmap.mmap(fd, size, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_EXEC)
    m.close()
    os.close(fd)
    return time.monotonic() - t

def state():
    st = os.stat(path)
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns)

with open(path, "wb") as f:
    f.write(bytes(range(256)) * (size // 256))
times = []
for i in range(3):
    rewrite(b"calibrate %d %d" % (os.getpid(), i))
    times.append(measure())
delay = min(times) / 4
print("hash %.3f" % min(times))
print("delay %.3f" % delay)
for i in range(rounds):
    if time.monotonic() - start > limit:
        break
    frac = time.time() % 1  # start early in a second: A and B share theirs
    if frac > 0.2:
        time.sleep(1.01 - frac)
    rewrite(b"A %d %d" % (os.getpid(), i))
    a = state()
    pid = os.fork()
    if pid == 0:
        time.sleep(delay)
        rewrite(b"B %d %d" % (os.getpid(), i))  # and closes, while the parent hashes
        os._exit(0)
    measure()
    os.waitpid(pid, 0)
    b = state()
    measure()  # B, unless the cache wrongly has it
    with open(path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    print("round %d same=%d %s" % (i, a == b, digest), flush=True)
# A writer that stays open: while it is, each mapping is hashed again, so
# what it writes is seen even where the state does not show it.
held = os.path.join(os.path.dirname(path), "held")
with open(held, "wb") as f:
    f.write(b"." * 4096)
frac = time.time() % 1  # early in a second: the writes share theirs
if frac > 0.2:
    time.sleep(1.01 - frac)
w = os.open(held, os.O_WRONLY)
last = None
for i in range(4):
    os.pwrite(w, b"held %d %d" % (os.getpid(), i), 0)
    st = os.stat(held)
    now = (st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    fd = os.open(held, os.O_RDONLY)
    mmap.mmap(fd, 4096, mmap.MAP_PRIVATE, mmap.PROT_READ | mmap.PROT_EXEC).close()
    os.close(fd)
    with open(held, "rb") as f:
        print("held %d same=%d %s" % (i, now == last, hashlib.sha256(f.read()).hexdigest()))
    last = now
os.close(w)
rewrite(b"final %d" % os.getpid())  # then unchanged: hashed once for three
for i in range(3):
    measure()
with open(path, "rb") as f:
    print("final %s" % hashlib.sha256(f.read()).hexdigest())
EOF
check_eq "the race driver exits 0" $? 0
sleep 1
stop_bima
umount "$mnt"

"$bima" log --log-dir "$work/log" >"$work/log.txt"
rounds=0 same=0 missing=0 missing_same=0
while read -r _ n s digest; do
	rounds=$((rounds + 1))
	[ "$s" = same=1 ] && same=$((same + 1))
	if ! grep -qE " ima-ng sha256:$digest $(ere "$mnt/big")\$" "$work/log.txt"; then
		missing=$((missing + 1))
		[ "$s" = same=1 ] && missing_same=$((missing_same + 1))
		[ "$missing" -le 5 ] &&
			echo "    round $n ($s): the last content, sha256:$digest, is not in the log"
	fi
done < <(grep '^round ' "$work/rounds.txt")
echo "    $(grep -E '^(hash|delay) ' "$work/rounds.txt" | tr '\n' ' ')"
echo "    rounds: $rounds; the state unchanged by the rewrite: $same;" \
	"the last content not logged: $missing ($missing_same of them with the state unchanged)"
check "rounds ran" test "$rounds" -ge 8
check "in some rounds ($same) the rewrite left the state bima compares unchanged" test "$same" -ge 3
check_eq "every round's last content is logged" "$missing" 0
check_eq "the driver wrote no errors" "$(cat "$work/rounds.err")" ""
held=0 held_same=0 held_missing=0
while read -r _ n s digest; do
	held=$((held + 1))
	[ "$s" = same=1 ] && held_same=$((held_same + 1))
	grep -qE " ima-ng sha256:$digest $(ere "$mnt/held")\$" "$work/log.txt" ||
		held_missing=$((held_missing + 1))
done < <(grep '^held ' "$work/rounds.txt")
echo "    a writer held open: $held writes, $held_same of them leaving the state unchanged"
check "a writer held open wrote, and some writes ($held_same) left the state unchanged" \
	test "$held" -eq 4 -a "$held_same" -ge 1
check_eq "each content it wrote, mapped while it is open, is logged" "$held_missing" 0
final=$(sed -n 's/^final //p' "$work/rounds.txt")
check_eq "the cache still holds an unchanged file: mapped three times, hashed once" \
	"$(grep -cE "debug: #[0-9]+ MMAP_CHECK .* sha256:$final $(ere "$mnt/big")\$" "$work/bima.out")" 1
"$bima" verify --log-dir "$work/log" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
grep -E 'hits|hashed|repeat|stopped' "$work/bima.out" | sed 's/^/    bima| /'
"$bima" stop --unload --log-dir "$work/log" --tcti "$tcti" >/dev/null 2>&1
done_testing
