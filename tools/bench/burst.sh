#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A burst of new files, side by side in one guest: root writes, reads and
# deletes N new files in a Python loop, with no measurement, with bima, and
# with the kernel's own IMA, under the same policy (every file root reads).
# Every file is new, so bima and IMA hash each one. For bima it also tells
# how long after the loop's end the log held every record (the ring buffer
# empty: each record is freed only once its entry is durable) and when the
# TPM held every entry (nothing waits to be extended), asking the daemon's
# control socket for its status every 20 ms from one process started before
# the loop (a `bima status` process takes 100 to 200 ms to start in the
# guest: polling with it would measure mostly itself). A second row gives
# every CPU's busy time, from the loop's start until the TPM held every
# entry (less the poller's own): the work bima's daemon does after the loop
# counts there, and IMA's waits for the TPM do not.
#
#   tools/bench/burst.sh [--kernel 6.12|6.1] [--smp N] [--icount] [FILES]   (6.12, 1, 20000)
#   BIMA_RUN_OPTS="--ascii none" tools/bench/burst.sh ...   more options for bima run
#   BIMA_RUN_WRAP="chrt -b 0" tools/bench/burst.sh ...      a command that execs bima run
#
# FILE_CHECK needs Linux 6.9 (file_post_open), so use 6.12. The ratios,
# taken in one boot, are the result; the absolute times mean little under
# emulation. The baseline is the mean of a run before and one after bima's.
# --icount (tools/vmtest/vmtest.sh's) counts the guest's time in
# instructions, the same whatever else the host runs; time the guest waits
# (for swtpm) still passes as on the wall.
# IMA goes last: its policy cannot be removed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
[ "${VMTEST:-}" = 1 ] || bench_guest "$0" BIMA_BENCH_FILES 20000 "$@"

files=${BIMA_BENCH_FILES:-20000}
work=/tmp/bench-burst
mkdir -p "$work/files"
policy='measure func=FILE_CHECK mask=^MAY_READ uid=0'

# burst [FIFO]: "TOOK BUSY": the milliseconds the loop took, by Python's
# own clock, and every CPU's busy time in them (ms, /proc/schedstat), which
# counts the work IMA does in the syscalls but not its waits for the TPM.
# The interpreter's start is not timed (its modules are read from the
# guest's 9p root, which bima does not cache, so bima hashed them at every
# run, inside the time taken). With a FIFO, the loop's end time (ms) and the
# busy time (ns) at its start are written to it, for bench_poll_status.
# shellcheck disable=SC2120 # bench_bima_burst passes the FIFO
burst() {
	bench_python "$work/files" "$files" "${1:-}" <<'PY'
import os, sys, time
d, n, end = sys.argv[1], int(sys.argv[2]), sys.argv[3]
b0 = busy_ns()
t0 = time.monotonic_ns()
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("file %d\n" % i)
    with open(p) as f:
        f.read()
    os.unlink(p)
took = (time.monotonic_ns() - t0) // 1000000
busy = (busy_ns() - b0) // 1000000
if end:
    with open(end, "w") as f:
        f.write("%d %d\n" % (int(time.time() * 1000), b0))
print(took, busy)
PY
}
burst >/dev/null # warm up
read -r none1 none1_busy < <(burst)

echo "$policy" >"$work/policy"
bench_bima_burst burst "$work"
logged=$("$top/bima" log --log-dir "$work/log" | grep -c " $work/files/")
read -r none2 none2_busy < <(burst)
none=$(((none1 + none2) / 2))
none_busy=$(((none1_busy + none2_busy) / 2))
read -r bima_ms _ <<<"$bench_ms"

if bench_ima "$policy" 2>"$work/ima.err"; then
	read -r ima ima_busy < <(burst)
else
	ima=- ima_busy=-
fi

echo "Linux $(uname -r), $(nproc) vCPU(s), $files new files"
echo
bench_header
bench_row "write, read, delete a new file" "$none" "$bima_ms" "$ima"
bench_row "every CPU's busy time, until the TPM holds every entry" "$none_busy" \
	"$bench_busy" "$ima_busy"
echo
echo "bima logged $logged of $files files, ${bench_lost:-?} lost; the log held every record" \
	"$bench_durable ms after the loop ended, the TPM every entry $bench_extended ms after." \
	"The daemon used $bench_cpu ms of CPU for them, $((bench_cpu * 1000 / files)) us a file;" \
	"during the loop it was woken $bench_wakeups times ($bench_waits epoll waits)."
