# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the benchmarks that compare no measurement, bima and kernel
# IMA side by side in one guest (cost.sh, burst.sh, overlay.sh, unpack.sh). Source it
# after setting top (the repository's root).

# bench_guest SCRIPT VAR DEFAULT [--kernel K] [--smp N] [--icount] [VALUE]:
# on the host, build bima if need be and run SCRIPT in a guest (6.12, one
# vCPU by default; --icount: vmtest.sh's, time counted in instructions)
# with VAR=VALUE (DEFAULT without one) in its environment. Does not return.
# -h or --help prints SCRIPT's opening comment, its usage, and boots no
# guest; another option is an error, not a VALUE.
bench_guest() {
	local script=$1 var=$2 value=$3 kernel=6.12 smp=1 icount=
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) kernel=$2 && shift 2 ;;
		--smp) smp=$2 && shift 2 ;;
		--icount) icount=--icount && shift ;;
		-h | --help) bench_usage "$script" && exit 0 ;;
		-*)
			echo "${script##*/}: unknown option $1 (try --help)" >&2
			exit 2
			;;
		*) value=$1 && shift ;;
		esac
	done
	[ -x "$top/bima" ] || make -C "$top" >/dev/null || exit 1
	export "$var=$value"
	# shellcheck disable=SC2086 # icount: the option or nothing
	exec "$top/tools/vmtest/vmtest.sh" --kernel "$kernel" --smp "$smp" $icount --timeout 3600 \
		"$script"
}

# bench_usage SCRIPT: its comment after the licence line, up to its first line of code.
bench_usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$1"
}

# bench_static_true OUTPUT [BYTES]: a static program that exits 0 (an exec
# then maps nothing from the guest's 9p root, which bima does not cache),
# padded with random bytes to BYTES, which the loader never reads.
bench_static_true() {
	mkdir -p "$(dirname "$1")"
	echo 'int main(void) { return 0; }' | cc -static -O2 -x c - -o "$1" || return 1
	[ -z "${2:-}" ] || head -c $(($2 - $(stat -c %s "$1"))) /dev/urandom >>"$1"
}

# ms: the time in ms since the epoch, from the shell's own clock. date(1)
# would be an exec from the guest's 9p root, which bima does not cache: it
# would hash date and its libraries at each call, inside the times taken.
ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }

# bench_pause SECONDS: sleep without an exec. While bima attaches or
# detaches its programs, an exec on another vCPU can run into the hook's
# half-patched call site under QEMU's TCG (an oops at
# bpf_lsm_bprm_check_security+0x5, seen with --smp 2), so nothing here
# execs while bima starts or stops.
bench_pause() {
	if [ -z "${bench_tick:-}" ]; then
		mkfifo "/tmp/bench-tick.$$" && exec {bench_tick}<>"/tmp/bench-tick.$$"
	fi
	read -r -t "$1" -u "$bench_tick" _ || true
}

# bench_bima_start POLICY LOGDIR OUTPUT [OPTIONS...]: start bima run (with
# BIMA_RUN_OPTS too, and under BIMA_RUN_WRAP, a command that execs it, such
# as "chrt -b 0") in the background, and wait until it measures.
bench_bima_start() {
	local policy=$1 log=$2 out=$3
	shift 3
	bench_pause 0
	# Emptied here, not by the redirection below, which the background
	# process makes: else the wait below may read a previous run's output,
	# return at once, and what follows runs before bima measures.
	: >"$out"
	# shellcheck disable=SC2086 # BIMA_RUN_WRAP, BIMA_RUN_OPTS: a word each
	${BIMA_RUN_WRAP:-} "$top/bima" run --policy "$policy" --log-dir "$log" "$@" ${BIMA_RUN_OPTS:-} >"$out" 2>&1 &
	bench_bima_pid=$!
	until [[ -s $out && $(<"$out") == *'measuring exec'* ]]; do
		kill -0 "$bench_bima_pid" 2>/dev/null || { echo "$(<"$out")" >&2 && exit 1; }
		bench_pause 0.2
	done
}

# bench_cpu_ms [PID]: the CPU time (user and system, ms) the bima that
# bench_bima_start started, or PID, has used so far.
bench_cpu_ms() {
	awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' \
		"/proc/${1:-$bench_bima_pid}/stat"
}

# bench_wakeups_start OUT: count, until bench_wakeups_stop, the daemon's
# wakeups: its epoll_wait calls that return an event (a ring-buffer wakeup,
# or its control socket), and all its epoll_wait calls, with perf on the
# syscall tracepoints. Its voluntary context switches would count its TPM
# and disk waits too. bench_wakeups_stop prints "WAKEUPS WAITS", or "- -"
# without perf.
bench_wakeups_start() {
	local i
	bench_wakeups_out=$1
	bench_wakeups_perf=
	rm -f "$1"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
	command -v perf >/dev/null || return 0
	perf stat -x, -o "$1" -p "$bench_bima_pid" -e syscalls:sys_exit_epoll_wait \
		--filter 'ret > 0' -e syscalls:sys_enter_epoll_wait &
	bench_wakeups_perf=$!
	# perf writes its header once it counts; a SIGINT before would lose all.
	for i in $(seq 100); do
		[ -s "$1" ] && break
		sleep 0.1
	done
	sleep 0.2
}

bench_wakeups_stop() {
	if [ -z "$bench_wakeups_perf" ]; then
		echo "- -"
		return
	fi
	kill -INT "$bench_wakeups_perf"
	wait "$bench_wakeups_perf"
	awk -F, '/sys_exit_epoll_wait/ { w = $1 } /sys_enter_epoll_wait/ { n = $1 }
		END { print (w == "" ? "-" : w), (n == "" ? "-" : n) }' "$bench_wakeups_out"
}

# bench_bima_burst WORKFN WORK [peak]: start bima under WORK/policy, logging
# to WORK/log with no snapshots; run WORKFN END, which prints its time (ms)
# and writes its end time to the FIFO END; wait until the log holds every
# record and the TPM every entry (bench_poll_status, with peak too); stop
# and unload bima. Sets bench_ms (WORKFN's time), bench_durable and
# bench_extended (ms after the end), bench_peak (bytes), bench_lost
# (records the log counts lost), bench_cpu (the daemon's CPU ms for the
# workload), bench_busy (every CPU's busy ms from WORKFN's start until the
# TPM held every entry, where WORKFN gives it: bench_poll_status),
# bench_wakeups and bench_waits (its wakeups and epoll waits while WORKFN
# ran, bench_wakeups_start).
bench_bima_burst() {
	local fn=$1 work=$2 poller cpu0
	bench_bima_start "$work/policy" "$work/log" "$work/bima.out" --snapshot-entries 0
	rm -f "$work/end" "$work/ready" && mkfifo "$work/end"
	bench_poll_status "$work/end" "$work/ready" "${3:-}" >"$work/lags" &
	poller=$!
	until [ -e "$work/ready" ]; do sleep 0.2; done
	sleep 1
	cpu0=$(bench_cpu_ms)
	bench_wakeups_start "$work/wakeups"
	bench_ms=$("$fn" "$work/end")
	# Before the poller asks the control socket: that would count too.
	read -r bench_wakeups bench_waits < <(bench_wakeups_stop)
	wait "$poller"
	read -r bench_durable bench_extended bench_peak bench_busy <"$work/lags"
	bench_lost=$("$top/bima" status | sed -n 's/^lost: //p')
	bench_cpu=$(($(bench_cpu_ms) - cpu0))
	bench_bima_stop "$work/log"
}

# bench_bima_stop LOGDIR: stop the bima that bench_bima_start started, and unload it.
bench_bima_stop() {
	kill -TERM "$bench_bima_pid"
	wait "$bench_bima_pid"
	"$top/bima" stop --unload --log-dir "$1" >/dev/null 2>&1
}

# bench_ima POLICY: put POLICY in force in kernel IMA; fails where IMA refuses it.
bench_ima() {
	echo "$1" >/sys/kernel/security/ima/policy
}

# bench_mean A B: the mean of two lists of times (the runs with no
# measurement before and after bima's), term by term.
bench_mean() {
	paste -d' ' <(tr ' ' '\n' <<<"$1") <(tr ' ' '\n' <<<"$2") |
		awk '{ printf "%s%d", (NR > 1 ? " " : ""), ($1 + $2) / 2 }'
}

bench_header() {
	echo "| workload | no measurement | bima (ratio) | kernel IMA (ratio) |"
	echo "| --- | --- | --- | --- |"
}

# bench_row NAME NONE BIMA IMA: a table row, each time with its ratio to
# NONE; BIMA or IMA is - where it did not run.
bench_row() {
	awk -v name="$1" -v n="$2" -v b="$3" -v i="$4" '
		function cell(t) { return t == "-" ? "-" : sprintf("%d ms (%.2f)", t, t / n) }
		BEGIN { printf "| %s | %d ms | %s | %s |\n", name, n, cell(b), cell(i) }'
}

# bench_python ARGS...: run the Python script on stdin with ARGS, after the
# helpers the benchmarks' scripts share: busy_ns(), every CPU's busy time so
# far (ns, the sum of /proc/schedstat's rq_cpu_time, which idle time is not).
bench_python() {
	{
		cat <<'PY'
def busy_ns():
    t = 0
    with open("/proc/schedstat") as f:
        for l in f:
            if l.startswith("cpu"):
                t += int(l.split()[7])
    return t
PY
		cat
	} | python3 - "$@"
}

# bench_poll_status END READY [peak]: say it is ready by creating file
# READY, wait until a workload's end time (ms since the epoch) is written to
# FIFO END, then poll the daemon's control socket every 20 ms; once the ring
# buffer is empty and nothing waits for the TPM, print "DURABLE_MS
# EXTENDED_MS PEAK_QUEUED_BYTES BUSY_MS": how long after the end the log held
# every record and the TPM every entry, the most the ring buffer held, and,
# where the workload wrote "END_MS BUSY0" (BUSY0: the sum of /proc/schedstat's
# rq_cpu_time, ns, at its start), the
# busy time of every CPU from its start until then, less this poller's own
# CPU time ("-" otherwise). Without
# "peak" it sleeps until the end (it costs the workload nothing) and the
# peak is the ring buffer at the end; with it, it polls throughout. One
# python process: a `bima status` process takes 100 to 200 ms to start in
# the guest, so polling with it would measure mostly itself.
bench_poll_status() {
	bench_python "$1" "$2" "${3:-}" <<'PY'
import os, socket, sys, time
end_fifo, ready, throughout = sys.argv[1], sys.argv[2], sys.argv[3] == "peak"
open(ready, "w").close()
# Throughout: never wait for the writer. Else block until it opens the FIFO.
fd = os.open(end_fifo, os.O_RDONLY | (os.O_NONBLOCK if throughout else 0))
def status():
    s = socket.socket(socket.AF_UNIX)
    s.connect("/run/bima/control")
    s.sendall(b"status\n")
    data = b""
    while not (data.endswith(b"ok\n") or b"error" in data):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    return dict(l.split(": ", 1) for l in data.decode().splitlines() if ": " in l)
end, text, durable, peak, busy0, own0 = None, b"", None, 0, None, 0
while True:
    if end is None:
        try:
            text += os.read(fd, 64)
        except BlockingIOError:
            pass
        if text.endswith(b"\n"):
            words = text.split()
            end = int(words[0])
            if len(words) > 1:
                busy0, own0 = int(words[1]), time.process_time_ns()
    if end is None and not throughout:
        continue
    st = status()
    now = int(time.time() * 1000)
    # The ring buffer holds what is not yet logged and what waits for a bima_seq entry.
    peak = max(peak, int(st["queued-bytes"]) + int(st.get("held-bytes", "0")))
    if end is not None and durable is None and st["queued-bytes"] == "0":
        durable = now - end
    if durable is not None and st["unextended-bytes"] == "0":
        busy = "-"
        if busy0 is not None:
            busy = (busy_ns() - busy0 - (time.process_time_ns() - own0)) // 1000000
        print(durable, now - end, peak, busy)
        break
    time.sleep(0.02)
PY
}

# bench_hook_policy FILE: the policy of the hook benchmarks (hooks.sh,
# attached.sh): execs, executable mappings and root's reads measured, but
# not on ramfs (the tools' own files) nor 9p (the guest's root, which bima
# would hash at each access).
bench_hook_policy() {
	cat >"$1" <<'POLICY'
dont_measure fsmagic=0x858458f6
dont_measure fsmagic=0x01021997
measure func=BPRM_CHECK mask=MAY_EXEC
measure func=MMAP_CHECK mask=MAY_EXEC
measure func=FILE_CHECK mask=^MAY_READ uid=0
POLICY
}
