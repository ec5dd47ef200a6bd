#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-kernel.sh VERSION - fetch a Debian guest kernel and build its initramfs.
#
# VERSION is 6.12 or 6.1. The kernel package is resolved with apt-cache,
# downloaded with apt-get (never installed), and unpacked into
# <repo>/.cache/vmtest/VERSION/root/. Two initramfs images are written next
# to it, each busybox-static, a guest init script and modules: initrd.cpio.gz
# (init, the 9p modules: the host's root as the guest's) and
# initrd-image.cpio.gz (init-image, the virtio disk and ext4 modules too:
# vmtest.sh --image, a Debian image booted from a disk). Everything is
# cached; a second run does nothing and prints nothing but the cache dir,
# which is always the last line on stdout. See README.md.

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)
readonly SELF_DIR REPO_ROOT
readonly INIT_SCRIPT="$SELF_DIR/init"
readonly IMAGE_INIT_SCRIPT="$SELF_DIR/init-image"
readonly BUSYBOX=/bin/busybox

# Loaded in this order by the guest init; each is skipped where built in.
readonly MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
# The same for init-image, which mounts an ext4 root from a virtio disk
# (ext4 takes its checksums from the crc32c crypto module) and reads the
# run's packages from a 9p share before it hands over to systemd.
readonly IMAGE_MODULES="$MODULES virtio_blk crc32c_generic crc16 mbcache jbd2 ext4"

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

usage() {
	echo "usage: ${0##*/} 6.12|6.1" >&2
	exit 2
}

# The meta package whose dependency names the exact kernel image package.
meta_package() {
	case "$1" in
	6.12) echo linux-image-6.12-amd64 ;;
	6.1) echo linux-image-amd64 ;;
	*) usage ;;
	esac
}

# Print "name=version" of the kernel image package, or nothing.
resolve_package() {
	local meta=$1 name version
	name=$(apt-cache depends "$meta" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1)
	[[ -n $name ]] || return 0
	version=$(apt-cache policy "$name" 2>/dev/null |
		sed -n 's/^ *Candidate: //p')
	[[ -n $version && $version != "(none)" ]] || return 0
	echo "$name=$version"
}

# Resolve the package, running 'apt-get update' once if apt knows nothing.
find_package() {
	local meta=$1 pkg
	pkg=$(resolve_package "$meta")
	if [[ -z $pkg && $(id -u) -eq 0 ]]; then
		echo "fetch-kernel: $meta unknown to apt; running apt-get update" >&2
		apt-get update -qq >&2 || true
		pkg=$(resolve_package "$meta")
	fi
	echo "$pkg"
}

# Download the package and unpack it into $cache/root (atomically).
fetch_package() {
	local cache=$1 pkg=$2 deb
	echo "fetch-kernel: downloading ${pkg%%=*} (${pkg#*=})" >&2
	rm -rf "$cache/root.new" "$cache/dl"
	mkdir -p "$cache/dl"
	(cd "$cache/dl" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2) ||
		die "apt-get download $pkg failed"
	deb=$(find "$cache/dl" -name '*.deb' | head -n1)
	[[ -n $deb ]] || die "apt-get download $pkg produced no .deb"
	dpkg-deb -x "$deb" "$cache/root.new" || die "dpkg-deb -x $deb failed"
	rm -rf "$cache/package" "$cache/root" "$cache/dl"
	mv "$cache/root.new" "$cache/root"
	echo "$pkg" >"$cache/package"
}

# Point $cache/vmlinuz at the unpacked kernel image.
link_vmlinuz() {
	local cache=$1 img
	img=$(find "$cache/root/boot" -name 'vmlinuz-*' | head -n1)
	[[ -n $img ]] || die "no boot/vmlinuz-* in $cache/root"
	ln -sfn "root/boot/${img##*/}" "$cache/vmlinuz"
}

# Copy the modules named in $3, decompressed, into $2/modules and list them
# in order.
stage_modules() {
	local cache=$1 stage=$2 modules=$3 moddir name file
	moddir=$(find "$cache/root/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[[ -n $moddir ]] || die "no lib/modules/<release> in $cache/root"
	mkdir -p "$stage/modules"
	for name in $modules; do
		file=$(find "$moddir/kernel" -name "$name.ko" -o -name "$name.ko.xz" \
			-o -name "$name.ko.zst" | head -n1)
		[[ -n $file ]] || continue
		case "$file" in
		*.xz) xz -dc "$file" >"$stage/modules/$name.ko" ;;
		*.zst) zstd -qdc "$file" >"$stage/modules/$name.ko" ;;
		*) cp "$file" "$stage/modules/$name.ko" ;;
		esac
		check_deps "$stage/modules" "$name"
		echo "$name" >>"$stage/modules/order"
	done
	[[ -f $stage/modules/9p.ko ]] || grep -q '/9p\.ko' "$moddir/modules.builtin" ||
		die "the kernel in $cache has no 9p file system"
}

# Every module a staged module depends on must be staged before it.
check_deps() {
	local dir=$1 name=$2 dep
	for dep in $(modinfo -F depends "$dir/$name.ko" | tr ',' ' '); do
		[[ -f $dir/$dep.ko ]] ||
			die "module $name needs $dep, which is not in the load list"
	done
}

# A fingerprint of everything that goes into an initramfs: INIT MODULES.
initrd_inputs_hash() {
	local cache=$1 init=$2 modules=$3
	{
		sha256sum "$init" "$BUSYBOX"
		cat "$cache/package"
		echo "$modules"
	} | sha256sum | cut -d' ' -f1
}

# Build $cache/NAME.cpio.gz from INIT and MODULES unless NAME.hash says it is
# up to date.
build_initrd() {
	local cache=$1 name=$2 init=$3 modules=$4 hash stage
	hash=$(initrd_inputs_hash "$cache" "$init" "$modules")
	[[ -f $cache/$name.cpio.gz && $(cat "$cache/$name.hash" 2>/dev/null) == "$hash" ]] &&
		return 0
	stage=$(mktemp -d "$cache/initrd.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,mnt/root}
	cp "$BUSYBOX" "$stage/bin/busybox"
	install -m 0755 "$init" "$stage/init"
	stage_modules "$cache" "$stage" "$modules"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -9 >"$cache/$name.cpio.gz.new"
	rm -rf "$stage"
	mv "$cache/$name.cpio.gz.new" "$cache/$name.cpio.gz"
	# A new file, never a rewrite: caches may share files by hard links.
	echo "$hash" >"$cache/$name.hash.new"
	mv "$cache/$name.hash.new" "$cache/$name.hash"
}

main() {
	[[ $# -eq 1 ]] || usage
	local version=$1 meta cache pkg
	meta=$(meta_package "$version")
	command -v apt-get >/dev/null || die "apt-get not found (Debian host needed)"
	if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX missing or not static (apt-get install busybox-static)"
	fi
	[[ -f $INIT_SCRIPT && -f $IMAGE_INIT_SCRIPT ]] ||
		die "missing $INIT_SCRIPT or $IMAGE_INIT_SCRIPT"

	cache="$REPO_ROOT/.cache/vmtest/$version"
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock 9 # serialise concurrent runs on the same cache

	pkg=$(find_package "$meta")
	if [[ -z $pkg ]]; then
		[[ -s $cache/package && -d $cache/root ]] ||
			die "cannot resolve the kernel package behind $meta (apt-cache depends $meta); is Debian's archive in sources.list?"
		echo "fetch-kernel: cannot resolve $meta; using cached $(cat "$cache/package")" >&2
	elif [[ ! -d $cache/root || $(cat "$cache/package" 2>/dev/null) != "$pkg" ]]; then
		fetch_package "$cache" "$pkg"
	fi
	link_vmlinuz "$cache"

	build_initrd "$cache" initrd "$INIT_SCRIPT" "$MODULES"
	build_initrd "$cache" initrd-image "$IMAGE_INIT_SCRIPT" "$IMAGE_MODULES"
	echo "$cache"
}

main "$@"
