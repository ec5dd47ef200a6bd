#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: self-protection. A daemon started with the defaults protects its
# log and its BPF objects: a root process that is not the daemon gets EPERM
# appending to a segment (the closed one and the one being written),
# truncating one (O_TRUNC, truncate(2)), chmod, unlinking, renaming, hard
# linking, creating files and directories in the log, rm -rf of the epoch
# directory, unlinking, renaming and adding pins, a second bima run (refused
# before it writes the log), a bpftool map update of bima_config and
# bima_stats, detaching a link, running bima_anchor_add (a forged anchor)
# pinning a map elsewhere and mapping the ring buffer shared and writable
# (a private mapping of it the kernel refuses). Each refusal leaves the
# file or object as it was (same sha256sum, same directory listing, same
# daemon pid in bima_config), and is counted, with who did it, in
# bima_stats and reported by the daemon. Reading stays open (bima log,
# bima verify, bpftool prog/map show and dump), and bima policy load still
# works. The daemon keeps logging, snapshots, compresses old segments
# (--retention compress) and the log verifies. SIGKILLed or stopped, the
# daemon no longer is one (bima_config names none), but the hooks keep the
# log, the pins and the ring buffer closed: appending, creating, unlinking
# a pin and a read-write fd of the ring buffer get EPERM, reading works;
# the next daemon adopts the pins, protects and logs. After `bima stop
# --unload` root removes the log.
# With --protect no, and by default over a log directory that holds a file
# that is not bima's, the same append succeeds. In every mode a dead daemon
# is no longer the daemon: with --protect no, a process that gets a
# SIGKILLed daemon's pid (ns_last_pid) is measured; a daemon in a PID
# namespace is known by its host pid. With no daemon, bima with a library
# of its own (LD_PRELOAD) may not put a policy in force, plain bima may;
# a bima upgraded while its daemon ran starts after it. A descriptor
# opened for writing before the daemon protected the log cannot ftruncate
# or map it shared and writable.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/protect-test
logs=$work/log
pins=/sys/fs/bpf/bima
mkdir -p "$work/bin" "$work/outside"
for x in a b c d; do unique_copy /usr/bin/true "$work/bin/true-$x"; done
chmod +x "$work/bin/"*

# try OP PATH [PATH2]: one system call as a root process that is not the
# daemon; prints "ok" or the errno's name
try() {
	python3 - "$@" <<'PY'
import errno, os, sys
op, a = sys.argv[1], sys.argv[2:]
try:
    if op == "append":
        fd = os.open(a[0], os.O_WRONLY | os.O_APPEND)
        os.write(fd, b"forged entry")
        os.close(fd)
    elif op == "truncate":  # truncate(2), by name
        os.truncate(a[0], 0)
    elif op == "open-trunc":
        os.close(os.open(a[0], os.O_WRONLY | os.O_TRUNC))
    elif op == "chmod":
        os.chmod(a[0], 0o666)
    elif op == "unlink":
        os.unlink(a[0])
    elif op == "rmdir":
        os.rmdir(a[0])
    elif op == "rename":
        os.rename(a[0], a[1])
    elif op == "link":
        os.link(a[0], a[1])
    elif op == "create":
        os.close(os.open(a[0], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    elif op == "mkdir":
        os.mkdir(a[0])
    elif op == "read":
        with open(a[0], "rb") as f:
            f.read()
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

# obj_get PIN rw|ro: BPF_OBJ_GET of a pin, read-write or read-only; prints "ok" or the errno's name
obj_get() {
	python3 - "$@" <<'PY'
import ctypes, errno, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
path = ctypes.create_string_buffer(sys.argv[1].encode())
attr = ctypes.create_string_buffer(128)
struct.pack_into("<QII", attr, 0, ctypes.addressof(path), 0, 0 if sys.argv[2] == "rw" else 1 << 3)
fd = libc.syscall(321, 7, attr, 128)  # SYS_bpf, BPF_OBJ_GET (x86-64)
print("ok" if fd >= 0 else errno.errorcode.get(ctypes.get_errno(), "?"))
PY
}

# map_mmap PIN shared|private: map the first page of a pinned map readable and
# writable through a read-write fd of it; prints "ok" or the errno's name
map_mmap() {
	python3 - "$@" <<'PY'
import ctypes, errno, mmap, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
path = ctypes.create_string_buffer(sys.argv[1].encode())
attr = ctypes.create_string_buffer(128)
struct.pack_into("<QII", attr, 0, ctypes.addressof(path), 0, 0)
fd = libc.syscall(321, 7, attr, 128)  # SYS_bpf, BPF_OBJ_GET (x86-64)
if fd < 0:
    print("obj_get " + errno.errorcode.get(ctypes.get_errno(), "?"))
    sys.exit()
flags = mmap.MAP_SHARED if sys.argv[2] == "shared" else mmap.MAP_PRIVATE
try:
    mmap.mmap(fd, mmap.PAGESIZE, flags, mmap.PROT_READ | mmap.PROT_WRITE)
    print("ok")
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e.errno)))
PY
}

# pinned_value MAP FIELD: a field of the single value of a pinned map, through its BTF
pinned_value() {
	bpftool -j map dump pinned "$pins/maps/$1" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["formatted"]["value"][sys.argv[1]])' "$2"
}

# zeros MAP: as many "0 " as the map's value has bytes
zeros() {
	local n
	n=$(bpftool -j map show pinned "$pins/maps/$1" | python3 -c 'import json, sys; print(json.load(sys.stdin)["bytes_value"])')
	printf '0 %.0s' $(seq "$n")
}

# listing: the log directory's names and modes, and the sizes of what the daemon no longer writes
listing() {
	(cd "$logs" && find . | sort | while read -r f; do
		case $f in
		"./${current#"$logs"/}" | */ascii_runtime_measurements) stat -c '%n %a' "$f" ;;
		*) stat -c '%n %a %s' "$f" ;;
		esac
	done)
}

# 1. A daemon with the defaults protects.
start_bima "$work/bima1.out" --log-dir "$logs" --tcti "$tcti" --retention compress || exit 1
check_grep "it says it protects the log and the pins" \
	"self-protection: while this daemon runs, no other process may change $(ere "$logs") or $pins" \
	"$work/bima1.out"
check_eq "bima_config names the daemon" "$(pinned_value bima_config daemon_tgid)" "$bima_pid"
"$work/bin/true-a"
"$bima" snapshot >"$work/snap1.out" 2>&1
check_eq "bima snapshot works under protection" $? 0
epoch=$(ls -d "$logs"/epoch-*)
closed=$epoch/segment-000001.bin.gz
current=$epoch/segment-000002.bin
check "with --retention compress the daemon compressed the closed segment" test -e "$closed"
check "and writes the next" test -e "$current"
sleep 1 # the snapshot's entries are written
cp "$current" "$work/current.before"
closed_sum=$(sha256 "$closed")
before=$(listing)
denied0=$(pinned_value bima_stats protect_denied)

# 2. Files: every change by another root process is refused.
check_eq "append to the segment being written: EPERM" "$(try append "$current")" EPERM
check_eq "append to a closed segment: EPERM" "$(try append "$closed")" EPERM
check_eq "open it with O_TRUNC: EPERM" "$(try open-trunc "$closed")" EPERM
check_eq "truncate(2) it by name: EPERM" "$(try truncate "$closed")" EPERM
check_eq "chmod it: EPERM" "$(try chmod "$closed")" EPERM
check_eq "unlink it: EPERM" "$(try unlink "$closed")" EPERM
check_eq "rename it within the epoch: EPERM" "$(try rename "$closed" "$epoch/moved")" EPERM
check_eq "rename it out of the log: EPERM" "$(try rename "$closed" "$work/outside/moved")" EPERM
check_eq "hard link it elsewhere: EPERM" "$(try link "$closed" "$work/outside/linked")" EPERM
echo forged >"$work/outside/forged"
check_eq "rename a file into the epoch: EPERM" "$(try rename "$work/outside/forged" "$epoch/segment-000099.bin")" EPERM
check_eq "create a file in the log directory: EPERM" "$(try create "$logs/new")" EPERM
check_eq "create a file in the epoch: EPERM" "$(try create "$epoch/segment-000099.bin")" EPERM
check_eq "mkdir in the log directory: EPERM" "$(try mkdir "$logs/epoch-9-9")" EPERM
check_eq "rmdir the (non-empty) epoch: EPERM" "$(try rmdir "$epoch")" EPERM
check_eq "rename the log directory: EPERM" "$(try rename "$logs" "$work/log-moved")" EPERM
rm -rf "$epoch" 2>"$work/rm.err"
check "rm -rf of the epoch directory fails" test $? -ne 0
check_grep "with EPERM" 'Operation not permitted' "$work/rm.err"
check_eq "reading a segment stays open" "$(try read "$current")" ok
# (--control none: past the control socket's own check, to the hooks')
"$bima" run --log-dir "$logs" --tcti "$tcti" --control none >"$work/second.out" 2>&1
check_eq "a second bima run is refused (1)" $? 1
check_grep "naming the daemon that protects" "bima \\(pid $bima_pid\\) runs, and protects its log" "$work/second.out"
check_eq "the log directory is as it was (names, modes, sizes)" "$(listing)" "$before"
check_eq "the closed segment is unchanged (sha256)" "$(sha256 "$closed")" "$closed_sum"
check "the segment being written still starts with what it held" \
	cmp -s -n "$(stat -c %s "$work/current.before")" "$work/current.before" "$current"
check "no file went out of the log" test ! -e "$work/outside/moved" -a ! -e "$work/outside/linked"

# 3. Pins.
check_eq "unlink a pinned link: EPERM" "$(try unlink "$pins/links/bima_bprm_check")" EPERM
check_eq "unlink a pinned map: EPERM" "$(try unlink "$pins/maps/bima_config")" EPERM
check_eq "rename a pinned program: EPERM" "$(try rename "$pins/progs/bima_bprm_check" "$pins/progs/x")" EPERM
check_eq "create a file in the pin directory: EPERM" "$(try create "$pins/maps/x")" EPERM
rm -rf "$pins" 2>/dev/null
check "rm -rf $pins fails: the link is still pinned" test -e "$pins/links/bima_bprm_check"

# 4. bpf(): writes to bima's maps, its programs and links are refused.
# shellcheck disable=SC2046 # one byte a word
bpftool map update pinned "$pins/maps/bima_config" key 0 0 0 0 value $(zeros bima_config) >"$work/update.txt" 2>&1
check "bpftool map update of bima_config fails" test $? -ne 0
check_grep "with EPERM" 'Operation not permitted' "$work/update.txt"
check_eq "bima_config still names the daemon" "$(pinned_value bima_config daemon_tgid)" "$bima_pid"
seq_before=$(pinned_value bima_stats next_seq)
# shellcheck disable=SC2046
bpftool map update name bima_stats key 0 0 0 0 value $(zeros bima_stats) >"$work/update2.txt" 2>&1
check "bpftool map update of bima_stats (by name, an fd by id) fails" test $? -ne 0
check_grep "with EPERM" 'Operation not permitted' "$work/update2.txt"
check "and its sequence number was not reset" test "$(pinned_value bima_stats next_seq)" -ge "$seq_before"
bpftool link detach pinned "$pins/links/bima_bprm_check" >"$work/detach.txt" 2>&1
check "bpftool link detach of the exec hook fails" test $? -ne 0
check_grep "with EPERM" 'Operation not permitted' "$work/detach.txt"
python3 -c 'import struct, sys; sys.stdout.buffer.write(struct.pack("<Q", 999) + bytes(352))' >"$work/forged.anchor"
bpftool prog run pinned "$pins/progs/bima_anchor_add" ctx_in "$work/forged.anchor" >"$work/run.txt" 2>&1
check "bpftool prog run of bima_anchor_add (a forged anchor) fails" test $? -ne 0
check_grep "with EPERM" 'Operation not permitted' "$work/run.txt"
bpftool map dump pinned "$pins/maps/bima_anchors" >"$work/anchors.txt" 2>&1
check "no anchor 999 was recorded" test "$(grep -c '"id": 999,' "$work/anchors.txt")" -eq 0
bpftool map pin name bima_config /sys/fs/bpf/stolen >"$work/pin.txt" 2>&1
check "bpftool map pin of bima_config elsewhere fails" test $? -ne 0 -a ! -e /sys/fs/bpf/stolen
check_grep "with EPERM" 'Operation not permitted' "$work/pin.txt"
sed 's/^/    bpftool| /' "$work/update.txt" "$work/detach.txt" "$work/run.txt" "$work/pin.txt"
# The ring buffer's consumer position (its first page), through a
# read-write fd, which a running daemon lets root have: mapped shared and
# writable, refused; mapped private, refused by the kernel itself (a BPF
# map is mapped shared only), which bima_protect_mmap leaves to it.
check_eq "a shared writable mapping of the ring buffer: EPERM" "$(map_mmap "$pins/maps/bima_events" shared)" EPERM
check_eq "a private writable one: EINVAL, the kernel's" "$(map_mmap "$pins/maps/bima_events" private)" EINVAL

# 5. Counted, with who did it; the daemon reports them.
denied1=$(pinned_value bima_stats protect_denied)
check "bima_stats counts the refusals ($denied0 -> $denied1)" test "$denied1" -ge $((denied0 + 25))
before=$(pinned_value bima_stats protect_denied)
try unlink "$epoch/anchor-1.bin" >/dev/null
check_eq "one refused unlink counts one" "$(pinned_value bima_stats protect_denied)" $((before + 1))
check_eq "naming its process" "$(pinned_value bima_stats protect_last_comm)" python3
check_eq "and the operation (BIMA_PROTECT_UNLINK)" "$(pinned_value bima_stats protect_last_op)" 5

# 6. Reading and inspection stay open; bima policy load works.
bpftool prog show >"$work/progs.txt" 2>&1
check_eq "bpftool prog show exits 0" $? 0
check_grep "and lists bima's programs" 'name bima_protect_bpf' "$work/progs.txt"
bpftool map show >"$work/maps.txt" 2>&1
check_eq "bpftool map show exits 0" $? 0
check_grep "and lists bima's maps (it asks for read-write fds)" 'name bima_config' "$work/maps.txt"
check_grep "the ring buffer too" 'ringbuf +name bima_events' "$work/maps.txt"
bpftool prog show pinned "$pins/progs/bima_bprm_check" >"$work/prog.txt" 2>&1
check_grep "bpftool prog show pinned works" 'name bima_bprm_check' "$work/prog.txt"
"$bima" policy default >"$work/default.policy"
"$bima" policy load "$work/default.policy" >"$work/load.out" 2>&1
check_eq "bima policy load works under protection (0)" $? 0

# 7. The daemon keeps working.
"$work/bin/true-b"
"$bima" snapshot >"$work/snap2.out" 2>&1
check_eq "a second snapshot is taken" $? 0
check "and the daemon compressed segment 2 in turn" test -e "$epoch/segment-000002.bin.gz"
"$bima" log --log-dir "$logs" >"$work/log1.txt"
check_eq "bima log reads the log (0)" $? 0
check_grep "true-b, run after the refusals, is logged" " sha256:$(sha256 "$work/bin/true-b") $(ere "$work/bin/true-b")\$" "$work/log1.txt"
check "no forged bytes in the log" test "$(grep -c 'forged' "$work/log1.txt")" -eq 0
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify1.txt" 2>&1
check_eq "bima verify accepts the log against the TPM" $? 0
check "the link was not detached: execs are still measured" \
	grep -q "sha256:$(sha256 "$work/bin/true-b") " "$work/log1.txt"
check_grep "the daemon reports the refusals, naming the last" \
	'self-protection refused [0-9]+ operation\(s\) .*the last: .* by pid [0-9]+ \((python3|rm|bpftool)\)' "$work/bima1.out"

# 8. SIGKILL: while no daemon runs, the log, the pins and the ring buffer stay
# closed to all but a bima that starts; the next one takes over.
signal_bima KILL
wait "$bima_pid" 2>/dev/null
check_eq "once the daemon is dead, bima_config names none" "$(pinned_value bima_config daemon_tgid)" 0
no_daemon_closed() { # WHEN
	local seg
	seg=$(ls "$epoch"/segment-*.bin | tail -n 1)
	check_eq "$1: appending to the segment: EPERM" "$(try append "$seg")" EPERM
	check_eq "$1: creating a file in the epoch: EPERM" "$(try create "$epoch/segment-000099.bin")" EPERM
	check_eq "$1: unlinking a pin: EPERM" "$(try unlink "$pins/links/bima_bprm_check")" EPERM
	check_eq "$1: a read-write fd of the ring buffer's pin: EPERM" "$(obj_get "$pins/maps/bima_events" rw)" EPERM
	check_eq "$1: a read-only one: ok" "$(obj_get "$pins/maps/bima_events" ro)" ok
	check_eq "$1: reading the segment: ok" "$(try read "$seg")" ok
}
no_daemon_closed "no daemon (SIGKILL)"
"$work/bin/true-c" # queued in the ring buffer
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" --retention compress || exit 1
check_grep "the next daemon adopts the pins" 'adopted the BPF objects pinned in' "$work/bima2.out"
check_grep "and protects" 'self-protection: while this daemon runs' "$work/bima2.out"
check_eq "bima_config names it" "$(pinned_value bima_config daemon_tgid)" "$bima_pid"
current=$(ls "$epoch"/segment-*.bin | tail -n 1)
check_eq "appending to its segment is refused again: EPERM" "$(try append "$current")" EPERM
"$work/bin/true-d"
sleep 1
"$bima" log --log-dir "$logs" >"$work/log2.txt"
for x in c d; do
	check_grep "true-$x is logged by the new daemon" " sha256:$(sha256 "$work/bin/true-$x") $(ere "$work/bin/true-$x")\$" "$work/log2.txt"
done

stop_bima
no_daemon_closed "no daemon (SIGTERM)"
# bima with a library of its own is not a bima that starts: bima policy load is refused.
printf '__attribute__((constructor)) static void own(void) {}\n' >"$work/own.c"
cc -shared -fPIC -o "$work/own.so" "$work/own.c"
LD_PRELOAD=$work/own.so "$bima" policy load "$work/default.policy" >"$work/own-load.out" 2>&1
check_eq "no daemon: LD_PRELOAD=own.so bima policy load fails (1)" $? 1
check_grep "with EPERM" 'Operation not permitted' "$work/own-load.out"
"$bima" policy load "$work/default.policy" >"$work/load2.out" 2>&1
check_eq "no daemon: plain bima policy load works (0)" $? 0

# 9. bima stop --unload works; then the log is root's to remove.
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload.out" 2>&1
check_eq "bima stop --unload exits 0" $? 0
check "the pins are gone" test ! -e "$pins"
check_eq "at once, nothing is refused (the daemon turned protection off before unpinning)" \
	"$(try create "$logs/after-unload")" ok
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify2.txt" 2>&1
check_eq "the log verifies after the unload" $? 0
rm -rf "$logs" 2>"$work/rm2.err"
check "and root can remove it now" test $? -eq 0 -a ! -e "$logs"
sed 's/^/    rm| /' "$work/rm2.err"

# 10. Without protection, the same append succeeds.
start_bima "$work/bima3.out" --log-dir "$work/log-no" --tcti "$tcti" --pcr 11 --protect no || exit 1
check "with --protect no the daemon says nothing of self-protection" \
	test "$(grep -c 'self-protection' "$work/bima3.out")" -eq 0
check_eq "and bima_config has no BIMA_CFG_PROTECT" "$(($(pinned_value bima_config flags) & 2))" 0
check_eq "appending to a segment succeeds" "$(try append "$(ls "$work"/log-no/epoch-*/segment-*.bin | tail -n 1)")" ok
stop_bima
"$bima" stop --unload --force >/dev/null 2>&1
mkdir -p "$work/log-foreign"
echo "not bima's" >"$work/log-foreign/notes.txt"
start_bima "$work/bima4.out" --log-dir "$work/log-foreign" --tcti "$tcti" --pcr 12 || exit 1
check_grep "over a directory with a file not bima's, protection is off by default" \
	'self-protection is off: .* holds "notes.txt", which is not bima.s' "$work/bima4.out"
check_eq "and the same append succeeds" "$(try append "$(ls "$work"/log-foreign/epoch-*/segment-*.bin | tail -n 1)")" ok
stop_bima
"$bima" stop --unload --force >/dev/null 2>&1

# 11. A dead daemon's pid is not exempt (--protect no): a process that gets it is measured.
unique_copy /usr/bin/true "$work/bin/reused"
chmod +x "$work/bin/reused"
start_bima "$work/pid1.out" --log-dir "$work/log-pid" --tcti "$tcti" --pcr 13 --protect no || exit 1
dead=$bima_pid
kill -KILL "$dead"
wait "$dead" 2>/dev/null
echo "    bima_config daemon_tgid after SIGKILL: $(pinned_value bima_config daemon_tgid) (the dead daemon was $dead)"
check_eq "--protect no: once the daemon is dead, bima_config names none" "$(pinned_value bima_config daemon_tgid)" 0
# A child that gets the dead daemon's pid (ns_last_pid) runs a measured file.
python3 - "$dead" "$work/bin/reused" >"$work/reuse.out" 2>&1 <<'PY'
import os, sys
pid, path = int(sys.argv[1]), sys.argv[2]
for attempt in range(200):
    with open("/proc/sys/kernel/ns_last_pid", "w") as f:
        f.write(str(pid - 1))
    child = os.fork()
    if child == 0:
        if os.getpid() == pid:
            os.execv(path, [path])
        os._exit(3)
    _, status = os.waitpid(child, 0)
    if child == pid:
        print("ran as pid %d: exit %d" % (child, os.waitstatus_to_exitcode(status)))
        break
else:
    print("never got pid %d" % pid)
PY
sed 's/^/    reuse| /' "$work/reuse.out"
check_grep "a new process got the dead daemon's pid and ran $work/bin/reused" "^ran as pid $dead: exit 0\$" "$work/reuse.out"
start_bima "$work/pid2.out" --log-dir "$work/log-pid" --tcti "$tcti" --pcr 13 --protect no || exit 1
sleep 1
"$bima" log --log-dir "$work/log-pid" >"$work/pid-log.txt"
check_grep "its exec is measured (logged by the next daemon)" \
	" sha256:$(sha256 "$work/bin/reused") $(ere "$work/bin/reused")( |\$)" "$work/pid-log.txt"
stop_bima
# A daemon in a PID namespace of its own is known by its host pid (it was its pid there, 1).
unshare --pid --fork --mount-proc "$bima" run --log-dir "$work/log-pid" --tcti "$tcti" --pcr 13 \
	--protect no >"$work/pidns.out" 2>&1 &
unshare_pid=$!
deadline=$((SECONDS + 120))
until grep -q 'measuring exec' "$work/pidns.out" || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
ns_bima=$(cat /proc/$unshare_pid/task/*/children 2>/dev/null | tr -d ' ')
check_eq "a daemon in a PID namespace: bima_config names its host pid" "$(pinned_value bima_config daemon_tgid)" "$ns_bima"
kill -TERM "$ns_bima"
wait "$unshare_pid"
check_eq "and once it stopped, none" "$(pinned_value bima_config daemon_tgid)" 0
"$bima" stop --unload --force >/dev/null 2>&1

# 12. An upgrade of bima while it runs: the new program can start once the old one stopped.
cp "$bima" "$work/bin/bima-up"
"$work/bin/bima-up" run --log-dir "$work/log-up" --tcti "$tcti" --pcr 14 >"$work/up1.out" 2>&1 &
bima_pid=$!
until grep -q 'measuring exec' "$work/up1.out" || ! kill -0 "$bima_pid" 2>/dev/null; do sleep 0.2; done
check_grep "a daemon runs from a copy of bima, and protects" 'self-protection: while this daemon runs' "$work/up1.out"
cp "$bima" "$work/bin/bima-up.new" && printf 'upgrade\n' >>"$work/bin/bima-up.new"
mv -f "$work/bin/bima-up.new" "$work/bin/bima-up" # a new inode, as a package manager installs it
stop_bima
"$work/bin/bima-up" run --log-dir "$work/log-up" --tcti "$tcti" --pcr 14 >"$work/up2.out" 2>&1 &
bima_pid=$!
deadline=$((SECONDS + 120))
until grep -q 'measuring exec' "$work/up2.out" || ! kill -0 "$bima_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check_grep "the upgraded program starts with no daemon and adopts the pins" 'adopted the BPF objects' "$work/up2.out"
stop_bima
"$work/bin/bima-up" stop --unload --log-dir "$work/log-up" --tcti "$tcti" --pcr 14 >/dev/null 2>&1
check "and removes them" test ! -e "$pins"

# 13. A descriptor opened for writing before protection began: its ftruncate and shared mappings are refused.
start_bima "$work/old1.out" --log-dir "$work/log-old" --tcti "$tcti" --pcr 15 || exit 1
"$bima" stop --unload --log-dir "$work/log-old" --tcti "$tcti" --pcr 15 >/dev/null 2>&1
wait "$bima_pid" 2>/dev/null
old_seg=$(ls "$work"/log-old/epoch-*/segment-*.bin | tail -n 1)
python3 - "$old_seg" "$work/old.ready" "$work/old.go" "$work/old.result" <<'PY' &
import errno, mmap, os, sys, time
seg, ready, go, out = sys.argv[1:5]
fd = os.open(seg, os.O_WRONLY | os.O_APPEND)
rw = os.open(seg, os.O_RDWR)  # a shared writable mapping needs one without O_APPEND
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.1)
res = []
for name, op in (("ftruncate", lambda: os.ftruncate(fd, os.fstat(fd).st_size)),  # same size
                 ("mmap-shared", lambda: mmap.mmap(rw, 0, mmap.MAP_SHARED, mmap.PROT_WRITE))):
    try:
        op()
        res.append(name + " ok")
    except OSError as e:
        res.append(name + " " + errno.errorcode.get(e.errno, str(e.errno)))
with open(out, "w") as f:
    f.write("\n".join(res) + "\n")
PY
old_pid=$!
until [ -e "$work/old.ready" ]; do sleep 0.1; done
start_bima "$work/old2.out" --log-dir "$work/log-old" --tcti "$tcti" --pcr 15 || exit 1
touch "$work/old.go"
wait "$old_pid"
sed 's/^/    old fd| /' "$work/old.result"
# (its write(2) goes through: a file_permission hook would cost every write on the host; docs/self-protection.md)
check_grep "a shared writable mapping through it: EPERM" '^mmap-shared EPERM$' "$work/old.result"
# (ftruncate(2) meets file_truncate since Linux 6.2, path_truncate before)
check_grep "ftruncate through it: EPERM" '^ftruncate EPERM$' "$work/old.result"
stop_bima
"$bima" stop --unload --log-dir "$work/log-old" --tcti "$tcti" --pcr 15 >/dev/null 2>&1

grep -v 'debug' "$work/bima1.out" | sed 's/^/    bima| /'
sed 's/^/    verify| /' "$work/verify1.txt"
done_testing
