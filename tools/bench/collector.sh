#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The collector alone, on the host, as root: synthetic records of new files
# (a struct bima_event each, a path, a sha256 digest, four cgroups) are put
# into a real BPF ring buffer by a syscall program, then drained by the
# daemon's own code, ring buffer to entries to a durable log (fdatasync per
# round), and timed. First with no TPM, then with every entry also extended
# into a private swtpm (tests/tpm/swtpm.sh), as `bima run` does.
#
#   tools/bench/collector.sh [--records N] [--tpm-records M] [--runs R]
#                            [--template ima-ng|bima-ct] [--ascii] [--no-tpm]
#                            [--tcti TCTI] [--window BYTES] [--callgrind]
#
# N records a run (default 100000), M with swtpm (default 10000: about 5,000
# extends a second), R runs (default 5), the median last. durable_ms is
# when the log held every record; wall_ms, when the TPM held every entry;
# cpu_ms and user_ms, the CPU time it took. On a shared machine, compare
# the CPU columns (rec/cpu_s, cpu_ns): the wall time waits for the CPU and
# the disk others use.
# --ascii also keeps the ASCII list, as `bima run` does on PCR 10.
# --window keeps that many bytes of the entries waiting for the TPM in
# memory (default the daemon's 4 MiB), reading the rest back from the log;
# window_kB is the memory the queue took.
# --tcti extends into that TPM instead of a private swtpm, e.g. in a guest:
#   tools/vmtest/vmtest.sh tools/bench/collector.sh --tcti device:/dev/tpmrm0
# --callgrind counts instructions by function for one run of N records
# with no TPM (valgrind), which is repeatable on a shared machine.
# BIMA_BENCH_DIR is where the logs go (default a new dir under /tmp).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/.output/bench/collector
tpm=1 callgrind=0 tpm_records=10000 tcti= args=()
while [ $# -gt 0 ]; do
	case $1 in
	--records | --runs | --template | --window) args+=("$1" "$2") && shift 2 ;;
	--tpm-records) tpm_records=$2 && shift 2 ;;
	--ascii) args+=("$1") && shift ;;
	--no-tpm) tpm=0 && shift ;;
	--tcti) tcti=$2 && shift 2 ;;
	--callgrind) callgrind=1 && shift ;;
	-h | --help) sed -n '3,25s/^# \{0,1\}//p' "$0" && exit 0 ;;
	*) echo "collector.sh: unknown option $1" >&2 && exit 2 ;;
	esac
done
[ -x "$bench" ] || make -C "$top" .output/bench/collector >/dev/null
dir=${BIMA_BENCH_DIR:-$(mktemp -d /tmp/bima-bench-collector.XXXXXX)}

if [ $callgrind = 1 ]; then
	out=$dir/callgrind.out
	valgrind --tool=callgrind --toggle-collect=collector_bench --callgrind-out-file="$out" \
		"$bench" --runs 1 "${args[@]}" "$dir/notpm" 2>&1 |
		sed -n 's/.*refs: */instructions in the collector: /p'
	callgrind_annotate --inclusive=yes "$out" | grep -E '^ *[0-9,]+ \(' | grep -v '\?\?\?:(below' |
		head -40
	[ -n "${BIMA_BENCH_DIR:-}" ] || rm -rf "$dir"
	exit 0
fi

echo "== no TPM"
"$bench" "${args[@]}" "$dir/notpm"
if [ $tpm = 1 ] && [ -n "$tcti" ]; then
	TCTI=$tcti
elif [ $tpm = 1 ]; then
	# shellcheck source=tests/lib.sh
	. "$top/tests/lib.sh"
	# shellcheck source=tests/tpm/swtpm.sh
	. "$top/tests/tpm/swtpm.sh"
	swtpm_start
fi
if [ $tpm = 1 ]; then
	echo
	echo "== extended into $TCTI"
	"$bench" "${args[@]}" --records "$tpm_records" --tcti "$TCTI" "$dir/swtpm"
fi
[ -n "${BIMA_BENCH_DIR:-}" ] || rm -rf "$dir"
