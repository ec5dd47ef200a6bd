#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package: `make deb` builds bima_VERSION_ARCH.deb from a copy of
# the tree (which it leaves as it is), VERSION being the binary's own; it
# holds the binary, the unit (ExecStart at /usr/sbin/bima, started only where
# the kernel runs the BPF LSM, else skipped with a message), the
# configuration file as a conffile that the binary accepts, the man
# pages, and the initramfs-tools hook and scripts with the
# update-initramfs trigger, the dracut module (tests/guest/test_dracut.sh
# boots it), and the unit's drop-in that joins their log
# (tests/guest/test_initramfs.sh boots them); lintian finds no error in it.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
command -v dpkg-buildpackage >/dev/null || skip "dpkg-buildpackage is not installed (make deps)"
command -v lintian >/dev/null || skip "lintian is not installed (make deps)"
work=$(mktemp -d /tmp/bima-package.XXXXXX)
trap 'rm -rf "$work"' EXIT

version=$("$top/.output/bima" version | sed -n 's/^bima //p')
arch=$(dpkg --print-architecture)
deb=$top/.output/deb/bima_${version}_$arch.deb
before=$(stat -c %Y "$top/.output/bima")
make -C "$top" --no-print-directory deb >"$work/make.out" 2>&1
check_eq "make deb builds the package (0)" $? 0
check "named bima_VERSION_ARCH.deb, VERSION the binary's ($version)" test -f "$deb"
check_eq "and leaves this tree's build as it was" "$(stat -c %Y "$top/.output/bima")" "$before"
check_eq "debian/changelog's version is the binary's" \
	"$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)" "$version"

dpkg-deb -x "$deb" "$work/root" && dpkg-deb -e "$deb" "$work/control"
check_eq "the packaged binary runs and says its version" \
	"$("$work/root/usr/sbin/bima" version)" "bima $version"
check_grep "/etc/bima/bima.conf is a conffile" '^/etc/bima/bima.conf$' "$work/control/conffiles"
for cmd in "" -run -status -stop -snapshot -log -verify -ak -quote -keylime -policy; do
	check "man page bima$cmd(8) is in /usr/share/man/man8" \
		test -f "$work/root/usr/share/man/man8/bima$cmd.8.gz"
done
check "bima.conf(5) and bima-policy(5) are in man5" \
	test -f "$work/root/usr/share/man/man5/bima.conf.5.gz" -a \
	-f "$work/root/usr/share/man/man5/bima-policy.5.gz"
for f in hooks/bima scripts/init-top/bima scripts/init-bottom/bima; do
	check "the initramfs-tools $f is in the package, executable" \
		test -x "$work/root/usr/share/initramfs-tools/$f"
done
check "and scripts/bima-functions, which they source" \
	test -f "$work/root/usr/share/initramfs-tools/scripts/bima-functions"
check_grep "installing it rebuilds the initramfs (update-initramfs trigger)" \
	'^activate-noawait update-initramfs$' "$work/control/triggers"
check_grep "bima.service joins the initramfs's log before it starts" \
	'^ExecStartPre=/usr/lib/bima/bima-initramfs-join$' \
	"$work/root/lib/systemd/system/bima.service.d/initramfs.conf"
check "and the join is there" test -x "$work/root/usr/lib/bima/bima-initramfs-join"
for f in hooks/bima scripts/init-top/bima scripts/init-bottom/bima scripts/bima-functions; do
	sh -n "$work/root/usr/share/initramfs-tools/$f"
	check_eq "sh -n $f (0)" $? 0
done
dracut=$work/root/usr/lib/dracut/modules.d/90bima
for f in module-setup.sh bima-start.sh bima-handover.sh; do
	check "the dracut module's $f is in the package, executable" test -x "$dracut/$f"
	bash -n "$dracut/$f"
	check_eq "bash -n $f (0)" $? 0
done
check "and bima-functions, which they and its unit source, a file" \
	test -f "$dracut/bima-functions" -a ! -L "$dracut/bima-functions"
check "the same as initramfs-tools'" \
	cmp "$dracut/bima-functions" "$work/root/usr/share/initramfs-tools/scripts/bima-functions"
check_grep "and its unit for a systemd initramfs, which hands over as it stops" \
	"^ExecStop=/bin/sh -c 'rootmnt=/sysroot && \. /scripts/bima-functions && bima_handover'\$" \
	"$dracut/bima-initrd.service"
check_grep "the package depends on the libraries bima links" '^Depends:.*libbpf1.*libtss2-esys' \
	"$work/control/control"

# The configuration file: every setting it shows, uncommented, is one bima takes.
sed 's/^#\([a-z-]* = \)/\1/' "$work/root/etc/bima/bima.conf" >"$work/bima.conf"
check "the configuration file shows settings" grep -q '^log-dir = ' "$work/bima.conf"
"$work/root/usr/sbin/bima" run --config "$work/bima.conf" --help >"$work/conf.out" 2>&1
check_eq "bima takes each of them, uncommented (0)" $? 0
check_grep "and says nothing against them" '^Usage: bima run' "$work/conf.out"

unit=$work/root/lib/systemd/system/bima.service
check_grep "the unit runs the packaged binary" '^ExecStart=/usr/sbin/bima run ' "$unit"
check_grep "and is enabled at boot" '^WantedBy=sysinit.target' "$unit"
if command -v systemd-analyze >/dev/null; then
	# As installed: the binary at the path the unit names.
	sed "s|/usr/sbin/bima|$work/root/usr/sbin/bima|" "$unit" >"$work/bima.service"
	systemd-analyze verify "$work/bima.service" >"$work/verify.out" 2>&1
	check_eq "systemd-analyze verify accepts it (0)" $? 0
	check_eq "without a warning" "$(cat "$work/verify.out")" ""
fi
# Its start condition, run as systemd would on this kernel.
condition=$(sed -n "s/^ExecCondition=\\/bin\\/sh -c '\\(.*\\)'\$/\\1/p" "$unit")
check "the unit has a start condition" test -n "$condition"
/bin/sh -c "$condition" >"$work/cond.out" 2>&1
status=$?
if grep -qw bpf /sys/kernel/security/lsm 2>/dev/null; then
	check_eq "this kernel runs the BPF LSM: the unit starts (0)" "$status" 0
else
	check_eq "this kernel does not run the BPF LSM: the unit is skipped (1)" "$status" 1
	check_grep "and the journal is told why" \
		'^bima: not started: the kernel does not run the BPF LSM .*add bpf to the lsm= list' \
		"$work/cond.out"
fi

lintian --no-tag-display-limit "$deb" >"$work/lintian.out" 2>&1
check "lintian finds no error" sh -c "! grep '^E:' '$work/lintian.out'"
done_testing
