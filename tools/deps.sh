#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Install the Debian/Ubuntu packages that building, running and testing bima
# need. Idempotent: prints nothing and installs nothing when all are present.
set -euo pipefail

build="make gcc pkg-config scdoc clang-format clang-19 llvm-19 bpftool libbpf-dev libelf-dev zlib1g-dev
	libzstd-dev libtss2-dev libssl-dev libjson-c-dev"
run="tpm2-tools"
test="debhelper dpkg-dev lintian swtpm swtpm-tools python3 python3-yaml python3-prometheus-client systemd ima-evm-utils qemu-system-x86 busybox-static cpio kmod kexec-tools
	xz-utils zstd groff-base mandoc
	mmdebstrap qemu-utils"

missing=()
for p in $build $run $test; do
	dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (sudo make deps)" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
