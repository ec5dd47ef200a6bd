#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Extract the uncompressed ELF vmlinux from a bzImage (vmlinuz) whose payload
# is zstd, xz or gzip compressed, for `bpftool btf dump file`.
#   usage: extract-vmlinux.sh VMLINUZ OUTPUT
set -euo pipefail

die() { echo "extract-vmlinux: $*" >&2; exit 1; }
[ $# -eq 2 ] || die "usage: extract-vmlinux.sh VMLINUZ OUTPUT"
in=$1 out=$2
[ -r "$in" ] || die "$in: cannot read"

is_elf() { [ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' ')" = 7f454c46 ]; }

# magic (as grep -P pattern) and the command that decompresses from it
try() {
	local magic=$1; shift
	local off
	for off in $(LC_ALL=C grep -obaP "$magic" "$in" | cut -d: -f1); do
		tail -c +$((off + 1)) "$in" | "$@" >"$out.tmp" 2>/dev/null || true
		if [ -s "$out.tmp" ] && is_elf "$out.tmp"; then
			mv "$out.tmp" "$out"
			return 0
		fi
	done
	rm -f "$out.tmp"
	return 1
}

try '\x28\xb5\x2f\xfd' zstd -dc ||
	try '\xfd\x37\x7a\x58\x5a\x00' xz -dc ||
	try '\x1f\x8b\x08' gzip -dc ||
	die "$in: no zstd, xz or gzip payload that decompresses to an ELF image"
