#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# TPM extends per measured file, at a low rate and in a burst, in one
# guest: root writes and reads new files in a Python loop, under FILE_CHECK
# for root reads, at one file a second, at five a second, and as fast as it
# can. For each, bima starts on a new log, the loop runs, bima stops (its
# stop writes the last bima_seq entry), and the entries the run added are
# counted by kind: every entry is one extend (bima verify checks the log
# against the PCR, which it does here too). measured counts every file
# entry (the loop's files, and Python's own modules, read once); other,
# the entries of bima's start. extends/file is all of them over measured.
#
#   tools/bench/extends.sh [--kernel 6.12|6.1] [--smp N] [SLOW_FILES]   (6.12, 1, 30)
#
# SLOW_FILES files at one a second (and at five a second), 2000 in the
# burst. FILE_CHECK needs Linux 6.9 (file_post_open), so use 6.12.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
[ "${VMTEST:-}" = 1 ] || bench_guest "$0" BIMA_BENCH_FILES 30 "$@"

slow=${BIMA_BENCH_FILES:-30}
work=/tmp/bench-extends
tcti=device:/dev/tpmrm0
mkdir -p "$work"
echo 'measure func=FILE_CHECK mask=^MAY_READ uid=0' >"$work/policy"

loop() { # DIR FILES SECONDS_BETWEEN
	python3 - "$1" "$2" "$3" <<'PY'
import os, sys, time
d, n, pause = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
os.makedirs(d, exist_ok=True)
for i in range(n):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("%s file %d %f\n" % (d, i, time.time()))
    with open(p) as f:
        f.read()
    if pause:
        time.sleep(pause)
PY
}

# run NAME FILES PAUSE: one row of the table
run() {
	local name=$1 files=$2 pause=$3 log=$work/log before total measured seqs marks other
	bench_bima_start "$work/policy" "$log" "$work/bima-$name.out" --tcti "$tcti" --protect no
	bench_pause 1
	before=$("$top/bima" log --log-dir "$log" | wc -l)
	loop "$work/files-$name" "$files" "$pause"
	kill -TERM "$bench_bima_pid" # its stop writes the last bima_seq entry
	wait "$bench_bima_pid"
	"$top/bima" log --log-dir "$log" | tail -n +$((before + 1)) >"$work/added-$name.txt"
	total=$(wc -l <"$work/added-$name.txt")
	# The loop's files, and what else Python reads (its modules, once)
	measured=$(grep -c ' ima-ng ' "$work/added-$name.txt")
	seqs=$(grep -c ' bima_seq ' "$work/added-$name.txt")
	marks=$(grep -c ' bima_container ' "$work/added-$name.txt")
	other=$((total - measured - seqs - marks))
	[ -z "${BIMA_BENCH_SHOW:-}" ] || awk '$3 != "ima-ng" { print "    " $5 }' "$work/added-$name.txt" | sort | uniq -c
	if "$top/bima" verify --log-dir "$log" --tcti "$tcti" >"$work/verify-$name.txt" 2>&1; then
		verified=yes
	else
		verified=NO
	fi
	"$top/bima" stop --unload --log-dir "$log" >/dev/null 2>&1
	printf '%-12s %6d %9d %8d %6d %6d %8d %12s %9s\n' "$name" "$files" "$measured" "$seqs" \
		"$marks" "$other" "$total" \
		"$(awk -v t="$total" -v m="$measured" 'BEGIN { printf "%.3f", m ? t / m : 0 }')" \
		"$verified"
}

printf '%-12s %6s %9s %8s %6s %6s %8s %12s %9s\n' rate files measured bima_seq marks other \
	extends extends/file verified
run 1-per-s "$slow" 1
run 5-per-s "$slow" 0.2
run burst 2000 0
