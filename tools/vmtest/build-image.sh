#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build-image.sh [PACKAGE...] - build, once, the Debian 12 disk image that
# vmtest.sh --image boots: an ext4 root file system with systemd as PID 1.
#
# mmdebstrap builds the tree (variant minbase, plus systemd, udev, tpm2-tools
# and the PACKAGEs: the dependencies of the packages a run installs) from the
# Debian archive that the host's apt already uses, and mkfs.ext4 -d turns it
# into <repo>/.cache/vmtest/image/rootfs.ext4, without a loop mount. The
# image holds no kernel: the guest's initramfs (fetch-kernel.sh) loads the
# disk and ext4 modules and mounts it. Its vmtest.service runs the test
# when the boot is done. A second run with the same inputs does nothing and
# needs no network; it prints nothing but the image's path, always the last
# line of stdout. The packages it downloaded are kept next to the image
# (debs/), so that a rebuild downloads only what changed. An image with
# dracut (which conflicts with initramfs-tools) is cached apart, in
# image-dracut/. See README.md.

set -euo pipefail

SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SELF_DIR/../.." && pwd)
readonly SELF_DIR REPO_ROOT
readonly SUITE=bookworm # Debian 12
readonly PACKAGES="systemd systemd-sysv udev tpm2-tools kmod procps"
readonly FREE_MB=512 # room for the test's logs, over what the tree takes
# Packages that conflict with one another's (dracut removes initramfs-tools):
# an image asked for with one of them is cached apart, in image-PKG, so that
# it and the image/ of the others do not rebuild each other in turn.
readonly APART="dracut"

die() {
	echo "build-image: $*" >&2
	exit 1
}

# The host's Debian sources for SUITE (and its -updates and -security), as
# one-line entries: the archive apt uses here, with no host name of ours.
debian_sources() {
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Created-By: Packages' 'Origin: Debian' \
		"Architecture: $(dpkg --print-architecture)" 2>/dev/null |
		awk -v s="$SUITE" '$2 == s || index($2, s "-") == 1 { print "deb " $0 }' |
		sort -u
}

# A fingerprint of how the image is made; neither the archive's state nor
# the extra packages are part of it: an image, once built, is kept (remove
# the dir to start over) while it holds every package asked for.
inputs_hash() {
	{
		cat "${BASH_SOURCE[0]}" # the content: not the path it was called by
		echo "$SUITE $PACKAGES"
	} | sha256sum | cut -d' ' -f1
}

# Does the cached image hold every PACKAGE?
has_packages() {
	local cache=$1 p
	shift
	for p in "$@"; do
		grep -q "^$p=" "$cache/packages" 2>/dev/null || return 1
	done
}

# mmdebstrap's setup hook, run on the host with the tree as $1 and the
# cache dir as $2: the packages the last build downloaded, where apt looks.
setup() {
	local root=$1 cache=$2
	mkdir -p "$root/var/cache/apt/archives"
	find "$cache/debs" -maxdepth 1 -name '*.deb' -exec cp -l -t "$root/var/cache/apt/archives" {} + 2>/dev/null || true
}

# mmdebstrap's customize hook, run on the host with the tree as $1 and the
# cache dir as $2: keep this build's packages, then make the tree boot as a
# test machine.
customize() {
	local root=$1 cache=$2
	rm -rf "$cache/debs.new"
	mkdir -p "$cache/debs.new"
	find "$root/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -l -t "$cache/debs.new" {} +
	rm -rf "$cache/debs"
	mv "$cache/debs.new" "$cache/debs"

	echo vmtest >"$root/etc/hostname"
	echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
	# A machine-id of its own: systemd sees no first boot (no prompts).
	echo "$SUITE-vmtest" | md5sum | cut -d' ' -f1 >"$root/etc/machine-id"
	# The journal on disk: a second boot reads the first one's.
	mkdir -p "$root/var/log/journal"
	ln -sf /lib/systemd/system/multi-user.target "$root/etc/systemd/system/default.target"
	# Nothing that runs at a time of its own during a test, and no logins
	# (the console has no input): gettys cost seconds of a TCG boot.
	for unit in systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer \
		e2scrub_all.timer e2scrub_reap.service fstrim.timer getty.target; do
		ln -sf /dev/null "$root/etc/systemd/system/$unit"
	done
	# The hardware and library databases are built: no first-boot rebuild
	# (ConditionNeedsUpdate=), which takes tens of seconds in TCG.
	touch "$root/etc/.updated" "$root/var/.updated"
	# Without --force-unsafe-io: the guest's dpkg syncs as on any machine.
	sed -i '/^force-unsafe-io$/d' "$root/etc/dpkg/dpkg.cfg.d/99mmdebstrap"
	write_unit >"$root/etc/systemd/system/vmtest.service"
	mkdir -p "$root/etc/systemd/system/multi-user.target.wants"
	ln -sf ../vmtest.service "$root/etc/systemd/system/multi-user.target.wants/vmtest.service"
}

# The test runner: once the boot is done (Type=exec: the boot finishes
# while it runs, and the system is "running"), mount the host's 9p tag "vmtest"
# and run its guest-run.sh (from tools/vmtest, copied there by vmtest.sh
# each run, so that changing it needs no new image).
write_unit() {
	cat <<'EOF'
[Unit]
Description=vmtest: run the host's test script
After=multi-user.target

[Service]
Type=exec
ExecStart=/bin/sh -c 'mkdir -p /run/vmtest && mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro vmtest /run/vmtest && exec /bin/sh /run/vmtest/guest-run.sh'
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
}

build() {
	local cache=$1 hash=$2 tree=$1/tree mb
	shift 2
	local sources=()
	mapfile -t sources < <(debian_sources)
	[[ ${#sources[@]} -gt 0 ]] ||
		die "apt knows no Debian archive for $SUITE (apt-get indextargets); is it in sources.list, and has apt-get update run?"
	echo "build-image: building the $SUITE image with mmdebstrap (about a minute)" >&2
	# Each file is written anew, not in place: a cache copied with hard
	# links (cp -al, as for a git worktree) keeps its own.
	rm -rf "$tree" "$cache/rootfs.ext4.new" "$cache/build.log"
	local include self
	self=$(printf %q "$SELF_DIR/build-image.sh")
	include=$(echo "$PACKAGES" "$@" | tr -s ' \n' ',')
	# No docs or translations: a smaller tree, a faster mkfs; no fsync per
	# file (the tree is synced once, by mkfs). The skips keep the packages in
	# apt's archives dir for customize to save.
	mmdebstrap --variant=minbase --include="${include%,}" \
		--dpkgopt=force-unsafe-io \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--skip=download/empty --skip=essential/unlink \
		--setup-hook="$self --setup \"\$1\" $(printf %q "$cache")" \
		--customize-hook="$self --customize \"\$1\" $(printf %q "$cache")" \
		"$SUITE" "$tree" "${sources[@]}" >"$cache/build.log" 2>&1 || {
		tail -n 30 "$cache/build.log" | sed 's/^/  | /' >&2
		die "mmdebstrap failed; its output is in $cache/build.log"
	}
	chroot "$tree" dpkg-query -W -f='${Package}=${Version}\n' >"$cache/packages.new"
	mb=$(($(du -sm "$tree" | cut -f1) + FREE_MB))
	mkfs.ext4 -q -F -L vmtest-root -E root_owner=0:0 -d "$tree" \
		"$cache/rootfs.ext4.new" "${mb}M" >>"$cache/build.log" 2>&1 ||
		die "mkfs.ext4 -d $tree failed; see $cache/build.log"
	rm -rf "$tree"
	mv "$cache/packages.new" "$cache/packages"
	printf '%s\n' "$@" | sort -u >"$cache/extra.new"
	mv "$cache/extra.new" "$cache/extra"
	mv "$cache/rootfs.ext4.new" "$cache/rootfs.ext4"
	echo "$hash" >"$cache/rootfs.hash.new"
	mv "$cache/rootfs.hash.new" "$cache/rootfs.hash"
}

main() {
	case ${1:-} in
	--setup) setup "$2" "$3" && exit 0 ;;
	--customize) customize "$2" "$3" && exit 0 ;;
	esac
	[[ ${1:-} != -h && ${1:-} != --help ]] ||
		{ sed -n '4,18s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0; }
	local cache=$REPO_ROOT/.cache/vmtest/image hash p
	for p in "$@"; do
		case " $APART " in *" $p "*) cache+=-$p ;; esac
	done
	command -v mmdebstrap >/dev/null || die "mmdebstrap not found (apt-get install mmdebstrap)"
	[[ $(id -u) -eq 0 ]] || die "needs root (mmdebstrap's root mode, mkfs.ext4 -d of root's files)"
	mkdir -p "$cache"
	# An image apart starts from the packages the main one downloaded.
	[[ -d $cache/debs || ! -d ${cache%/image-*}/image/debs ]] ||
		cp -al "${cache%/image-*}/image/debs" "$cache/debs"
	exec 9>"$cache/.lock"
	flock 9 # serialise concurrent runs on the same cache
	hash=$(inputs_hash)
	if [[ ! -f $cache/rootfs.ext4 || $(cat "$cache/rootfs.hash" 2>/dev/null) != "$hash" ]]; then
		build "$cache" "$hash" "$@"
	elif ! has_packages "$cache" "$@"; then
		# Those it was built with for others stay in: no image flip-flops.
		# shellcheck disable=SC2046 # a word per package
		build "$cache" "$hash" "$@" $(cat "$cache/extra" 2>/dev/null)
	fi
	echo "$cache/rootfs.ext4"
}

main "$@"
