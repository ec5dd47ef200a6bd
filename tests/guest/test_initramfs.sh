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
[ "${VMTEST_IMAGE:-}" = 1 ] ||
	skip "boots the Debian image: tools/vmtest/vmtest.sh --image --image-package initramfs-tools --deb .output/deb/bima_*.deb --cmdline ima_policy=tcb $0"

bima=/usr/sbin/bima
results=$VMTEST_RESULTS
work=/var/tmp/initramfs-test
mkdir -p "$work"
ver=$(uname -r)
ima=/sys/kernel/security/ima/ascii_runtime_measurements

# wait_for SECONDS COMMAND...: until COMMAND succeeds; fails after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.5
	done
}

# The image has no kernel: the modules Debian's initramfs needs for the
# disk (virtio_blk, ext4) and vmtest.service (9p), from the kernel package
# vmtest boots, and its config (mkinitramfs reads it).
install_modules() {
	local src=$top/.cache/vmtest/$VMTEST_KERNEL/root m f
	for m in virtio_blk crc32c_generic crc16 mbcache jbd2 ext4 netfs fscache 9pnet 9pnet_virtio 9p; do
		f=$(find "$src/lib/modules/$ver/kernel" -name "$m.ko*" | head -n1)
		[ -n "$f" ] && install -D -m 0644 "$f" "/lib/modules/$ver/${f#"$src/lib/modules/$ver/"}"
	done
	cp "$src/lib/modules/$ver"/modules.{order,builtin,builtin.modinfo} "/lib/modules/$ver/"
	depmod "$ver"
	cp "$src/boot/config-$ver" /boot/
	printf '%s\n' virtio_blk ext4 netfs 9pnet 9pnet_virtio 9p >/etc/initramfs-tools/modules
	sed -i 's/^MODULES=.*/MODULES=list/' /etc/initramfs-tools/initramfs.conf
}

boot_1() {
	check_eq "bima is installed from its package" "$(dpkg-query -W -f '${db:Status-Status}' bima)" installed
	check "the package installs the initramfs hook" test -x /usr/share/initramfs-tools/hooks/bima
	install_modules
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

# ima_entries: "digest path" of each IMA entry but boot_aggregate and
# violations (a zero digest), in order.
ima_entries() {
	awk '$5 != "boot_aggregate" && $4 !~ /^sha[0-9]+:0+$/ { print $4, $5 }' "$ima"
}

boot_2() {
	local epoch boundary first first_at next missing_after n
	check_grep "the kernel booted Debian's initramfs (root=)" 'root=/dev/vda' /proc/cmdline
	check_grep "kernel IMA measures (ima_policy=tcb)" 'ima_policy=tcb' /proc/cmdline
	# The kernel's log, as journald took it: "bima-initramfs:" is the identifier.
	journalctl -b -t bima-initramfs -o cat >"$work/kmsg"
	sed 's/^/# kmsg: /' "$work/kmsg"
	check_grep "bima measured in the initramfs" '^bima run \(pid [0-9]+\) measures' "$work/kmsg"
	check_grep "and stopped there, the real root's bima its successor, its hooks left for bima.service" \
		"^bima run \\(pid [0-9]+\\) stopped, the real root's bima recorded as bima's code \\([1-9][0-9]* files\\)" "$work/kmsg"
	check_eq "bima.service is active" "$(systemctl is-active bima.service)" active
	check "bima answers on its control socket" wait_for 120 "$bima" status
	epoch=$("$bima" status | sed -n 's/^epoch: //p')
	echo "# epoch: $epoch"
	check "the initramfs's log of the epoch is in /run" test -d "/run/bima/initramfs-log/$epoch"
	journalctl -b -u bima.service -o cat >"$work/bima.journal"
	grep -E 'joined|continuing|adopted|initramfs' "$work/bima.journal" | sed 's/^/# journal: /'
	check_grep "bima.service joined the initramfs's log" \
		"joined the initramfs's log /run/bima/initramfs-log/$epoch into /var/lib/bima/$epoch" "$work/bima.journal"
	check_grep "and continued the epoch" "continuing epoch /var/lib/bima/$epoch" "$work/bima.journal"
	check_grep "and adopted the pins" 'adopted the BPF objects pinned in /sys/fs/bpf/bima' "$work/bima.journal"

	# IMA's list first; then bima's log, once what was measured until then is logged.
	ima_entries >"$work/ima"
	check "bima logged what its hooks queued" \
		wait_for 60 sh -c "[ \"\$($bima status | sed -n 's/^queued-bytes: //p')\" = 0 ]"
	"$bima" log >"$work/log" 2>&1
	awk '$3 != "" && $5 != "boot_aggregate" && $5 ~ /^\// { print $4, $5 }' "$work/log" >"$work/bima"
	echo "# IMA: $(wc -l <"$work/ima") entries; bima: $(wc -l <"$work/bima") file entries"
	echo "# IMA, its first measured files:"
	head -n 3 "$work/ima" | sed 's/^/#   /'
	echo "# bima, its first measured files:"
	head -n 3 "$work/bima" | sed 's/^/#   /'

	# Where the real root's first exec is in IMA's list: systemd, by run-init.
	boundary=$(awk '$2 == "/usr/lib/systemd/systemd" { print NR; exit }' "$work/ima")
	echo "# IMA: the real root's first exec, /usr/lib/systemd/systemd, is its entry ${boundary:-none}"
	check "IMA measured systemd's exec" test -n "$boundary"
	# IMA's entries (digest and path) not in bima's log, by number; reads
	# of bima's own log (bima log, the join) are not measured by bima, by
	# design. The journal's files change as they are read: each list has
	# the digest of the moment it measured them; they count by path.
	awk 'NR == FNR { have[$0] = 1; path[$2] = 1; next }
		$2 ~ /^\/var\/lib\/bima\// { next }
		$2 ~ /^\/var\/log\/journal\// { if (!($2 in path)) print FNR, $0; next }
		!($0 in have) { print FNR, $0 }' \
		"$work/bima" "$work/ima" >"$work/missing"
	n=$(awk -v b="${boundary:-0}" '$1 >= b' "$work/missing" | wc -l)
	awk -v b="${boundary:-0}" '$1 >= b' "$work/missing" | head -n 10 | sed 's/^/# missing after systemd: /'
	check_eq "every file IMA measured from the real root's first exec on is in bima's log (missing)" "$n" 0
	echo "# IMA's entries before bima's hooks were attached in the initramfs, not in bima's log:"
	sed 's/^/#   /' "$work/missing" | head -n 40
	first=$(head -n1 "$work/bima")
	first_at=$(grep -n -x -F "$first" "$work/ima" | head -n1 | cut -d: -f1)
	echo "# bima's first measured file: $first, IMA's entry ${first_at:-none}"
	check "bima's first measured file is an initramfs one, before the real root's first exec" \
		test -n "$first_at" -a "${first_at:-0}" -lt "${boundary:-0}"
	# Once bima's init-top script returned (its hooks attached), IMA
	# measured nothing that bima did not: from the next script of the
	# initramfs that IMA measured on.
	next=$(awk '$2 == "/scripts/init-top/bima" { s = 1; next }
		s && $2 ~ /^\/scripts\// && $2 != "/scripts/bima-functions" { print NR; exit }' "$work/ima")
	echo "# IMA: the initramfs's script after bima's: $(sed -n "${next:-0}p" "$work/ima" 2>/dev/null), entry ${next:-none}"
	check "IMA measured a script of the initramfs after bima's" test -n "$next"
	missing_after=$(awk -v f="${next:-0}" '$1 >= f' "$work/missing" | wc -l)
	check_eq "IMA measured nothing from there on that bima did not log (missing)" "$missing_after" 0

	"$bima" verify >"$work/verify" 2>&1
	check_eq "bima verify passes for the boot's epoch (0)" $? 0
	check_grep "and says so for $epoch" "/var/lib/bima/$epoch: [0-9]+ entries .*: verified$" "$work/verify"
	sed 's/^/# verify: /' "$work/verify" | tail -n 4
}

case $VMTEST_BOOT in
1) boot_1 ;;
2) boot_2 ;;
*) not_ok "a third boot" "VMTEST_BOOT=$VMTEST_BOOT" ;;
esac
done_testing
