#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# vmtest.sh - run a script inside a QEMU guest with a Debian kernel and a
# software TPM, chrooted into the host's root file system, or (--image) in a
# Debian 12 image booted from a disk with systemd. See README.md.

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly SELF_DIR
readonly EXIT_TIMEOUT=124
readonly EXIT_GUEST_FAILED=125
readonly MAX_BOOTS=5       # --image: boots a run may ask for
readonly POWEROFF_GRACE=60 # --image: seconds for systemd to power off

kernel=6.12
timeout=300
mem=1024
smp=1
icount=0
keep=0
verbose=0
extra_cmdline=
image=0
debs=()
image_packages=()
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
With --image, the guest boots a Debian 12 image (systemd) from a disk
instead, and runs SCRIPT when the boot is done.

options:
  --kernel 6.12|6.1   guest kernel (default: 6.12)
  --timeout SECONDS   wall-clock limit for the whole guest run (default: 300)
  --mem MB            guest memory (default: 1024)
  --smp N             guest vCPUs, each a host thread (default: 1)
  --cmdline ARGS      append ARGS to the guest kernel command line
  --icount            count time by guest instructions (QEMU -icount shift=0:
                      1 ns of guest clock per instruction), on one host
                      thread: CPU time the guest measures (bpf_stats'
                      run_time_ns) is then its instruction count, whatever
                      the load of the host; guest time runs slower than wall time
  --image             boot the Debian 12 image (build-image.sh, cached) from a
                      virtio disk, systemd as PID 1, and run SCRIPT from
                      its vmtest.service; SCRIPT must lie under the current
                      dir, which the guest sees read-only at the same path
  --deb FILE          (implies --image) install FILE with dpkg -i in the
                      image before its first boot; repeatable
  --image-package PKG (implies --image) build the image with Debian package
                      PKG too (e.g. initramfs-tools); repeatable
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
		--icount) icount=1 ;;
		--image) image=1 ;;
		--deb) need_value "$1" $# && debs+=("$2") && image=1 && shift ;;
		--image-package) need_value "$1" $# && image_packages+=("$2") && image=1 && shift ;;
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
	[[ $image -eq 0 || $script == "$(pwd -P)"/* ]] ||
		usage_error "with --image, SCRIPT must lie under the current dir ($(pwd -P))"
	local i
	for i in "${!debs[@]}"; do
		debs[i]=$(realpath -e -- "${debs[i]}" 2>/dev/null) || die "no such package: ${debs[i]}"
		dpkg-deb -f "${debs[i]}" Package >/dev/null 2>&1 || die "not a Debian package: ${debs[i]}"
	done
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

# Start swtpm on the state in $tmp/tpm: a new TPM the first time, the same
# one (its NV, seeds and keys; PCRs reset) for a reboot.
start_swtpm() {
	mkdir -p "$tmp/tpm"
	rm -f "$tmp/swtpm.sock"
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
	local dir=$1 cmdline="console=ttyS0 panic=-1 no_timer_check" accel=(-accel "tcg,thread=multi")
	# icount needs single-threaded TCG; sleep=on: an idle guest's clock follows wall time.
	[[ $icount -eq 0 ]] || accel=(-accel "tcg,thread=single" -icount "shift=0,sleep=on")
	[[ $verbose -eq 1 ]] || cmdline+=" quiet loglevel=1"
	[[ -n $extra_cmdline ]] && cmdline+=" $extra_cmdline"
	local root=(-initrd "$dir/initrd.cpio.gz"
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
	# The image: the run's own disk (a copy-on-write layer over the cached
	# image, kept over reboots), the run's packages and runner (tag vmtest)
	# and the caller's cwd (tag workdir).
	local initrd=$dir/initrd-image.cpio.gz
	# The guest left an initramfs of its own for the boots that follow (a
	# Debian one, from update-initramfs): it mounts the root by root=.
	if [[ $image -eq 1 && -s $tmp/results/boot-initrd ]]; then
		initrd=$tmp/results/boot-initrd
		cmdline+=" root=/dev/vda"
	fi
	[[ $image -eq 0 ]] || root=(-initrd "$initrd"
		-drive "file=$tmp/disk.qcow2,format=qcow2,if=virtio"
		-virtfs "local,path=$tmp/share,mount_tag=vmtest,security_model=none,readonly=on"
		-virtfs "local,path=$(pwd -P),mount_tag=workdir,security_model=none,readonly=on,multidevs=remap")
	# Appended to: a reboot starts another QEMU on the same console and output.
	qemu-system-x86_64 "${accel[@]}" -m "$mem" -smp "$smp" \
		-nodefaults -display none -no-reboot \
		-kernel "$dir/vmlinuz" "${root[@]}" -append "$cmdline" \
		-chardev file,id=con,path="$tmp/console.log",append=on -serial chardev:con \
		-chardev stdio,id=out,signal=off,logfile="$tmp/output",logappend=on -serial chardev:out \
		-virtfs local,path="$tmp/results",mount_tag=results,security_model=none \
		-chardev socket,id=chrtpm,path="$tmp/swtpm.sock" \
		-tpmdev emulator,id=tpm0,chardev=chrtpm -device tpm-tis,tpmdev=tpm0 \
		</dev/null 2>"$tmp/qemu.err" &
	qemu_pid=$!
	if [[ $verbose -eq 1 && -z $tail_pid ]]; then
		tail -n +1 -F "$tmp/console.log" >&2 2>/dev/null &
		tail_pid=$!
	fi
}

# Wait for QEMU to exit; return 1 if the deadline passes first, or (image
# mode) if systemd does not power off within POWEROFF_GRACE s of the status.
wait_qemu() {
	local grace=
	while kill -0 "$qemu_pid" 2>/dev/null; do
		((SECONDS < deadline)) || return 1
		if [[ $image -eq 1 && -f $tmp/results/status ]]; then
			: "${grace:=$((SECONDS + POWEROFF_GRACE))}"
			((SECONDS < grace)) || return 1
		fi
		sleep 0.2
	done
	wait "$qemu_pid" || true
	qemu_pid=''
}

# --image: the cached image with the packages' dependencies, a disk of the
# run's own over it, and the share the guest installs and runs from.
prepare_image() {
	local deps=("${image_packages[@]}") deb img
	for deb in "${debs[@]}"; do
		# Each dependency's first alternative, without its version.
		mapfile -t -O "${#deps[@]}" deps < <({
			dpkg-deb -f "$deb" Depends
			dpkg-deb -f "$deb" Pre-Depends
		} |
			tr ',' '\n' | sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep -v '^$')
	done
	# shellcheck disable=SC2046 # a word per package
	img=$("$SELF_DIR/build-image.sh" $(printf '%s\n' "${deps[@]}" | sort -u) | tail -n1) ||
		die "build-image.sh failed"
	qemu-img create -q -f qcow2 -F raw -b "$img" "$tmp/disk.qcow2" ||
		die "qemu-img create over $img failed"
	mkdir -p "$tmp/share/debs"
	for deb in "${debs[@]}"; do
		cp "$deb" "$tmp/share/debs/" || die "cannot copy $deb"
	done
	cp "$SELF_DIR/guest-run.sh" "$tmp/results/env" "$tmp/share/"
}

# --image: the guest powered off without a status, having asked for a reboot
# (guest-run.sh): boot the same disk again, with the same TPM.
reboot_requested() {
	[[ $image -eq 1 && -f $tmp/results/reboot && ! -f $tmp/results/status ]] || return 1
	rm -f "$tmp/results/reboot"
	boots=$((boots + 1))
	((boots <= MAX_BOOTS)) || die "the guest asked for more than $MAX_BOOTS boots"
	echo "vmtest: guest reboots (boot $boots)" >&2
	wait "$swtpm_pid" 2>/dev/null || true # --terminate: it ends with QEMU
	swtpm_pid=''
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
	local dir status deadline boots=1
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
	[[ $image -eq 0 ]] || prepare_image

	deadline=$((SECONDS + timeout))
	while :; do
		start_swtpm
		start_qemu "$dir"
		if ! wait_qemu; then
			[[ -f $tmp/results/status ]] ||
				diagnose "$EXIT_TIMEOUT" "guest did not finish within $timeout s"
			echo "vmtest: guest did not power off after the script ended" >&2
		fi
		reboot_requested || break
	done
	[[ -f $tmp/results/status ]] ||
		diagnose "$EXIT_GUEST_FAILED" "guest stopped without an exit status"
	status=$(cat "$tmp/results/status")
	[[ $status =~ ^[0-9]+$ ]] || die "bad exit status from the guest: $status"
	exit "$status"
}

main "$@"
