#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# No unmeasured window at boot: bima from the initramfs on. The Debian 12
# image, bima installed from its package, boots Debian's initramfs built
# in the guest by update-initramfs with bima's initramfs-tools hook, under
# kernel IMA's tcb policy (ima_policy=tcb), bima on PCR 11 beside it, so
# that one boot gives both lists. Boot 1 (vmtest's own initramfs): give
# the image the kernel's modules, build the initramfs, hand it to vmtest
# (results/boot-initrd) and reboot. Boot 2 (Debian's initramfs): bima ran
# in the initramfs and stopped there, bima.service joined its log and
# adopted the pins; every file IMA measured from the real root's first
# exec (systemd) on is in bima's log, and so are all IMA measured after
# bima attached its hooks in the initramfs: bima's first measured exec is
# an initramfs file; `bima verify` passes for the boot's epoch, replayed
# from its boot_aggregate through the initramfs's entries.
# BIMA_TEST_INITRAMFS_HOOK=off builds the initramfs without bima's hook:
# the test must then fail (what ran before bima.service is not in its log).
# vmtest-options: --image --image-package initramfs-tools --deb .output/deb/bima_*.deb --cmdline ima_policy=tcb --timeout 1800
# vmtest-kernels: 6.12
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
work=/var/tmp/initramfs-test
. "$top/tests/guest/image.sh"

boot_1() {
	check_eq "bima is installed from its package" "$(dpkg-query -W -f '${db:Status-Status}' bima)" installed
	check "the package installs the initramfs hook" test -x /usr/share/initramfs-tools/hooks/bima
	install_modules
	printf '%s\n' virtio_blk ext4 netfs 9pnet 9pnet_virtio 9p >/etc/initramfs-tools/modules
	sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
	# Beside kernel IMA, which measures into PCR 10 under ima_policy=tcb.
	echo "pcr = 11" >>/etc/bima/bima.conf
	if [ "${BIMA_TEST_INITRAMFS_HOOK:-}" = off ]; then
		echo "# BIMA_TEST_INITRAMFS_HOOK=off: the initramfs is built without bima's hook"
		rm /usr/share/initramfs-tools/hooks/bima
	fi
	update-initramfs -c -k "$ver" >"$work/update-initramfs" 2>&1
	check_eq "update-initramfs -c -k $ver (0)" $? 0
	sed 's/^/# /' "$work/update-initramfs"
	lsinitramfs "/boot/initrd.img-$ver" >"$work/lsinitramfs"
	if [ "${BIMA_TEST_INITRAMFS_HOOK:-}" != off ]; then
		check_grep "the initramfs holds bima" '^usr/sbin/bima$' "$work/lsinitramfs"
		check_grep "and the TPM's TCTI, which bima loads at run time" 'libtss2-tcti-device\.so\.0' "$work/lsinitramfs"
		check_grep "and its settings" '^etc/bima/bima\.conf$' "$work/lsinitramfs"
		check_grep "and its init-top script" '^scripts/init-top/bima$' "$work/lsinitramfs"
		check_grep "and its init-bottom script" '^scripts/init-bottom/bima$' "$work/lsinitramfs"
	fi
	cp "/boot/initrd.img-$ver" "$results/boot-initrd"
	[ "$failures" -eq 0 ] && touch "$results/reboot"
}

boot_2() {
	local epoch boundary next
	check_grep "the kernel booted Debian's initramfs (root=)" 'root=/dev/vda' /proc/cmdline
	check_grep "kernel IMA measures (ima_policy=tcb)" 'ima_policy=tcb' /proc/cmdline
	check_initramfs_ran
	check_joined
	take_lists

	# Where the real root's first exec is in IMA's list: systemd, by run-init.
	boundary=$(ima_entry_of '$2 == "/usr/lib/systemd/systemd"')
	echo "# IMA: the real root's first exec, /usr/lib/systemd/systemd, is its entry ${boundary:-none}"
	check "IMA measured systemd's exec" test -n "$boundary"
	find_missing
	awk -v b="${boundary:-0}" '$1 >= b' "$work/missing" | head -n 10 | sed 's/^/# missing after systemd: /'
	check_eq "every file IMA measured from the real root's first exec on is in bima's log (missing)" \
		"$(missing_from "$boundary")" 0
	echo "# IMA's entries before bima's hooks were attached in the initramfs, not in bima's log:"
	sed 's/^/#   /' "$work/missing" | head -n 40
	check_first_by $((${boundary:-1} - 1)) "before the real root's first exec"
	# Once bima's init-top script returned (its hooks attached), IMA
	# measured nothing that bima did not: from the next script of the
	# initramfs that IMA measured on.
	next=$(awk '$2 == "/scripts/init-top/bima" { s = 1; next }
		s && $2 ~ /^\/scripts\// && $2 != "/scripts/bima-functions" { print NR; exit }' "$work/ima")
	echo "# IMA: the initramfs's script after bima's: $(sed -n "${next:-0}p" "$work/ima" 2>/dev/null), entry ${next:-none}"
	check "IMA measured a script of the initramfs after bima's" test -n "$next"
	check_eq "IMA measured nothing from there on that bima did not log (missing)" "$(missing_from "$next")" 0
	check_verified
}

case $VMTEST_BOOT in
1) boot_1 ;;
2) boot_2 ;;
*) not_ok "a third boot" "VMTEST_BOOT=$VMTEST_BOOT" ;;
esac
done_testing
