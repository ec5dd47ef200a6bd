# SPDX-License-Identifier: GPL-2.0-only
# Helpers for the tests that boot the Debian image (tools/vmtest --image):
# test_boot, test_initramfs and test_dracut. Source after tests/lib.sh, with
# $work set to a directory of the test's own on the image's disk.

[ "${VMTEST_IMAGE:-}" = 1 ] ||
	skip "boots the Debian image: tools/vmtest/vmtest.sh $(sed -n 's/^# vmtest-options: //p' "$0") $0"

bima=/usr/sbin/bima
results=$VMTEST_RESULTS
mkdir -p "$work"
ver=$(uname -r)
ima=/sys/kernel/security/ima/ascii_runtime_measurements

not_grep() { ! grep -q "$@"; }

# wait_for SECONDS COMMAND...: until COMMAND succeeds; fails after SECONDS.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@" >/dev/null 2>&1; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.5
	done
}

# --- From the initramfs on: test_initramfs and test_dracut ---

# install_modules: the image has no kernel. The modules an initramfs needs
# for the disk (virtio_blk, ext4) and vmtest.service (9p), from the kernel
# package vmtest boots, and its config (mkinitramfs reads it).
install_modules() {
	local src=$top/.cache/vmtest/$VMTEST_KERNEL/root m f
	for m in virtio_blk crc32c_generic crc16 mbcache jbd2 ext4 netfs fscache 9pnet 9pnet_virtio 9p; do
		f=$(find "$src/lib/modules/$ver/kernel" -name "$m.ko*" | head -n1)
		[ -n "$f" ] && install -D -m 0644 "$f" "/lib/modules/$ver/${f#"$src/lib/modules/$ver/"}"
	done
	cp "$src/lib/modules/$ver"/modules.{order,builtin,builtin.modinfo} "/lib/modules/$ver/"
	depmod "$ver"
	cp "$src/boot/config-$ver" /boot/
}

# check_initramfs_ran: bima measured in the initramfs and stopped there, its
# successor the real root's bima. The kernel's log, as journald took it,
# into $work/kmsg ("bima-initramfs:" is the identifier).
check_initramfs_ran() {
	journalctl -b -t bima-initramfs -o cat >"$work/kmsg"
	sed 's/^/# kmsg: /' "$work/kmsg"
	check_grep "bima measured in the initramfs" '^bima run \(pid [0-9]+\) measures' "$work/kmsg"
	check_grep "and stopped there, the real root's bima its successor, its hooks left for bima.service" \
		"^bima run \\(pid [0-9]+\\) stopped, the real root's bima recorded as bima's code \\([1-9][0-9]* files\\)" "$work/kmsg"
}

# check_joined: bima.service runs, joined the initramfs's log of its epoch
# ($epoch, set here), continued the epoch and adopted the pins.
check_joined() {
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
}

# take_lists: "digest path" of each file IMA measured ($work/ima: but
# boot_aggregate and violations, a zero digest) and of each file entry of
# bima's log ($work/bima), in order; bima's once what was measured until
# IMA's was taken is logged.
take_lists() {
	awk '$5 != "boot_aggregate" && $4 !~ /^sha[0-9]+:0+$/ { print $4, $5 }' "$ima" >"$work/ima"
	check "bima logged what its hooks queued" \
		wait_for 60 sh -c "[ \"\$($bima status | sed -n 's/^queued-bytes: //p')\" = 0 ]"
	"$bima" log >"$work/log" 2>&1
	awk '$3 != "" && $5 != "boot_aggregate" && $5 ~ /^\// { print $4, $5 }' "$work/log" >"$work/bima"
	echo "# IMA: $(wc -l <"$work/ima") entries; bima: $(wc -l <"$work/bima") file entries"
	echo "# IMA, its first measured files:"
	head -n 3 "$work/ima" | sed 's/^/#   /'
	echo "# bima, its first measured files:"
	head -n 3 "$work/bima" | sed 's/^/#   /'
}

# ima_entry_of AWK-CONDITION: the number of IMA's first entry ($work/ima,
# fields: digest, path) for which the condition holds; none: empty.
ima_entry_of() {
	awk "$1 { print NR; exit }" "$work/ima"
}

# find_missing: IMA's entries (digest and path) not in bima's log, each
# with its number, into $work/missing. Reads of bima's own log are not
# measured by bima, by design. The journal's files change as they are
# read: each list has the digest of the moment it measured them; they
# count by path.
find_missing() {
	awk 'NR == FNR { have[$0] = 1; path[$2] = 1; next }
		$2 ~ /^\/var\/lib\/bima\// { next }
		$2 ~ /^\/var\/log\/journal\// { if (!($2 in path)) print FNR, $0; next }
		!($0 in have) { print FNR, $0 }' \
		"$work/bima" "$work/ima" >"$work/missing"
}

# missing_from ENTRY: how many of IMA's entries from ENTRY on bima lacks.
missing_from() {
	awk -v b="${1:-0}" '$1 >= b' "$work/missing" | wc -l
}

# check_first_by ENTRY WHEN: bima's first measured file is in IMA's list, at
# its entry ENTRY or before; WHEN says what ENTRY is, for the check's name.
check_first_by() {
	local first first_at
	first=$(head -n1 "$work/bima")
	first_at=$(grep -n -x -F "$first" "$work/ima" | head -n1 | cut -d: -f1)
	echo "# bima's first measured file: $first, IMA's entry ${first_at:-none}"
	check "bima's first measured file is an initramfs one, $2" \
		test -n "$first_at" -a "${first_at:-0}" -le "${1:-0}"
}

# check_verified: `bima verify` passes for the boot's epoch ($epoch).
check_verified() {
	"$bima" verify >"$work/verify" 2>&1
	check_eq "bima verify passes for the boot's epoch (0)" $? 0
	check_grep "and says so for $epoch" "/var/lib/bima/$epoch: [0-9]+ entries .*: verified$" "$work/verify"
	sed 's/^/# verify: /' "$work/verify" | tail -n 4
}
