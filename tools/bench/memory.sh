#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Kernel memory against measurements, in one guest: bima first, then the
# kernel's own IMA, each measuring the same workload (root reads N files
# that each exist once: a new inode, a new measurement, then deleted).
# Prints, after each checkpoint, how much the kernel's slab (/proc/meminfo
# Slab, and its unreclaimable part) grew since the start of the phase, and
# the length of IMA's in-kernel list; for bima, what `bima status` counts
# lost and still waiting for the TPM. After bima's phase, and again at the
# end: what bima logged and lost, and its daemon's peak resident memory.
#
#   tools/bench/memory.sh [--kernel 6.12|6.1] [--bima-only] [CHECKPOINTS]   (6.12, "10000 100000")
#
# --bima-only skips kernel IMA's phase. For bima, each row also says how
# long `bima status` took to answer and the daemon's resident memory (anon,
# file-backed, shared memory such as mapped tmpfs files), and after its
# phase come its largest mappings (smaps) and their totals (smaps_rollup),
# and how often the TPM failed and a rejoin read the log again.
#
# FILE_CHECK needs Linux 6.9 (file_post_open), so use 6.12.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${VMTEST:-}" != 1 ]; then
	kernel=6.12
	while [ $# -gt 0 ]; do
		case $1 in
		--kernel) kernel=$2; shift 2 ;;
		--bima-only) export BIMA_BENCH_BIMA_ONLY=1; shift ;;
		-h | --help) sed -n '3,/^set -u$/{/^set -u$/d; s/^# \{0,1\}//; p}' "$0"; exit 0 ;;
		-*) echo "memory.sh: unknown option $1 (--help lists them)" >&2; exit 2 ;;
		*) break ;;
		esac
	done
	for n in ${1:-}; do
		case $n in
		'' | *[!0-9]*) echo "memory.sh: checkpoint '$n' is not a number of files" >&2; exit 2 ;;
		esac
	done
	[ -x "$top/bima" ] || make -C "$top" >/dev/null
	points=${1:-10000 100000}
	most=$(printf '%s\n' $points | sort -n | tail -n 1)
	# Kernel IMA's list takes about 0.8 kB an entry, bima's log on the guest's tmpfs about 0.15 kB.
	mem=$((1024 + most * 2 / 1000))
	BIMA_BENCH_POINTS=$points exec "$top/tools/vmtest/vmtest.sh" --timeout $((3600 + most / 50)) \
		--mem "$mem" --kernel "$kernel" "$0"
fi

points=${BIMA_BENCH_POINTS:-10000 100000}
work=/tmp/bench-mem
mkdir -p "$work/files"
policy='measure func=FILE_CHECK mask=^MAY_READ uid=0'

kb() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }
ima_count() { cat /sys/kernel/security/ima/runtime_measurements_count; }
# reads FROM TO: root reads files FROM..TO-1, each new, then deletes it
reads() {
	python3 - "$work/files" "$1" "$2" <<'PY'
import os, sys
d, a, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for i in range(a, b):
    p = os.path.join(d, "f%d" % i)
    with open(p, "w") as f:
        f.write("file %d\n" % i)
    with open(p) as f:
        f.read()
    os.unlink(p)
PY
}
# daemon_state NAME: for bima, "LOST | ENTRIES | SECONDS": lost and waiting for the TPM, from
# `bima status`, and how long it took to answer (its error, if any, on stderr)
daemon_state() {
	local t0 t1 out
	[ "$1" = bima ] || { echo '- | - | -'; return; }
	t0=${EPOCHREALTIME/[.,]/}
	out=$("$top/bima" status 2>"$work/status.err")
	t1=${EPOCHREALTIME/[.,]/}
	[ -s "$work/status.err" ] && sed 's/^/bima status: /' "$work/status.err" >&2
	printf '%s\n' "$out" | awk -F': ' -v s="$(((t1 - t0) / 1000))" \
		'$1 == "lost" { l = $2 } $1 == "unextended-entries" { u = $2 }
		 END { printf "%s | %s | %d.%03d s\n", l, u, s / 1000, s % 1000 }'
}
# daemon_rss NAME: for bima, the daemon's resident memory now, "TOTAL (anon/file/shmem)" in kB
daemon_rss() {
	[ "$1" = bima ] || { echo -; return; }
	awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ { v[$1] = $2 }
	     END { printf "%d kB (%d/%d/%d)\n", v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["RssShmem:"] }' \
		"/proc/$pid/status"
}
# daemon_maps SMAPS: the mappings that hold the most resident memory, summed by name (kB)
daemon_maps() {
	awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6) }
	     $1 == "Rss:" && $2 > 0 { r[name] += $2 }
	     END { for (n in r) printf "%8d kB %s\n", r[n], n }' "$1" | sort -rn | head -n 8
}
# Every second while bima's phase runs: keep the daemon's smaps at its largest resident size.
sample_peak() {
	local rss max=0
	while [ ! -e "$work/phase.done" ] && kill -0 "$pid" 2>/dev/null; do
		rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status")
		if [ "${rss:-0}" -gt "$max" ]; then
			max=$rss
			cat "/proc/$pid/smaps" >"$work/smaps.peak" 2>/dev/null
			cat "/proc/$pid/status" >"$work/status.peak" 2>/dev/null
		fi
		sleep 1
	done
}
settle() { sync; echo 2 >/proc/sys/vm/drop_caches; sleep 1; }
phase() { # NAME: run the checkpoints, print a row each
	local name=$1 done=0 slab0 sunr0 n
	settle
	slab0=$(kb Slab) sunr0=$(kb SUnreclaim)
	for n in $points; do
		reads "$done" "$n"
		done=$n
		[ "$name" = bima ] && sleep 2 # let the daemon drain
		settle
		printf '| %s | %d | %+d kB | %+d kB | %d | %s | %s |\n' "$name" "$n" $(($(kb Slab) - slab0)) \
			$(($(kb SUnreclaim) - sunr0)) "$(ima_count)" "$(daemon_state "$name")" \
			"$(daemon_rss "$name")"
	done
}

echo "$policy" >"$work/policy"
"$top/bima" run --policy "$work/policy" --log-dir "$work/log" --snapshot-entries 0 \
	>"$work/bima.out" 2>&1 &
pid=$!
until grep -q 'measuring exec' "$work/bima.out"; do sleep 0.2; done
echo "Linux $(uname -r): kernel slab growth while root reads N new files"
echo
echo "| measured by | N | Slab | SUnreclaim | IMA list entries | lost | waiting for the TPM | status answered in | daemon RSS (anon/file/shmem) |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
sample_peak &
sampler=$!
phase bima
touch "$work/phase.done"
wait "$sampler"
hwm=$(awk '/^VmHWM/ { print $2 }' "/proc/$pid/status")
echo
awk '/^(VmRSS|RssAnon|RssFile|RssShmem):/ { printf "%s %s kB  ", $1, $2 } END { print "" }' \
	"$work/status.peak" | sed 's/^/At the largest RSS sampled (once a second): /'
daemon_maps "$work/smaps.peak"
echo "At the end of the phase:"
daemon_maps "/proc/$pid/smaps"
grep -E '^(Rss|Pss_Anon|Pss_File|Pss_Shmem|Anonymous):' "/proc/$pid/smaps_rollup" | tr -s ' \n' ' '
echo
echo "The daemon's errors and warnings, if any (the last 5):"
grep -iE 'error|warn' "$work/bima.out" | tail -n 5
echo "Times the TPM failed (its extends retried with backoff): $(grep -c 'TPM extend failed' "$work/bima.out");" \
	"rejoins that read the log again: $(grep -c 'reading the log again' "$work/bima.out")"
kill -TERM "$pid"
wait "$pid"
# What is still queued in the ring buffer is logged by the unload.
"$top/bima" stop --unload --log-dir "$work/log" >/dev/null 2>&1
logged=$("$top/bima" log --log-dir "$work/log" | grep -c " $work/files/")
lost=$("$top/bima" verify --log-dir "$work/log" | sed -n 's/^note: \([0-9]*\) measurement(s) lost.*/\1/p')
summary="bima logged $logged of the files, and counted ${lost:-0} lost in the log (on disk: $(du -sh "$work/log" | cut -f1)). The daemon's resident memory peaked at ${hwm:-?} kB."
echo "$summary"
[ "${BIMA_BENCH_BIMA_ONLY:-}" = 1 ] && exit 0
rm -rf "$work/files" && mkdir -p "$work/files"
echo "$policy" >/sys/kernel/security/ima/policy
phase "kernel IMA"
echo
echo "$summary"
