#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# guest-run.sh - the test runner of tools/vmtest's image mode. The image's
# vmtest.service runs it once the boot is done (after multi-user.target),
# from the host's 9p tag "vmtest" mounted at /run/vmtest, where vmtest.sh
# copied it with the run's env file.
#
# Mounts the results share at /tmp/results and the caller's cwd (9p tag
# "workdir", read-only) at its host path, and runs the script there with its
# output on /dev/ttyS1 (vmtest.sh's stdout). If the script exits 0 having
# created /tmp/results/reboot, the guest reboots: vmtest.sh boots the same
# disk again with the same TPM, and the script runs again with VMTEST_BOOT
# one higher. Otherwise the exit status goes to /tmp/results/status and the
# guest powers off, as an operator's `systemctl poweroff` does.

SHARE=/run/vmtest
BOOTS=/var/lib/vmtest/boot # in the image: how many boots ran a script
GUEST_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

say() {
	echo "vmtest-run: $*" >/dev/console
}

mount_9p() { # TAG DIR [EXTRA_OPTIONS]
	mkdir -p "$2" && mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000$3" "$1" "$2"
}

fatal() {
	say "FATAL: $*"
	systemctl --no-block poweroff
	exit 1
}

# Build "env -i VAR=... [/bin/sh] SCRIPT ARGS..." in the positional args, run it.
run_script() {
	set -- PATH="$GUEST_PATH" HOME=/root VMTEST=1 VMTEST_KERNEL="$KERNEL" \
		VMTEST_RESULTS=/tmp/results VMTEST_IMAGE=1 VMTEST_BOOT="$boot"
	[ -n "${CI+set}" ] && set -- "$@" "CI=$CI"
	for v in $BIMA_VARS; do
		eval "set -- \"\$@\" \"$v=\$$v\""
	done
	[ -x "$SCRIPT" ] || set -- "$@" /bin/sh
	set -- "$@" "$SCRIPT"
	eval "set -- \"\$@\" $ARGS"
	(cd "$WORKDIR" && exec env -i "$@") </dev/null >&3 2>&3 3>&-
}

main() {
	# Sets WORKDIR SCRIPT ARGS KERNEL BIMA_VARS, and maybe CI and BIMA_*.
	# shellcheck source=/dev/null
	. "$SHARE/env" || fatal "no env file in $SHARE"
	mount_9p results /tmp/results || fatal "cannot mount 9p tag results"
	mount_9p workdir "$WORKDIR" ",ro" || fatal "cannot mount 9p tag workdir at $WORKDIR"
	mkdir -p "${BOOTS%/*}"
	boot=$(($(cat "$BOOTS" 2>/dev/null || echo 0) + 1))
	echo "$boot" >"$BOOTS"
	sync

	exec 3>/dev/ttyS1 || fatal "no /dev/ttyS1"
	stty raw -echo <&3
	say "boot $boot: running $SCRIPT in $WORKDIR"
	run_script
	rc=$?
	# stty sets the mode with TCSADRAIN: it waits for the output to drain.
	stty raw -echo <&3
	if [ "$rc" -eq 0 ] && [ -e /tmp/results/reboot ]; then
		say "boot $boot: the script asks for a reboot"
		systemctl --no-block reboot
		exit 0
	fi
	say "boot $boot: script exited with status $rc"
	if ! { echo "$rc" >/tmp/results/status.new && mv /tmp/results/status.new /tmp/results/status; }; then
		fatal "cannot write the exit status"
	fi
	systemctl --no-block poweroff
}

main
