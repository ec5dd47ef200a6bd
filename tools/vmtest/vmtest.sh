#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmtest.sh - run a script inside a QEMU guest with a Debian kernel and a
# software TPM, chrooted into the host's root file system. See README.md.

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
readonly EXIT_TIMEOUT=124
readonly EXIT_GUEST_FAILED=125

kernel=6.12
timeout=300
mem=1024
smp=1
keep=0
verbose=0
extra_cmdline=
script=
args=()

tmp=
qemu_pid=
swtpm_pid=
tail_pid=

usage() {
	cat <<EOF
usage: ${0##*/} [options] SCRIPT [ARGS...]

Run SCRIPT with ARGS in a QEMU guest (Debian kernel, swtpm TPM), chrooted
into this host's root file system (read-only), with cwd = the current dir.
The script's output goes to stdout; vmtest.sh exits with its exit status.

options:
  --kernel 6.12|6.1   guest kernel (default: 6.12)
  --timeout SECONDS   wall-clock limit for the whole guest run (default: 300)
  --mem MB            guest memory (default: 1024)
  --smp N             guest vCPUs, each a host thread (default: 1)
  --cmdline ARGS      append ARGS to the guest kernel command line
  --keep              keep the temp dir (console log, TPM state, results)
  -v                  stream the guest console, with kernel messages, to stderr
  -h, --help          show this help

In the guest: PATH=/usr/local/sbin:...:/bin HOME=/root VMTEST=1
VMTEST_KERNEL=6.12|6.1 VMTEST_RESULTS=/tmp/results (written back to the
host), plus CI and BIMA_* from the caller. /tmp and /run are tmpfs.

exit status: the script's, or 124 if the guest did not finish in time,
or 125 if the guest failed to boot or to run the script, or on any other
vmtest error. See tools/vmtest/README.md.
EOF
}

die() {
	echo "vmtest: $*" >&2
	exit "$EXIT_GUEST_FAILED"
}

usage_error() {
	echo "vmtest: $*" >&2
	echo "vmtest: try '${0##*/} --help'" >&2
	exit "$EXIT_GUEST_FAILED"
}

need_value() { # OPTION ARGC
	[[ $2 -ge 2 ]] || usage_error "option $1 needs a value"
}

parse_args() {
	while [[ $# -gt 0 ]]; do
		case "$1" in
		--kernel) need_value "$1" $# && kernel=$2 && shift ;;
		--timeout) need_value "$1" $# && timeout=$2 && shift ;;
		--mem) need_value "$1" $# && mem=$2 && shift ;;
		--smp) need_value "$1" $# && smp=$2 && shift ;;
		--cmdline) need_value "$1" $# && extra_cmdline=$2 && shift ;;
		--keep) keep=1 ;;
		-v) verbose=1 ;;
		-h | --help) usage && exit 0 ;;
		--) shift && break ;;
		-*) usage_error "unknown option $1" ;;
		*) break ;;
		esac
		shift
	done
	[[ $# -ge 1 ]] || usage_error "no SCRIPT given"
	[[ $kernel == 6.12 || $kernel == 6.1 ]] || usage_error "--kernel must be 6.12 or 6.1"
	[[ $timeout =~ ^[1-9][0-9]*$ ]] || usage_error "--timeout must be a number of seconds"
	[[ $mem =~ ^[1-9][0-9]*$ ]] || usage_error "--mem must be a number of MB"
	[[ $smp =~ ^[1-9][0-9]?$ ]] || usage_error "--smp must be a number of vCPUs, 1 to 99"
	script=$(realpath -e -- "$1" 2>/dev/null) || die "no such script: $1"
	[[ -f $script ]] || die "not a regular file: $1"
	args=("${@:2}")
}

# Print NAME='VALUE', quoted for sh.
emit() {
	local q=\'
	printf "%s='%s'\n" "$1" "${2//$q/$q\\$q$q}"
}

# The guest's instructions, sourced by the guest init.
write_env() {
	local quoted="" arg names
	for arg in "${args[@]}"; do
		quoted+=" '${arg//\'/\'\\\'\'}'"
	done
	names=$(compgen -e | grep '^BIMA_' | tr '\n' ' ' || true)
	{
		emit WORKDIR "$(pwd -P)"
		emit SCRIPT "$script"
		emit ARGS "$quoted"
		emit KERNEL "$kernel"
		[[ -v CI ]] && emit CI "$CI"
		emit BIMA_VARS "$names"
		for arg in $names; do
			emit "$arg" "${!arg}"
		done
	} >"$tmp/results/env"
}

# shellcheck disable=SC2317 # called from traps
cleanup() {
	local pid
	for pid in $qemu_pid $swtpm_pid $tail_pid; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $qemu_pid $swtpm_pid $tail_pid; do
		stop_process "$pid"
	done
	qemu_pid='' swtpm_pid='' tail_pid=''
	if [[ -n $tmp && -d $tmp ]]; then
		if [[ $keep -eq 1 ]]; then
			echo "vmtest: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
}

# Wait up to 5 s for PID to end after SIGTERM, then SIGKILL it.
# shellcheck disable=SC2317 # called from traps
stop_process() {
	local pid=$1 i
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# shellcheck disable=SC2317 # called from traps
on_signal() {
	echo "vmtest: interrupted" >&2
	exit "$1"
}

start_swtpm() {
	mkdir -p "$tmp/tpm"
	swtpm socket --tpm2 --tpmstate dir="$tmp/tpm" \
		--ctrl type=unixio,path="$tmp/swtpm.sock" \
		--log file="$tmp/swtpm.log" \
		--terminate --flags not-need-init,startup-clear </dev/null &
	swtpm_pid=$!
	local deadline=$((SECONDS + 10))
	until [[ -S $tmp/swtpm.sock ]]; do
		kill -0 "$swtpm_pid" 2>/dev/null || die "swtpm exited; see $tmp/swtpm.log"
		((SECONDS < deadline)) || die "swtpm socket did not appear within 10 s"
		sleep 0.1
	done
}

start_qemu() {
	# no_timer_check: under a loaded host, TCG can be too slow for the
	# kernel's IO-APIC timer check, which then panics the boot ("IO-APIC +
	# timer doesn't work!"); the emulated timer works, the check is skipped.
	local dir=$1 cmdline="console=ttyS0 panic=-1 no_timer_check"
	[[ $verbose -eq 1 ]] || cmdline+=" quiet loglevel=1"
	[[ -n $extra_cmdline ]] && cmdline+=" $extra_cmdline"
	qemu-system-x86_64 -accel tcg,thread=multi -m "$mem" -smp "$smp" \
		-nodefaults -display none -no-reboot \
		-kernel "$dir/vmlinuz" -initrd "$dir/initrd.cpio.gz" -append "$cmdline" \
		-chardev file,id=con,path="$tmp/console.log" -serial chardev:con \
		-chardev stdio,id=out,signal=off,logfile="$tmp/output" -serial chardev:out \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$tmp/results",mount_tag=results,security_model=none \
		-chardev socket,id=chrtpm,path="$tmp/swtpm.sock" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		</dev/null 2>"$tmp/qemu.err" &
	qemu_pid=$!
	if [[ $verbose -eq 1 ]]; then
		tail -n +1 -F --pid="$qemu_pid" "$tmp/console.log" >&2 2>/dev/null &
		tail_pid=$!
	fi
}

# Wait for QEMU to exit; return 1 if the deadline passes first.
wait_qemu() {
	local deadline=$((SECONDS + timeout))
	while kill -0 "$qemu_pid" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		sleep 0.2
	done
	wait "$qemu_pid" || true
	qemu_pid=''
}

# Explain a run that left no exit status, then exit CODE.
diagnose() {
	local code=$1 why=$2
	{
		if [[ -s $tmp/console.log ]]; then
			echo "vmtest: $why; last 30 console lines:"
			tr -d '\r' <"$tmp/console.log" | tail -n 30 | sed 's/^/  | /'
		else
			echo "vmtest: $why; the guest console is empty"
		fi
		if [[ -s $tmp/qemu.err ]]; then
			echo "vmtest: qemu stderr:"
			sed 's/^/  | /' "$tmp/qemu.err"
		fi
		[[ $keep -eq 1 ]] || echo "vmtest: re-run with --keep to keep the logs"
	} >&2
	exit "$code"
}

main() {
	parse_args "$@"
	local dir status
	dir=$("$SELF_DIR/fetch-kernel.sh" "$kernel" | tail -n1) ||
		die "fetch-kernel.sh $kernel failed"

	trap cleanup EXIT
	trap 'on_signal 130' INT
	trap 'on_signal 143' TERM
	trap 'on_signal 129' HUP
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmtest.XXXXXX")
	mkdir -p "$tmp/results"
	: >"$tmp/console.log"
	write_env

	start_swtpm
	start_qemu "$dir"
	if ! wait_qemu; then
		[[ -f $tmp/results/status ]] ||
			diagnose "$EXIT_TIMEOUT" "guest did not finish within $timeout s"
		echo "vmtest: guest did not power off after the script ended" >&2
	fi
	[[ -f $tmp/results/status ]] ||
		diagnose "$EXIT_GUEST_FAILED" "guest stopped without an exit status"
	status=$(cat "$tmp/results/status")
	[[ $status =~ ^[0-9]+$ ]] || die "bad exit status from the guest: $status"
	exit "$status"
}

main "$@"
