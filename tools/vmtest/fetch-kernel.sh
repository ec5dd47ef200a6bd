#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# fetch-kernel.sh VERSION - fetch a Debian guest kernel and build its initramfs.
#
# VERSION is 6.12 or 6.1. The kernel package is resolved with apt-cache,
# downloaded with apt-get (never installed), and unpacked into
# <repo>/.cache/vmtest/VERSION/root/. The initramfs (busybox-static, the
# guest init script and the 9p modules) is written next to it. Everything is
# cached; a second run does nothing and prints nothing but the cache dir,
# which is always the last line on stdout. See README.md.

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)
readonly SELF_DIR REPO_ROOT
readonly INIT_SCRIPT="$SELF_DIR/init"
readonly BUSYBOX=/bin/busybox

# Loaded in this order by the guest init; each is skipped where built in.
readonly MODULES="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev
virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"

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

# Copy the 9p modules, decompressed, into $2/modules and list them in order.
stage_modules() {
	local cache=$1 stage=$2 moddir name file
	moddir=$(find "$cache/root/lib/modules" -mindepth 1 -maxdepth 1 -type d | head -n1)
	[[ -n $moddir ]] || die "no lib/modules/<release> in $cache/root"
	mkdir -p "$stage/modules"
	for name in $MODULES; do
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

# A fingerprint of everything that goes into the initramfs.
initrd_inputs_hash() {
	local cache=$1
	{
		sha256sum "$INIT_SCRIPT" "$BUSYBOX"
		cat "$cache/package"
		echo "$MODULES"
	} | sha256sum | cut -d' ' -f1
}

build_initrd() {
	local cache=$1 hash=$2 stage
	stage=$(mktemp -d "$cache/initrd.XXXXXX")
	mkdir -p "$stage"/{bin,dev,proc,sys,mnt/root}
	cp "$BUSYBOX" "$stage/bin/busybox"
	install -m 0755 "$INIT_SCRIPT" "$stage/init"
	stage_modules "$cache" "$stage"
	(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) |
		gzip -9 >"$cache/initrd.cpio.gz.new"
	rm -rf "$stage"
	mv "$cache/initrd.cpio.gz.new" "$cache/initrd.cpio.gz"
	echo "$hash" >"$cache/initrd.hash"
}

main() {
	[[ $# -eq 1 ]] || usage
	local version=$1 meta cache pkg hash
	meta=$(meta_package "$version")
	command -v apt-get >/dev/null || die "apt-get not found (Debian host needed)"
	if [[ ! -x $BUSYBOX ]] || ldd "$BUSYBOX" >/dev/null 2>&1; then
		die "$BUSYBOX missing or not static (apt-get install busybox-static)"
	fi
	[[ -f $INIT_SCRIPT ]] || die "missing $INIT_SCRIPT"

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

	hash=$(initrd_inputs_hash "$cache")
	if [[ ! -f $cache/initrd.cpio.gz || $(cat "$cache/initrd.hash" 2>/dev/null) != "$hash" ]]; then
		build_initrd "$cache" "$hash"
	fi
	echo "$cache"
}

main "$@"
