#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: measured before use. An attacker who is root tries to make a
# logged measurement vanish before it reaches the PCR: during an exec
# storm, with the TPM stalled (the test's own swtpm, stopped with SIGSTOP,
# so that entries really wait), it tries to end or stop the daemon
# (SIGKILL, SIGSTOP, SIGHUP), to attach to it (ptrace, process_vm_writev,
# pidfd_getfd, /proc/PID/mem), to cut the log (truncate) and to take
# records out of the ring buffer (a writable mapping of its consumer
# position). Every step is refused while entries wait (EPERM). SIGTERM is
# let through: once the TPM answers again the daemon extends everything
# and exits 0, and every exec of the storm is in the log and the PCR
# (bima verify); with no daemon, the ring buffer's pin is not opened for
# writing either. Once nothing waits, SIGKILL goes through again. A bima
# exec'd under a tracer does not pass as a bima that starts: it cannot
# become the daemon over the pins. And --max-extend-lag bounds the window:
# a --fail-closed daemon whose TPM lags longer than the bound denies what
# the policy measures, before its grace period would.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"
. "$top/tests/tpm/swtpm.sh"

work=/tmp/before-use-test
logs=$work/log
pins=/sys/fs/bpf/bima
execs=60
mkdir -p "$work/bin"
for i in $(seq $execs); do unique_copy /usr/bin/true "$work/bin/s-$i"; done
for i in 1 2 3; do unique_copy /usr/bin/true "$work/bin/lag-$i"; done
chmod +x "$work/bin/"*
mkfifo "$work/fifo" # read -t on it: a sleep that execs nothing

# attack OP PID [ARG]: one step against the daemon, as root; prints ok or the errno's name
attack() {
	python3 - "$@" <<'PY'
import ctypes, errno, mmap, os, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
op, pid = sys.argv[1], int(sys.argv[2])
def err():
    e = ctypes.get_errno()
    return errno.errorcode.get(e, str(e))
def done(r):
    print("ok" if r >= 0 else err())
    sys.exit(0)
if op == "ptrace":  # PTRACE_SEIZE, then detach if it worked
    r = libc.ptrace(0x4206, pid, 0, 0)
    if r >= 0:
        libc.ptrace(17, pid, 0, 0)  # PTRACE_DETACH
    done(r)
if op == "vm-write":  # process_vm_writev of one byte: EPERM before the address is looked at
    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    buf = ctypes.create_string_buffer(1)
    local = iovec(ctypes.addressof(buf), 1)
    remote = iovec(0x10000, 1)
    done(libc.process_vm_writev(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0))
if op == "getfd":  # pidfd_open, then pidfd_getfd of its fd 0
    pidfd = libc.syscall(434, pid, 0)
    if pidfd < 0:
        done(pidfd)
    done(libc.syscall(438, pidfd, 0, 0))
if op == "mem":  # /proc/PID/mem for writing
    try:
        os.close(os.open(f"/proc/{pid}/mem", os.O_RDWR))
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
    sys.exit(0)
if op == "truncate":
    try:
        os.truncate(sys.argv[3], 0)
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
    sys.exit(0)
if op == "consume":  # the ring buffer's consumer position, mapped writable
    path = ctypes.create_string_buffer(sys.argv[3].encode())
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<QII", attr, 0, ctypes.addressof(path), 0, 0)
    fd = libc.syscall(321, 7, attr, 128)  # SYS_bpf, BPF_OBJ_GET
    if fd < 0:
        done(fd)
    try:
        mmap.mmap(fd, 4096, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        print("ok")
    except OSError as e:
        print(errno.errorcode.get(e.errno, str(e.errno)))
    sys.exit(0)
sys.exit("unknown step " + op)
PY
}

# unextended: since when entries wait for the TPM, as the hooks know it (0: none)
unextended() {
	bpftool -j map dump pinned "$pins/maps/bima_config" 2>/dev/null |
		python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["formatted"]["value"]["unextended_ns"])'
}

# wait_waiting: until the hooks know that entries wait (10 s at most)
wait_waiting() {
	local deadline=$((SECONDS + 10))
	until [ "$(unextended)" -gt 0 ] 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && return 1
		sleep 0.1
	done
}

# A private TPM that the test can stall; PCR 11, where no boot_aggregate is.
swtpm_start || exit 1
start_bima "$work/bima.out" --log-dir "$logs" --tcti "$TCTI" --pcr 11 --protect yes || exit 1
daemon=$bima_pid

# 1. The TPM stalls during an exec storm: entries are logged and wait.
kill -STOP "$swtpm_pid"
for i in $(seq $execs); do "$work/bin/s-$i"; done
check "entries wait for the TPM, and the hooks know it" wait_waiting

# 2. The attack, step by step.
check_eq "SIGKILL of the daemon: refused" "$(kill -KILL "$daemon" 2>&1 >/dev/null | grep -c 'not permitted')" 1
check_eq "SIGSTOP of the daemon: refused" "$(kill -STOP "$daemon" 2>&1 >/dev/null | grep -c 'not permitted')" 1
check_eq "SIGHUP (its default ends it): refused" "$(kill -HUP "$daemon" 2>&1 >/dev/null | grep -c 'not permitted')" 1
check_eq "ptrace (PTRACE_SEIZE) of the daemon: refused" "$(attack ptrace "$daemon")" EPERM
check_eq "process_vm_writev into the daemon: refused" "$(attack vm-write "$daemon")" EPERM
check_eq "pidfd_getfd of the daemon's descriptors: refused" "$(attack getfd "$daemon")" EPERM
check_eq "/proc/PID/mem of the daemon for writing: refused (EACCES, as proc says it)" \
	"$(attack mem "$daemon")" EACCES
seg=$(ls "$logs"/epoch-*/segment-*.bin | tail -n 1)
size=$(stat -c %s "$seg")
check_eq "truncating the log's segment: refused" "$(attack truncate "$daemon" "$seg")" EPERM
check_eq "the segment keeps its $size bytes" "$(stat -c %s "$seg")" "$size"
check_eq "mapping the ring buffer's consumer position writable: refused" \
	"$(attack consume "$daemon" "$pins/maps/bima_events")" EPERM
check "the daemon still runs" kill -0 "$daemon"
check_grep "the daemon is not stopped (state S or R, not T)" '^State:[[:space:]]+[SR]' "/proc/$daemon/status"

# 3. SIGTERM is let through: the daemon extends what waits, then exits.
check "SIGTERM of the daemon: let through" kill -TERM "$daemon"
sleep 1
kill -CONT "$swtpm_pid"
deadline=$((SECONDS + 60))
while kill -0 "$daemon" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
wait "$daemon"
check_eq "the daemon extends everything and exits 0" $? 0
bima_pid=
"$bima" log --log-dir "$logs" >"$work/log.txt"
logged=0
for i in $(seq $execs); do grep -Eq " $work/bin/s-$i( |\$)" "$work/log.txt" && logged=$((logged + 1)); done
check_eq "every exec of the storm is in the log" "$logged" "$execs"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$work/verify.txt" 2>&1
check_eq "and in PCR 11: bima verify accepts the log against the TPM" $? 0
sed 's/^/    verify| /' "$work/verify.txt" | tail -n 3
check_eq "after the stop nothing waits" "$(unextended)" 0
check_eq "with no daemon, the ring buffer's pin cannot be opened to take records out" \
	"$(attack consume 0 "$pins/maps/bima_events")" EPERM

# 4. Once nothing waits, SIGKILL goes through (a shutdown that times out ends).
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$TCTI" --pcr 11 --protect yes || exit 1
check "with nothing waiting, SIGKILL of the daemon is let through" signal_bima KILL
wait "$bima_pid" 2>/dev/null
bima_pid=

# 5. A bima exec'd under a tracer does not pass as a bima that starts.
python3 - "$bima" "$logs" "$TCTI" >"$work/traced.out" 2>&1 <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
pid = os.fork()
if pid == 0:
    libc.ptrace(0, 0, 0, 0)  # PTRACE_TRACEME
    os.execv(sys.argv[1], [sys.argv[1], "run", "--log-dir", sys.argv[2], "--tcti", sys.argv[3],
                           "--pcr", "11", "--protect", "yes"])
import signal, time
deadline = time.time() + 30
while time.time() < deadline:
    r, status = os.waitpid(pid, os.WNOHANG)
    if r == 0:
        time.sleep(0.1)
    elif os.WIFSTOPPED(status):  # at the exec, or a signal: go on, passing it
        sig = os.WSTOPSIG(status)
        libc.ptrace(7, pid, 0, 0 if sig == signal.SIGTRAP else sig)  # PTRACE_CONT
    else:
        print("exit", os.waitstatus_to_exitcode(status))
        sys.exit(0)
print("still running after 30 s: it became the daemon")
os.kill(pid, signal.SIGKILL)
PY
check_grep "a traced bima cannot become the daemon over the pins" '^exit [1-9]' "$work/traced.out"
sed 's/^/    traced| /' "$work/traced.out" | tail -n 4
check_eq "and left no daemon behind" "$(bpftool -j map dump pinned "$pins/maps/bima_config" |
	python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["formatted"]["value"]["daemon_tgid"])')" 0

# 6. --max-extend-lag: a --fail-closed daemon whose TPM lags denies, well before --grace.
start_bima "$work/bima3.out" --log-dir "$logs" --tcti "$TCTI" --pcr 11 --protect yes \
	--fail-closed --grace 60 --max-extend-lag 500 || exit 1
kill -STOP "$swtpm_pid"
"$work/bin/lag-1"
check_eq "with the TPM stalled, the first new exec runs (its entry waits)" $? 0
read -r -t 2 <>"$work/fifo"
"$work/bin/lag-2" 2>/dev/null
check_eq "2 s later, past --max-extend-lag 500, a new exec is denied" $? 126
kill -CONT "$swtpm_pid"
# Builtins only until it has caught up: the hooks deny every new exec till then.
read -r -t 3 <>"$work/fifo"
"$work/bin/lag-3"
check_eq "once the TPM has caught up, new execs run again" $? 0
stop_bima
"$bima" log --log-dir "$logs" >"$work/log3.txt"
check_grep "the exec that ran is logged" " $(ere "$work/bin/lag-1")( |\$)" "$work/log3.txt"
check_eq "the denied one is not" "$(grep -Ec " $work/bin/lag-2( |\$)" "$work/log3.txt")" 0
"$bima" stop --unload --force >/dev/null 2>&1
done_testing
