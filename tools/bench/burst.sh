#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A burst of new files, side by side in one guest: root writes, reads and
# deletes N new files in a Python loop, with no measurement, with bima, and
# with the kernel's own IMA, under the same policy (every file root reads).
# Every file is new, so bima and IMA hash each one. For bima it also tells
# how long after the loop's end the log held every record (the ring buffer
# empty: each record is freed only once its entry is durable) and when the
# TPM held every entry (nothing waits to be extended), polling `bima status`
# every 20 ms.
#
#   tools/bench/burst.sh [--kernel 6.12|6.1] [--smp N] [FILES]   (6.12, 1, 20000)
#   BIMA_RUN_OPTS="--ascii none" tools/bench/burst.sh ...   more options for bima run
#
# FILE_CHECK needs Linux 6.9 (file_post_open), so use 6.12. The ratios,
# taken in one boot, are the result; the absolute times mean little under
# emulation. The baseline is the mean of a run before and one after bima's.
# IMA goes last: its policy cannot be removed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
[ "${VMTEST:-}" = 1 ] || bench_guest "$0" BIMA_BENCH_FILES 20000 "$@"

files=${BIMA_BENCH_FILES:-20000}
work=/tmp/bench-burst
mkdir -p "$work/files"
policy='measure func=FILE_CHECK mask=^MAY_READ uid=0'

burst() { # milliseconds the loop took
	local t0
	t0=$(ms)
	python3 - "$work/files" "$files" <<'PY'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("file %d\n" % i)
    with open(p) as f:
        f.read()
    os.unlink(p)
PY
	echo $(($(ms) - t0))
}
status() { "$top/bima" status | sed -n "s/^$1: //p"; }

burst >/dev/null # warm up
none1=$(burst)

echo "$policy" >"$work/policy"
bench_bima_start "$work/policy" "$work/log" "$work/bima.out" --snapshot-entries 0
sleep 1
bima=$(burst)
end=$(ms)
durable='' extended=''
while [ -z "$extended" ]; do
	queued=$(status queued-bytes) unextended=$(status unextended-bytes)
	[ -z "$durable" ] && [ "$queued" = 0 ] && durable=$(($(ms) - end))
	[ -n "$durable" ] && [ "$unextended" = 0 ] && extended=$(($(ms) - end))
	sleep 0.02
done
lost=$(status lost)
bench_bima_stop "$work/log"
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
bench_row "write, read, delete a new file" "$none" "$bima" "$ima"
echo
echo "bima logged $logged of $files files, ${lost:-?} lost; the log held every record" \
	"$durable ms after the loop ended, the TPM every entry $extended ms after."
