#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the control socket. Without a daemon, `bima status` says none
# listens. `bima run` listens on /run/bima/control (0600, in a root-owned
# 0755 directory); `bima status` reports its pid, log directory, the epoch
# directory the log is in, the segment written, a TPM that answers, no
# loss, and an entries count that grows once a new executable runs.
# `bima snapshot` prints an anchor whose id is then the daemon's last
# snapshot and the id in a snapshot_aggregate entry of `bima log`. A peer of
# uid 65534 is refused by the file mode; with the file made 0666 it gets
# in, and SO_PEERCRED refuses it with one error line, and the daemon warns,
# naming its pid and uid; so is root of a user namespace that uid 65534
# made. While clients hold every slot sending nothing, or flood the socket
# with connections and with bytes, executables run meanwhile are logged
# within seconds, and the clients are answered (busy, no request, a line
# too long). A second `bima run` is refused, naming the first, and touches
# nothing. `bima stop` stops the daemon through the socket (exit 0), and the
# socket is removed. The socket a SIGKILLed daemon left is refused to
# clients and replaced by the next daemon. A daemon on another socket is
# reached with --control and through the configuration file's control key;
# one with --control none is still stopped and snapshotted by signal, said
# so. `bima stop --unload` still removes the pins; bima verify accepts the
# log.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/control-test
logs=$work/log
sock=/run/bima/control
mkdir -p "$work"
for x in a b c d e f; do unique_copy /usr/bin/true "$work/true-$x"; done
# Run every helper once first, so their own measurements happen now.
python3 -c 'pass'
setpriv --help >/dev/null
unshare --help >/dev/null

# status FIELD FILE: the value of "FIELD: value" in a `bima status` output
field() { sed -n "s/^$1: //p" "$2"; }
# logged NAME: how many times NAME is in the epoch's segments
logged() { cat "$logs"/epoch-*/segment-*.bin 2>/dev/null | grep -a -o -F -- "$1" | wc -l; }

"$bima" status >"$work/none.out" 2>&1
check_eq "bima status without a daemon exits 1" $? 1
check_grep "saying none listens" "no bima daemon listens on $(ere "$sock") \(is \`bima run\` running\?\)" \
	"$work/none.out"

start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" || exit 1
check_grep "the daemon says where it listens" "control socket $(ere "$sock"): " "$work/bima.out"
check_eq "the socket is 0600, root's" "$(stat -c '%F %a %u' "$sock")" "socket 600 0"
check_eq "its directory 0755, root's" "$(stat -c '%F %a %u' /run/bima)" "directory 755 0"

"$bima" status >"$work/status1.out" 2>&1
check_eq "bima status exits 0" $? 0
sed 's/^/    status| /' "$work/status1.out"
epoch=$(ls -d "$logs"/epoch-*)
check_eq "status: the daemon's pid" "$(field pid "$work/status1.out")" "$bima_pid"
check_eq "status: the log directory" "$(field log-dir "$work/status1.out")" "$logs"
check_eq "status: the epoch, as the log's epoch directory" "$(field epoch "$work/status1.out")" "${epoch##*/}"
segment=$(field segment "$work/status1.out")
check "status: the segment written, in that directory" test -f "$segment" -a "${segment%/*}" = "$epoch"
check_eq "status: the TPM is reachable" "$(field tpm "$work/status1.out")" reachable
check_eq "status: nothing lost" "$(field lost "$work/status1.out")" 0
check_eq "status: no snapshot yet" "$(field last-snapshot "$work/status1.out")" 0
entries1=$(field entries "$work/status1.out")
check "status: entries is a number above 0" test "${entries1:-0}" -gt 0
"$work/true-a"
deadline=$((SECONDS + 20))
while :; do
	"$bima" status >"$work/status2.out" 2>&1
	entries2=$(field entries "$work/status2.out")
	[ "${entries2:-0}" -gt "$entries1" ] && [ "$(logged "$work/true-a")" -ge 1 ] && break
	[ $SECONDS -ge $deadline ] && break
	sleep 0.3
done
check "entries grows once a new executable runs ($entries1 -> $entries2)" test "${entries2:-0}" -gt "$entries1"
check_eq "and that executable is in the log" "$(logged "$work/true-a")" 1

"$bima" snapshot >"$work/snap.out" 2>&1
check_eq "bima snapshot exits 0" $? 0
sed 's/^/    snapshot| /' "$work/snap.out"
check_grep "it prints the anchor" '^snapshot [0-9]+: [0-9]+ entries, segment [0-9]+ closed, kernel sequence number [0-9]+$' \
	"$work/snap.out"
check_grep "with the PCR in each bank" '^  PCR 10 sha256: [0-9a-f]{64}$' "$work/snap.out"
check_grep "and its quote" '^  quote: quote-[0-9]+\.attest, quote-[0-9]+\.sig \(sha256 [0-9a-f]{64}\)$' "$work/snap.out"
id=$(sed -n 's/^snapshot \([0-9]*\):.*/\1/p' "$work/snap.out")
"$bima" status >"$work/status3.out" 2>&1
check_eq "status: that is the last snapshot" "$(field last-snapshot "$work/status3.out")" "${id:-none}"
"$bima" log --log-dir "$logs" >"$work/log1.txt" 2>&1
texts=$(grep ' snapshot_aggregate ' "$work/log1.txt" | awk '{ print $NF }' |
	python3 -c 'import sys; [print(bytes.fromhex(l.strip()).decode()) for l in sys.stdin]')
printf '%s\n' "$texts" | sed 's/^/    snapshot_aggregate| /' | cut -c 1-120
check_eq "bima log has its snapshot_aggregate entry, with that id" \
	"$(printf '%s\n' "$texts" | sed -n 's/^id=\([0-9]*\) .*/\1/p')" "${id:-none}"
check "and its quote is beside the segments" test -s "$epoch/quote-$id.attest"

# A peer that is not root.
setpriv --reuid 65534 --regid 65534 --clear-groups "$bima" status >"$work/nobody1.out" 2>&1
check_eq "uid 65534: bima status exits 1" $? 1
check_grep "refused by the file's mode" "^bima: error: permission denied: only root may use $(ere "$sock")\$" \
	"$work/nobody1.out"
chmod 0666 "$sock" # the file lets anyone in now: the daemon's own check must refuse
setpriv --reuid 65534 --regid 65534 --clear-groups "$bima" status >"$work/nobody2.out" 2>&1 &
nobody=$!
wait $nobody
check_eq "uid 65534, the file 0666: bima status exits 1" $? 1
check_grep "refused by the daemon (SO_PEERCRED), in one line" \
	"^bima: error: permission denied: only root may use $(ere "$sock") \(you are uid 65534\)\$" \
	"$work/nobody2.out"
check "and told nothing of the status" test "$(grep -c 'pid:' "$work/nobody2.out")" -eq 0
sed 's/^/    nobody| /' "$work/nobody2.out"
check_grep "the daemon warns, naming the peer's pid and uid" \
	"warning: control socket: refused pid $nobody \(uid 65534, gid 65534\)" "$work/bima.out"
sleep 1.2 # past the one-warning-a-second limit
cat >"$work/peer.py" <<'PY'
import os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(b"status\n")
except OSError:
    pass  # refused and closed before it read
reply = b""
while True:
    try:
        d = s.recv(4096)
    except ConnectionResetError:
        break
    if not d:
        break
    reply += d
print("uid in its namespace: %d" % os.getuid())
print("pid: %d" % os.getpid())
sys.stdout.write(reply.decode())
PY
nobody() { setpriv --reuid 65534 --regid 65534 --clear-groups "$@"; }
if nobody unshare --user --map-root-user true 2>"$work/userns.err"; then
	nobody unshare --user --map-root-user python3 "$work/peer.py" "$sock" >"$work/userns.out" 2>&1
	sed 's/^/    userns| /' "$work/userns.out"
	check_eq "root of a user namespace uid 65534 made is uid 0 in there" \
		"$(field 'uid in its namespace' "$work/userns.out")" 0
	check_grep "and refused by the daemon as uid 65534" \
		"^error: permission denied: only root may use $(ere "$sock") \(you are uid 65534\)\$" "$work/userns.out"
	check_grep "which warns, naming it" \
		"warning: control socket: refused pid $(field pid "$work/userns.out") \(uid 65534, gid 65534\)" \
		"$work/bima.out"
else
	# The guest runs the test chrooted, and the kernel refuses CLONE_NEWUSER in a chroot.
	echo "# not run here: root of a user namespace as a peer ($(cat "$work/userns.err")); tests/unit/test_control checks it"
fi
python3 "$work/peer.py" "$sock" >"$work/root.out" 2>&1
check_grep "with the file 0666, root is still answered" '^ok$' "$work/root.out"
chmod 0600 "$sock"

# Clients that hold every slot and send nothing, and floods: measurements go on.
cat >"$work/attack.py" <<'PY'
import socket, sys, time
path, seconds = sys.argv[1], float(sys.argv[2])
end = time.time() + seconds
held, counts = [], {}
def count(reply):
    key = reply.split(b"\n")[0].decode(errors="replace")[:48] or "(nothing)"
    counts[key] = counts.get(key, 0) + 1
def connect():
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(5)
    try:
        s.connect(path)
    except OSError as e:
        count(b"connect: " + str(e).encode())
        s.close()
        return None
    return s
def reply(s):
    data = b""
    try:
        while True:
            d = s.recv(4096)
            if not d:
                break
            data += d
    except (ConnectionResetError, socket.timeout):
        pass
    return data
while time.time() < end:
    while len(held) < 20:  # more than the daemon serves at once
        s = connect()
        if s:
            held.append(s)
    # a flood of bytes without a newline
    s = connect()
    if s:
        try:
            s.sendall(b"x" * (1 << 20))
        except OSError:
            pass
        count(reply(s))
        s.close()
    # a flood of connections, each closed at once
    for _ in range(50):
        s = connect()
        if s:
            s.close()
    # those the daemon answered (busy, or at their deadline) make room for new ones
    for s in held[:]:
        s.setblocking(False)
        try:
            d = s.recv(4096)
        except BlockingIOError:
            continue
        except ConnectionResetError:
            d = b"(reset)"
        count(d)
        s.close()
        held.remove(s)
    time.sleep(0.2)
for s in held:
    s.close()
for k, v in sorted(counts.items()):
    print("%d x %s" % (v, k))
PY
python3 "$work/attack.py" "$sock" 15 >"$work/attack.out" 2>&1 &
attack=$!
sleep 1
late=0
for x in b c d; do
	start=$SECONDS
	"$work/true-$x"
	while [ "$(logged "$work/true-$x")" -lt 1 ] && [ $((SECONDS - start)) -lt 5 ]; do sleep 0.2; done
	[ "$(logged "$work/true-$x")" -ge 1 ] || late=$((late + 1))
	echo "    true-$x logged after about $((SECONDS - start)) s, attack still running: $(kill -0 $attack 2>/dev/null && echo yes || echo no)"
done
check "under the attack, the daemon still runs" kill -0 "$bima_pid"
check_eq "and three executables run meanwhile are each logged within 5 s" "$late" 0
check "the attack was still on when the last was logged" kill -0 "$attack"
wait $attack
sed 's/^/    attack| /' "$work/attack.out"
check_grep "the clients beyond 16 were told busy" '^[0-9]+ x error: busy: 16 clients are being served' "$work/attack.out"
check_grep "those that sent nothing, at their deadline" '^[0-9]+ x error: no request line within 2000 ms' "$work/attack.out"
check_grep "1 MB without a newline: a line too long" '^[0-9]+ x error: a request is one line of at most 63 ' "$work/attack.out"
"$bima" status >"$work/status4.out" 2>&1
check_eq "after it, bima status answers again" $? 0

# A second daemon.
nsegments=$(ls "$epoch"/segment-* | wc -l)
timeout 60 "$bima" run --log-dir "$logs" --tcti "$tcti" >"$work/second.out" 2>&1
check_eq "a second bima run is refused (1)" $? 1
check_grep "naming the first" \
	"error: a bima daemon \(pid $bima_pid\) already runs and listens on $(ere "$sock"): not starting a second one" \
	"$work/second.out"
check_eq "and starts no segment" "$(ls "$epoch"/segment-* | wc -l)" "$nsegments"
"$bima" status >"$work/status5.out" 2>&1
check_eq "the first still answers, as itself" "$(field pid "$work/status5.out")" "$bima_pid"

# bima stop, through the socket.
"$bima" stop >"$work/stop.out" 2>&1
check_eq "bima stop exits 0" $? 0
check_grep "having waited for it" "stopped bima \(pid $bima_pid\)" "$work/stop.out"
check "the daemon is gone" test ! -d "/proc/$bima_pid"
wait "$bima_pid"
check_eq "and exited 0" $? 0
check_grep "it was asked through the socket" 'stopping: asked through the control socket' "$work/bima.out"
check_grep "and logged what it read" 'stopped: [0-9]+ records logged by this run' "$work/bima.out"
check "the socket is removed" test ! -e "$sock"
check "no signal was needed" test "$(grep -c 'sending it' "$work/stop.out")" -eq 0

# A daemon killed leaves its socket; the next replaces it.
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" || exit 1
signal_bima KILL
wait "$bima_pid" 2>/dev/null
check "a SIGKILLed daemon leaves its socket" test -S "$sock"
"$bima" status >"$work/stale.out" 2>&1
check_eq "where bima status finds no daemon (1)" $? 1
check_grep "and says so" "no bima daemon listens on $(ere "$sock")" "$work/stale.out"
start_bima "$work/bima3.out" --log-dir "$logs" --tcti "$tcti" || exit 1
check_grep "the next daemon replaces the stale socket" \
	"replaced $(ere "$sock"), the control socket of a daemon that is gone" "$work/bima3.out"
"$bima" status >"$work/status6.out" 2>&1
check_eq "and answers on it, as itself" "$(field pid "$work/status6.out")" "$bima_pid"
"$bima" stop >/dev/null 2>&1
check_eq "bima stop stops it (0)" $? 0
wait "$bima_pid"

# Another socket: --control, and the configuration file's key.
alt=/run/bima-alt/control
start_bima "$work/bima4.out" --log-dir "$logs" --tcti "$tcti" --control "$alt" || exit 1
check_eq "--control PATH: the socket is there, 0600" "$(stat -c '%F %a' "$alt")" "socket 600"
check "and not at the default" test ! -e "$sock"
"$bima" status --control "$alt" >"$work/alt.out" 2>&1
check_eq "bima status --control PATH reaches it" "$(field pid "$work/alt.out")" "$bima_pid"
printf 'control = %s\n' "$alt" >"$work/bima.conf"
"$bima" status --config "$work/bima.conf" >"$work/alt2.out" 2>&1
check_eq "and so does the configuration file's control key" "$(field pid "$work/alt2.out")" "$bima_pid"
"$bima" status >"$work/alt4.out" 2>&1
check_eq "and so does plain bima status, through the daemon's settings (/run/bima/state)" \
	"$(field pid "$work/alt4.out")" "$bima_pid"
"$bima" status --control "$sock" >"$work/alt3.out" 2>&1
check_grep "bima status at the default socket says where the daemon is not" \
	"no bima daemon listens on $(ere "$sock"), but bima \(pid $bima_pid\) runs" "$work/alt3.out"
"$bima" stop --config "$work/bima.conf" >/dev/null 2>&1
check_eq "bima stop through the file's socket (0)" $? 0
wait "$bima_pid"
check "which is removed" test ! -e "$alt"

# A daemon without a socket: signals, said so.
start_bima "$work/bima5.out" --log-dir "$logs" --tcti "$tcti" --control none || exit 1
check "--control none: no socket" test ! -e "$sock"
"$bima" snapshot --control "$sock" >"$work/sigsnap.out" 2>&1
check_eq "bima snapshot falls back to SIGUSR1 (0)" $? 0
check_grep "saying so" "no bima daemon listens on $(ere "$sock"), but bima \(pid $bima_pid\) runs .*: sending it SIGUSR1" \
	"$work/sigsnap.out"
check_grep "and prints the anchor" "^snapshot $((id + 1)): " "$work/sigsnap.out"
"$bima" snapshot >"$work/sigsnap2.out" 2>&1
check_eq "plain bima snapshot, told by the daemon's settings it has no socket, signals (0)" $? 0
check_grep "saying so" "bima \(pid $bima_pid\) runs without a control socket \(--control none\): sending it SIGUSR1" \
	"$work/sigsnap2.out"
check_grep "and prints the anchor" "^snapshot $((id + 2)): " "$work/sigsnap2.out"
"$bima" stop >"$work/sigstop.out" 2>&1
check_eq "bima stop falls back to SIGTERM (0)" $? 0
check_grep "saying so" "runs without a control socket \(--control none\): sending it SIGTERM" \
	"$work/sigstop.out"
check "and the daemon is gone" test ! -d "/proc/$bima_pid"
wait "$bima_pid"
check_eq "having exited 0" $? 0

"$bima" stop >"$work/nostop.out" 2>&1
check_eq "bima stop with no daemon exits 0" $? 0
check_grep "saying none runs" 'no bima daemon runs' "$work/nostop.out"
start_bima "$work/bima6.out" --log-dir "$logs" --tcti "$tcti" || exit 1
"$work/true-e"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload.out" 2>&1
check_eq "bima stop --unload, through the socket, exits 0" $? 0
wait "$bima_pid"
check_grep "it removes the pins" "removed /sys/fs/bpf/bima" "$work/unload.out"
check "none are left" test ! -e /sys/fs/bpf/bima
check "nor the socket" test ! -e "$sock"
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log (0)" $? 0
check_grep "with the snapshots, quoted" '^note: 3 snapshot\(s\), up to id' "$work/verify.txt"
check_eq "true-e, run before the unload, is logged" "$(logged "$work/true-e")" 1
sed 's/^/    verify| /' "$work/verify.txt"
done_testing
