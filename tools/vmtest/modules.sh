# SPDX-License-Identifier: GPL-2.0-only
# In a vmtest guest: load the guest kernel's modules, which are not under
# the host root's /lib/modules. Source it after setting top (the
# repository's root); used by tests/guest/guest.sh and tools/bench.

# load_module NAME: insmod the guest kernel's module NAME (from the kernel
# package vmtest unpacked), unless it is in already. Unpacks it into /tmp.
load_module() {
	local ko mods=$top/.cache/vmtest/$VMTEST_KERNEL/root/lib/modules
	grep -q "^$1 " /proc/modules && return 0
	ko=$(find "$mods" -name "$1.ko*" | head -n1)
	[ -n "$ko" ] || return 1
	case $ko in
	*.xz) xz -dc "$ko" >"/tmp/$1.ko" ;;
	*.zst) zstd -qdc "$ko" >"/tmp/$1.ko" ;;
	*) cp "$ko" "/tmp/$1.ko" ;;
	esac
	insmod "/tmp/$1.ko"
}
