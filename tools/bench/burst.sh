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
# guest: polling with it would measure mostly itself).
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

# burst [FIFO]: the milliseconds the loop took, by Python's own clock: the
# interpreter's start is not timed (its modules are read from the guest's
# 9p root, which bima does not cache, so bima hashed them at every run,
# inside the time taken). With a FIFO, the loop's end time (ms) is written
# to it.
# shellcheck disable=SC2120 # bench_bima_burst passes the FIFO
burst() {
	python3 - "$work/files" "$files" "${1:-}" <<'PY'
import os, sys, time
d, n, end = sys.argv[1], int(sys.argv[2]), sys.argv[3]
t0 = time.monotonic_ns()
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("file %d\n" % i)
    with open(p) as f:
        f.read()
    os.unlink(p)
took = (time.monotonic_ns() - t0) // 1000000
if end:
    with open(end, "w") as f:
        f.write("%d\n" % int(time.time() * 1000))
print(took)
PY
}
burst >/dev/null # warm up
none1=$(burst)

echo "$policy" >"$work/policy"
bench_bima_burst burst "$work"
logged=$("$top/bima" log --log-dir "$work/log" | grep -c " $work/files/")
none2=$(burst)
none=$(((none1 + none2) / 2))

if bench_ima "$policy" 2>"$work/ima.err"; then
	ima=$(burst)
else
	ima=-
fi

echo "Linux $(uname -r), $(nproc) vCPU(s), $files new files"
echo
bench_header
bench_row "write, read, delete a new file" "$none" "$bench_ms" "$ima"
echo
echo "bima logged $logged of $files files, ${bench_lost:-?} lost; the log held every record" \
	"$bench_durable ms after the loop ended, the TPM every entry $bench_extended ms after." \
	"The daemon used $bench_cpu ms of CPU for them, $((bench_cpu * 1000 / files)) us a file;" \
	"during the loop it was woken $bench_wakeups times ($bench_waits epoll waits)."
