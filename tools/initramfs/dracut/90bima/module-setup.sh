#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# dracut module of bima: the same as its initramfs-tools hook
# (../../initramfs-tools): bima, its libraries, its TCTI and settings go
# into the initramfs with bima-functions, which starts `bima run` with its
# log in /run/bima/initramfs-log and, the real root mounted, stops it with
# the real root's bima recorded as its successor; bima.service's
# ExecStartPre joins the log. In an initramfs with systemd (dracut's
# systemd module, the default where systemd is installed) a unit of its
# own, bima-initrd.service, does both; without systemd, a cmdline hook
# starts it and a pre-pivot hook hands it over. Included whenever bima is
# installed (check), as the initramfs-tools hook is; omit_dracutmodules+="
# bima " or bima.initramfs=off on the kernel command line leaves it out.
# See bima's docs/deployment.md, "From the initramfs on".

check() {
	require_binaries /usr/sbin/bima || return 1
	return 0
}

depends() {
	return 0
}

# shellcheck disable=SC2154 # moddir, initdir, systemdsystemunitdir: dracut's
install() {
	inst_binary /usr/sbin/bima
	# libtss2-tctildr loads the TCTI at run time (dlopen): ldd does not list it.
	inst_libdir_file "libtss2-tcti-device.so*"
	# The installed daemon's settings and policy file: the initramfs's one
	# logs, extends and measures as it will, in a log of its own.
	local policy
	policy=$(sed -n 's/^[[:space:]]*policy[[:space:]]*=[[:space:]]*//p' /etc/bima/bima.conf 2>/dev/null | tail -n1)
	# shellcheck disable=SC2086 # $policy: no word when bima.conf names none
	inst_multiple -o /etc/bima/bima.conf /etc/default/bima $policy
	inst_multiple sh sleep cat mount umount mv
	inst_simple "$moddir/bima-functions" /scripts/bima-functions
	if dracut_module_included systemd; then
		inst_simple "$moddir/bima-initrd.service" "$systemdsystemunitdir/bima-initrd.service"
		mkdir -p "$initdir$systemdsystemunitdir/sysinit.target.wants"
		ln -sf ../bima-initrd.service "$initdir$systemdsystemunitdir/sysinit.target.wants/bima-initrd.service"
	else
		inst_hook cmdline 00 "$moddir/bima-start.sh"
		inst_hook pre-pivot 99 "$moddir/bima-handover.sh"
	fi
}
