#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A real burst: root unpacks a Debian package of thousands of files into
# tmpfs and reads every file of it once (as `dpkg --verify`, an indexer or a
# compiler would), with no measurement, with bima, and with the kernel's
# own IMA, under the same policy (every file root reads), side by side in
# one guest. For bima it also tells the most the ring buffer held while
# records waited to be logged (asked every 20 ms through the control
# socket, which costs the workload a little), what was lost, and how long
# after the end the log held every record and the TPM every entry: the
# figures that choose the ring buffer's default size.
#
#   tools/bench/unpack.sh [--kernel 6.12|6.1] [--smp N] [PACKAGE.deb]
#   BIMA_RUN_OPTS="--ringbuf-size 1048576" tools/bench/unpack.sh ...
#
# Without PACKAGE, Debian's linux-headers-*-common (about 9,400 files) is
# fetched once with apt-get download into .cache/bench. FILE_CHECK needs
# Linux 6.9 (file_post_open), so use 6.12. IMA goes last: its policy cannot
# be removed.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tools/bench/lib.sh"
if [ "${VMTEST:-}" != 1 ]; then
	pkg=
	for arg; do [[ $arg == *.deb ]] && pkg=$(realpath "$arg"); done
	if [ -z "$pkg" ]; then
		mkdir -p "$top/.cache/bench"
		pkg=$(ls "$top"/.cache/bench/linux-headers-*-common_*.deb 2>/dev/null | head -n 1)
		if [ -z "$pkg" ]; then
			name=$(apt-cache search --names-only '^linux-headers-[0-9.]+-[0-9]+-common$' |
				cut -d' ' -f1 | sort -V | tail -n 1)
			[ -n "$name" ] || { echo "unpack: no linux-headers-*-common package in apt's lists" >&2 && exit 1; }
			(cd "$top/.cache/bench" && apt-get -o APT::Sandbox::User=root download "$name") >&2 || exit 1
			pkg=$(ls "$top"/.cache/bench/"$name"_*.deb | head -n 1)
		fi
		set -- "$@" "$pkg"
	fi
	bench_guest "$0" BIMA_BENCH_PACKAGE "$pkg" "$@"
fi

pkg=$BIMA_BENCH_PACKAGE
work=/tmp/bench-unpack
mkdir -p "$work"
policy='measure func=FILE_CHECK mask=^MAY_READ uid=0'
files=$(dpkg-deb -c "$pkg" | grep -c '^-')

# Milliseconds the unpack and the reads took; with a FIFO, the end time
# (ms) is written to it.
# shellcheck disable=SC2120 # bench_bima_burst passes the FIFO
unpack() {
	local t0 t1
	rm -rf "$work/tree"
	t0=$(ms)
	dpkg-deb -x "$pkg" "$work/tree"
	find "$work/tree" -type f -print0 | xargs -0 cat >/dev/null
	t1=$(ms)
	[ -z "${1:-}" ] || echo "$t1" >"$1"
	echo $((t1 - t0))
}

unpack >/dev/null # warm the page cache
none1=$(unpack)

echo "$policy" >"$work/policy"
size=$(sed -n 's/.*--ringbuf-size[ =]\([0-9]*\).*/\1/p' <<<"${BIMA_RUN_OPTS:-}")
bench_bima_burst unpack "$work" peak
logged=$("$top/bima" log --log-dir "$work/log" | grep -c " $work/tree/")
none2=$(unpack)
none=$(((none1 + none2) / 2))

if bench_ima "$policy" 2>"$work/ima.err"; then
	ima=$(unpack)
else
	ima=-
fi

echo "Linux $(uname -r), $(nproc) vCPU(s), $(basename "$pkg"): $files files"
echo
bench_header
bench_row "unpack, then read every file" "$none" "$bench_ms" "$ima"
echo
echo "bima logged $logged of $files files, ${bench_lost:-?} lost. The ring buffer held at" \
	"most $bench_peak bytes of ${size:-4194304}; the log held every record $bench_durable ms" \
	"after the end, the TPM every entry $bench_extended ms after. The daemon used $bench_cpu" \
	"ms of CPU for them, $((bench_cpu * 1000 / files)) us a file."
