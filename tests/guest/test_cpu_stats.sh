#!/usr/bin/env bash
# vmtest-options: --smp 2
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the cache hits, counted a copy a CPU (bima_cpu_stats) and summed
# by `bima status` (cache-hits), are exact on two vCPUs: N executable
# mappings of a measured, unchanged file from a process on each CPU at once
# give exactly 2N more hits, as one open of it gives exactly one on kernels
# with file_post_open and none on others.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

[ "$(nproc)" -ge 2 ] || skip "needs 2 vCPUs (vmtest.sh --smp 2)"
work=/tmp/cpu-stats-test
n=3000
mkdir -p "$work/ramfs"
# The file measured is on ramfs, which only the policy's first rule
# measures: the mapper itself (on tmpfs) gives no hit of its own.
mount -t ramfs ramfs "$work/ramfs" || exit 1
head -c 8192 /dev/urandom >"$work/ramfs/lib"
cc -O2 -static "$top/tools/bench/hookload.c" -o "$work/hookload"
check_eq "the mapper builds" $? 0
cat >"$work/policy" <<'EOF2'
measure func=MMAP_CHECK fsmagic=0x858458f6
EOF2

hits() { "$bima" status | sed -n 's/^cache-hits: //p'; }

start_bima "$work/bima.out" --policy "$work/policy" --log-dir "$work/log" \
	--tcti "$tcti" --ascii none || exit 1
"$work/hookload" mmap "$work/ramfs/lib" 1 # measured: hashed and kept in the cache
h0=$(hits)
check "bima status says cache-hits" test -n "$h0"
"$work/hookload" mmap "$work/ramfs/lib" 0
h1=$(hits)
open=1 # the open's hit, where the kernel has file_post_open
grep -q 'no file_post_open' "$work/bima.out" && open=0
check_eq "an open alone is $open hit (file_post_open: $([ $open = 1 ] && echo yes || echo no))" \
	"$((h1 - h0))" "$open"
taskset -c 0 "$work/hookload" mmap "$work/ramfs/lib" "$n" &
a=$!
taskset -c 1 "$work/hookload" mmap "$work/ramfs/lib" "$n" &
b=$!
wait "$a" && wait "$b"
check_eq "the mappers on both CPUs ran" $? 0
h2=$(hits)
check_eq "2 x $n mappings from both CPUs at once are 2 x $n more hits" \
	"$((h2 - h1))" "$((2 * n + 2 * open))"
stop_bima
check_eq "the file is logged once" "$("$bima" log --log-dir "$work/log" | grep -c "$work/ramfs/lib")" 1
done_testing
