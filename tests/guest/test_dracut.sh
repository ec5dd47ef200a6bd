#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# No unmeasured window at boot, with dracut: the Debian 12 image with
# dracut (not initramfs-tools), bima installed from its package, boots the
# initramfs dracut builds in the guest with bima's module; systemd is in
# the image, so dracut's systemd module is in the initramfs and bima's
# unit bima-initrd.service starts and hands over bima there. Kernel IMA's
# tcb policy (ima_policy=tcb) measures beside bima (PCR 11), so that one
# boot gives both lists. Boot 1 (vmtest's own initramfs): give the image
# the kernel's modules, run dracut, hand its initramfs to vmtest
# (results/boot-initrd) and reboot. Boot 2 (dracut's initramfs): bima ran
# in the initramfs, from before dracut's cmdline hooks and udev, and
# stopped as it switched root, leaving no mount behind; bima.service
# joined its log and adopted the pins; every file IMA measured from
# dracut-cmdline on is in bima's log (and so from the real root's first
# on); `bima verify` passes for the boot's epoch.
# BIMA_TEST_DRACUT_SYSTEMD=off builds it without systemd (dracut --omit
# systemd): bima's cmdline hook starts bima, its pre-pivot hook hands it
# over, and from the cmdline hook after bima's on, IMA measures nothing
# bima does not. BIMA_TEST_DRACUT_MODULE=off builds the initramfs without
# bima's module: the test must then fail.
# vmtest-options: --image --image-package dracut --deb .output/deb/bima_*.deb --cmdline ima_policy=tcb --timeout 1800
# vmtest-kernels: 6.12
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
work=/var/tmp/dracut-test
. "$top/tests/guest/image.sh"

module=/usr/lib/dracut/modules.d/90bima
systemd=${BIMA_TEST_DRACUT_SYSTEMD:-on}

boot_1() {
	check_eq "bima is installed from its package" "$(dpkg-query -W -f '${db:Status-Status}' bima)" installed
	check_eq "dracut is installed" "$(dpkg-query -W -f '${db:Status-Status}' dracut)" installed
	check "the package installs the dracut module" test -x "$module/module-setup.sh"
	install_modules
	# Beside kernel IMA, which measures into PCR 10 under ima_policy=tcb.
	echo "pcr = 11" >>/etc/bima/bima.conf
	if [ "${BIMA_TEST_DRACUT_MODULE:-}" = off ]; then
		echo "# BIMA_TEST_DRACUT_MODULE=off: the initramfs is built without bima's module"
		rm -r "$module"
	fi
	# Not host-only: the image's build host is not the guest; the disk's
	# and ext4's drivers loaded by name. bima's module is in by its check().
	local omit=()
	if [ "$systemd" = off ]; then
		echo "# BIMA_TEST_DRACUT_SYSTEMD=off: an initramfs without systemd (dracut --omit systemd)"
		omit=(--omit systemd)
	fi
	dracut --force --no-hostonly --force-drivers "virtio_blk ext4" "${omit[@]}" \
		"/boot/initrd.img-$ver" "$ver" >"$work/dracut" 2>&1
	check_eq "dracut for $ver (0)" $? 0
	grep -Ei 'bima|error|systemd' "$work/dracut" | sed 's/^/# dracut: /'
	lsinitrd "/boot/initrd.img-$ver" >"$work/lsinitrd"
	grep -E 'bima|^dracut modules|^systemd$' "$work/lsinitrd" | sed 's/^/# lsinitrd: /'
	if [ "$systemd" = off ]; then
		check "the initramfs runs no systemd" not_grep '^systemd$' "$work/lsinitrd"
	else
		check_grep "the initramfs runs systemd (dracut's systemd module)" '^systemd$' "$work/lsinitrd"
	fi
	if [ "${BIMA_TEST_DRACUT_MODULE:-}" = off ]; then
		:
	elif [ "$systemd" = off ]; then
		check_grep "the initramfs holds bima" ' usr/sbin/bima$' "$work/lsinitrd"
		check_grep "and its cmdline hook" 'hooks/cmdline/00-bima-start\.sh$' "$work/lsinitrd"
		check_grep "and its pre-pivot hook" 'hooks/pre-pivot/99-bima-handover\.sh$' "$work/lsinitrd"
		check "and not its unit" not_grep 'bima-initrd\.service' "$work/lsinitrd"
	else
		check_grep "the initramfs holds bima" ' usr/sbin/bima$' "$work/lsinitrd"
		check_grep "and the TPM's TCTI, which bima loads at run time" 'libtss2-tcti-device\.so\.0' "$work/lsinitrd"
		check_grep "and its settings" ' etc/bima/bima\.conf$' "$work/lsinitrd"
		check_grep "and bima-initrd.service, wanted by sysinit.target" \
			'sysinit\.target\.wants/bima-initrd\.service -> \.\./bima-initrd\.service$' "$work/lsinitrd"
		check_grep "and bima-functions" ' scripts/bima-functions$' "$work/lsinitrd"
	fi
	cp "/boot/initrd.img-$ver" "$results/boot-initrd"
	[ "$failures" -eq 0 ] && touch "$results/reboot"
}

boot_2() {
	local epoch boundary after
	check_grep "the kernel booted dracut's initramfs (root=)" 'root=/dev/vda' /proc/cmdline
	check_grep "kernel IMA measures (ima_policy=tcb)" 'ima_policy=tcb' /proc/cmdline
	journalctl -b -u bima-initrd.service -o short-monotonic >"$work/initrd.journal"
	sed 's/^/# bima-initrd.service: /' "$work/initrd.journal" | tail -n 20
	journalctl -b -o cat | grep -E '^umount: ' | sed 's/^/# journal: /'
	if [ "$systemd" = off ]; then
		check "no bima-initrd.service ran" not_grep 'bima-initrd' "$work/initrd.journal"
	fi
	check_initramfs_ran
	check "the handover unmounted what it bound (no umount: in its unit's journal)" \
		not_grep 'umount:' "$work/initrd.journal"
	check "nor in the kernel's log (the hooks' output)" not_grep 'umount:' "$work/kmsg"
	check_eq "no bind mount of a library is left (/proc/self/mountinfo)" \
		"$(grep -c 'x86_64-linux-gnu/lib' /proc/self/mountinfo)" 0
	check_joined
	take_lists

	# dracut-cmdline.service starts after bima-initrd.service (Before=):
	# from its exec on, bima's hooks were attached. The real root's first
	# file of its own that IMA measures: vmtest.service's unit, which
	# systemd reads (its exec of systemd is no entry: IMA adds no entry
	# whose digest and path it has, and the initramfs's /init is the same
	# systemd at the same path).
	# Without systemd: the cmdline hook that IMA measured after bima's.
	if [ "$systemd" = off ]; then
		after=$(awk '$2 ~ /\/hooks\/cmdline\/00-bima-start\.sh$/ { s = 1; next }
			s && $2 ~ /\/hooks\// { print NR; exit }' "$work/ima")
	else
		after=$(ima_entry_of '$2 == "/usr/bin/dracut-cmdline"')
	fi
	boundary=$(ima_entry_of '$2 == "/etc/systemd/system/vmtest.service"')
	echo "# IMA: the initramfs's first after bima's start, $(sed -n "${after:-0}p" "$work/ima" 2>/dev/null), is its entry ${after:-none}; the real root's vmtest.service, ${boundary:-none}"
	check "IMA measured the initramfs's next step after bima's start" test -n "$after"
	check "and the real root's vmtest.service after it" test "${boundary:-0}" -gt "${after:-0}"
	find_missing
	echo "# IMA's entries not in bima's log:"
	head -n 40 "$work/missing" | sed 's/^/#   /'
	check_eq "every file IMA measured from the real root's first on is in bima's log (missing)" \
		"$(missing_from "$boundary")" 0
	check_eq "every file IMA measured from the initramfs's next step after bima's start on is in bima's log (missing)" \
		"$(missing_from "$after")" 0
	# That step itself may be bima's first: under load, bima's start may
	# leave no wait of its own for it to measure.
	check_first_by "${after:-0}" "by that step"
	check_verified
}

case $VMTEST_BOOT in
1) boot_1 ;;
2) boot_2 ;;
*) not_ok "a third boot" "VMTEST_BOOT=$VMTEST_BOOT" ;;
esac
done_testing
