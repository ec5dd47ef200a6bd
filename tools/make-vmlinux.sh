#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Regenerate vmlinux/vmlinux.h from the BTF of the reference guest kernel
# (Debian's 6.12), fetched by tools/vmtest/fetch-kernel.sh.
#   usage: make-vmlinux.sh OUTPUT
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/vmlinux/vmlinux.h}
cache=$("$top/tools/vmtest/fetch-kernel.sh" 6.12 | tail -n 1)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$top/tools/extract-vmlinux.sh" "$cache/vmlinuz" "$tmp/vmlinux"
bpftool btf dump file "$tmp/vmlinux" format c >"$tmp/vmlinux.h"
mv "$tmp/vmlinux.h" "$out"
echo "make-vmlinux: $out from $(cat "$cache/package")"
