#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dracut module of bima: the same as the initramfs-tools hook
# (../../initramfs-tools): bima, its libraries, its TCTI and settings go
# into the initramfs; a cmdline hook starts `bima run` with its log in
# /run/bima/initramfs-log, a pre-pivot hook stops it with the real root's
# bima recorded as its successor, and bima.service's ExecStartPre joins
# the log. UNTESTED: no test boots a dracut initramfs (the test image uses
# initramfs-tools); see docs/deployment.md.

check() {
	require_binaries /usr/sbin/bima || return 1
	return 255 # only when asked for (add_dracutmodules+=" bima ")
}

depends() {
	return 0
}

# shellcheck disable=SC2154 # moddir: set by dracut
install() {
	# In a systemd initramfs, hooks run from oneshot units and systemd
	# ends their processes before switch-root: the daemon needs a unit of
	# its own there, which this module does not have yet.
	if dracut_module_included systemd; then
		derror "bima: not for an initramfs with systemd (the systemd module): bima is not put in it"
		return 1
	fi
	inst_binary /usr/sbin/bima
	inst_libdir_file "libtss2-tcti-device.so*"
	inst_multiple -o /etc/bima/bima.conf /etc/default/bima
	inst_multiple sleep cat mount umount mv
	inst_simple "$moddir/bima-functions" /scripts/bima-functions
	inst_hook cmdline 00 "$moddir/bima-start.sh"
	inst_hook pre-pivot 99 "$moddir/bima-handover.sh"
}
