#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# How fast a log verifies, in entries replayed per second: `bima verify`
# against the TPM, `bima verify` offline (a quote bundle and the exported
# AK, no TPM), and `evmctl ima_measurement` (ima-evm-utils) on the same
# list, the segments concatenated. On the host, with a private swtpm: the
# test driver tpm-writer writes and extends the log through the daemon's own
# code, N synthetic ima-ng entries in PCR 11 (plus the epoch's
# boot_aggregate), grown from one checkpoint to the next, in one segment.
#
#   tools/bench/verify.sh [--cpu] [--runs R] [--banks LIST] [ENTRIES...]
#                                                  (R 3, "10000 100000")
#
# --cpu times each run by its CPU time instead of the wall clock: steadier
# on a shared machine. It is perf stat's task-clock (every thread, to the
# microsecond) where perf runs, else user + system from /usr/bin/time, in
# 10 ms steps: too coarse for runs of a tenth of a second. --banks LIST
# (such as sha1,sha256, what many hardware TPMs have) allocates only those
# PCR banks in the swtpm before the log is written (tpm2_pcrallocate and a
# TPM reset); by default it has sha1, sha256, sha384 and sha512.
#
# Each verifier runs R times per checkpoint; the table has the median wall
# time, entries per second, and the time over evmctl's. Every run must
# verify (bima: exit 0 and "verified"; evmctl: "Matched per TPM bank
# calculated digest(s).", as it exits 0 even when it read no PCR), or the
# script stops. evmctl is given the sha1 and sha256 PCR values in files
# (read before its timing starts; it takes two banks at most), and replays
# those two banks; bima replays every bank the TPM has (four on swtpm) and
# checks each entry's template hash. BIMA_OUTPUT=DIR takes bima and
# tpm-writer from DIR instead of .output/ (built there if missing).
# The default run takes 15 to 20 s, about half of it writing the log.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
runs=3
cpu=
if [ "${1:-}" = --cpu ]; then
	cpu=1
	shift
fi
if [ "${1:-}" = --runs ]; then
	runs=${2:-}
	shift 2
fi
banks=
if [ "${1:-}" = --banks ]; then
	banks=${2:-}
	shift 2
	case ,$banks, in
	,, | *[!a-z0-9,]* | *,,*)
		echo "usage: $0 --banks: a list such as sha1,sha256, not \"$banks\"" >&2
		exit 2
		;;
	esac
fi
points=$(printf '%s\n' "${@:-10000 100000}" | tr ' ' '\n' | grep -v '^$' | sort -n -u)
for n in $points $runs; do
	case $n in
	'' | *[!0-9]* | 0)
		echo "usage: $0 [--cpu] [--runs R] [ENTRIES...]: positive integers, not \"$n\"" >&2
		exit 2
		;;
	esac
done

out=${BIMA_OUTPUT:-$top/.output}
bima=$out/bima
writer=$out/tests/tpm-writer
if [ ! -x "$bima" ] || [ ! -x "$writer" ]; then
	if [ -n "${BIMA_OUTPUT:-}" ]; then
		make -C "$top" OUTPUT="$out" "$bima" "$writer" >/dev/null
	else
		make -C "$top" all unit >/dev/null
	fi || exit 1
fi
command -v evmctl >/dev/null || { echo "evmctl is not installed (ima-evm-utils)" >&2; exit 1; }
cpu_by=
if [ -n "$cpu" ]; then
	if perf stat -x, -o /dev/null -e task-clock true 2>/dev/null; then
		cpu_by="perf stat task-clock"
	elif [ -x /usr/bin/time ]; then
		cpu_by="user + system, /usr/bin/time"
	else
		echo "--cpu needs perf or /usr/bin/time (GNU time)" >&2
		exit 1
	fi
fi
command -v tpm2_pcrread >/dev/null || { echo "tpm2_pcrread is not installed (tpm2-tools)" >&2; exit 1; }

. "$top/tests/lib.sh"
. "$top/tests/tpm/swtpm.sh"
swtpm_start || exit 1
work=$swtpm_dir
if [ -n "$banks" ]; then
	alloc=
	for b in sha1 sha256 sha384 sha512; do
		case ,$banks, in
		*,$b,*) alloc=$alloc+$b:all ;;
		*) alloc=$alloc+$b:none ;;
		esac
	done
	tpm2_pcrallocate -T "$TCTI" "${alloc#+}" >"$work/alloc" 2>&1 &&
		swtpm_restart || { echo "verify.sh: cannot allocate $banks" >&2; cat "$work/alloc" >&2; exit 1; }
fi
logs=$work/logs
nonce=0011

die() { # MESSAGE [FILE]: stop, showing FILE
	echo "verify.sh: $1" >&2
	[ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -n 20 >&2
	exit 1
}
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# pcr_files: the TPM's sha1 and sha256 PCRs 0-23 as evmctl reads them,
# "PCR-NN: hex" in $work/pcrs.BANK
pcr_files() {
	local all
	all=$(seq -s, 0 23)
	rm -f "$work"/pcrs.*
	tpm2_pcrread -T "$TCTI" "sha1:$all+sha256:$all" >"$work/pcrread" 2>&1 ||
		die "tpm2_pcrread failed" "$work/pcrread"
	awk -v dir="$work" '
		/^ *[a-z0-9]+:$/ { bank = $1; sub(":", "", bank); next }
		bank != "" && /0x/ {
			line = $0; sub(/^ */, "", line); split(line, f, /[ :]+/)
			v = tolower(f[2]); sub(/^0x/, "", v)
			printf "PCR-%02d: %s\n", f[1], v > (dir "/pcrs." bank)
		}' "$work/pcrread"
	for bank in sha1 sha256; do
		[ "$(grep -c '^PCR-[0-9][0-9]: [0-9a-f]*$' "$work/pcrs.$bank" 2>/dev/null)" = 24 ] ||
			die "no 24 $bank PCR values from tpm2_pcrread" "$work/pcrread"
	done
}

# timed NAME ENTRIES COMMAND...: run COMMAND $runs times, check each run's
# output for its verdict, and print the median seconds
timed() {
	local name=$1 entries=$2 t0 t1 rc
	shift 2
	: >"$work/times"
	for _ in $(seq "$runs"); do
		t0=$(now)
		case $cpu_by in
		perf*) perf stat -x, -o "$work/cpu" -e task-clock "$@" >"$work/run.out" 2>&1 ;;
		user*) /usr/bin/time -f '%U %S' -o "$work/cpu" "$@" >"$work/run.out" 2>&1 ;;
		*) "$@" >"$work/run.out" 2>&1 ;;
		esac
		rc=$?
		t1=$(now)
		case $cpu_by in # seconds
		perf*) read -r t0 t1 < <(awk -F, '/task-clock/ { print 0, $1 / 1000 }' "$work/cpu") ;;
		user*) read -r t0 t1 < <(awk '{ print 0, $1 + $2 }' "$work/cpu") ;;
		esac
		case $name in
		evmctl)
			[ $rc = 0 ] && grep -qx 'Matched per TPM bank calculated digest(s).' "$work/run.out" ||
				die "evmctl did not match the PCRs (exit $rc): $*" "$work/run.out"
			;;
		*)
			[ $rc = 0 ] && grep -q ": $entries entries in [0-9]* segment(s): verified$" "$work/run.out" ||
				die "$name did not verify $entries entries (exit $rc): $*" "$work/run.out"
			;;
		esac
		echo "$t0 $t1" | awk '{ printf "%.6f\n", $2 - $1 }' >>"$work/times"
	done
	median <"$work/times"
}

row() { # NAME ENTRIES SECONDS EVMCTL_SECONDS
	awk -v name="$1" -v n="$2" -v s="$3" -v e="$4" 'BEGIN {
		printf "| %s | %d | %.3f s | %.0f | %.2f |\n", name, n, s, n / s, s / e }'
}

echo "$("$bima" version 2>/dev/null | head -1) ($(git -C "$top" describe --always --dirty 2>/dev/null)), $(evmctl --version | head -1), Linux $(uname -r)," \
	"$(nproc) CPU(s): $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "median of $runs runs${cpu:+, CPU time ($cpu_by)}; TPM banks: $(tpm2_getcap -T "$TCTI" pcrs |
	awk '/- [a-z0-9]+: \[ [0-9]/ { sub(":", "", $2); printf "%s%s", n++ ? "," : "", $2 }');" \
	"ratio: time over evmctl's"
echo
echo "| verifier | entries | median time | entries/s | ratio |"
echo "| --- | --- | --- | --- | --- |"
done=0
for n in $points; do
	if [ "$n" -gt "$done" ]; then
		"$writer" "$TCTI" "$logs" 11 "count:$((n - done))" >"$work/writer.out" 2>&1 ||
			die "tpm-writer failed" "$work/writer.out"
		done=$n
	fi
	entries=$(awk 'NF == 2 && $2 ~ /^[0-9]+$/ { e = $2 } END { print e }' "$work/writer.out")
	[ -n "$entries" ] || die "tpm-writer did not say how many entries" "$work/writer.out"

	cat "$logs"/epoch-*/segment-*.bin >"$work/list"
	pcr_files
	"$bima" ak export --log-dir "$logs" --tcti "$TCTI" >"$work/ak.pem" 2>"$work/ak.err" ||
		die "bima ak export failed" "$work/ak.err"
	rm -rf "$work/bundle"
	"$bima" quote --log-dir "$logs" --tcti "$TCTI" --pcr 11 --nonce "$nonce" --out "$work/bundle" \
		>"$work/quote.out" 2>&1 || die "bima quote failed" "$work/quote.out"

	e=$(timed evmctl "$entries" evmctl ima_measurement --ignore-violations \
		--pcrs "sha1,$work/pcrs.sha1" --pcrs "sha256,$work/pcrs.sha256" "$work/list") || exit 1
	b=$(timed "bima verify" "$entries" "$bima" verify --log-dir "$logs" --tcti "$TCTI") || exit 1
	q=$(timed "bima verify (quote)" "$entries" "$bima" verify --log-dir "$work/bundle" \
		--quote "$work/bundle/quote" --ak "$work/ak.pem" --nonce "$nonce") || exit 1
	row "evmctl ima_measurement" "$entries" "$e" "$e"
	row "bima verify, TPM" "$entries" "$b" "$e"
	row "bima verify, quote bundle" "$entries" "$q" "$e"
done
