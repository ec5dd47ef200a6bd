#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `make run`: run the bima collector on this machine if it can, and
# otherwise explain why and run it in the bundled QEMU guest (Debian kernel
# with BPF LSM and IMA, software TPM), showing live measurements and a
# verify. Extra arguments for `bima run` come from BIMA_ARGS.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1

reasons=()
if ! lsm=$(cat /sys/kernel/security/lsm 2>/dev/null); then
	reasons+=("/sys/kernel/security/lsm cannot be read (securityfs not mounted?), so BPF LSM cannot be confirmed")
else
	case ",$lsm," in
	*,bpf,*) ;;
	*) reasons+=("BPF LSM is not active (/sys/kernel/security/lsm: \"$lsm\")") ;;
	esac
fi
[ -e /dev/tpmrm0 ] || reasons+=("there is no TPM 2.0 (/dev/tpmrm0 is missing)")
[ "$(id -u)" -eq 0 ] || reasons+=("bima must run as root (sudo make run)")

if [ ${#reasons[@]} -eq 0 ]; then
	echo "run: starting bima on this machine; stop it with Ctrl-C"
	# If this kernel refuses BPF trampolines, bima says so when it attaches.
	# shellcheck disable=SC2086
	exec ./bima run ${BIMA_ARGS:-}
fi

echo "run: bima cannot run on this machine:"
for r in "${reasons[@]}"; do echo "  - $r"; done
echo "run: so it runs in the bundled guest instead: Debian's 6.12 kernel (BPF LSM, IMA)"
echo "     under QEMU, with swtpm as its TPM 2.0; this machine's / is shared read-only."
exec tools/vmtest/vmtest.sh --kernel "${BIMA_KERNEL:-6.12}" tools/demo-guest.sh
