#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Run inside the guest by `make run`: start bima, do some work, show the
# measurements as they arrive, then the log, `bima verify` and evmctl.
set -u
cd "$(dirname "$0")/.." || exit 1
logs=/tmp/bima-demo
say() { printf '\n### %s\n' "$*"; }

say "bima run -v --log-dir $logs   (each exec is shown as it is logged; opens and mmaps are logged too)"
./bima run -v --log-dir "$logs" 2>&1 | grep -v -e 'MMAP_CHECK' -e 'FILE_CHECK' &
until [ -e /sys/fs/bpf/bima/links/bima_mmap_file ]; do sleep 0.2; done
sleep 0.5

say "some work: ls, sha256sum, a shell script"
ls / >/dev/null
sha256sum /etc/hostname >/dev/null
printf '#!/bin/sh\necho hello from a script\n' >/tmp/hello.sh && chmod +x /tmp/hello.sh
/tmp/hello.sh
sleep 1

say "bpftool prog show name bima_bprm_check"
bpftool prog show name bima_bprm_check
say "ls -R /sys/fs/bpf/bima"
ls -R /sys/fs/bpf/bima

say "bima stop --unload --log-dir $logs"
./bima stop --unload --log-dir "$logs"
sleep 0.5

say "bima log --log-dir $logs | grep -v -e '\.so' -e ' bima_seq '   ($(./bima log --log-dir "$logs" | wc -l) entries)"
./bima log --log-dir "$logs" | grep -v -e '\.so' -e ' bima_seq '
say "sha256sum /tmp/hello.sh /usr/bin/ls"
sha256sum /tmp/hello.sh /usr/bin/ls

say "bima verify --log-dir $logs"
./bima verify --log-dir "$logs"

say "evmctl ima_measurement, with the TPM's PCRs"
cat "$logs"/epoch-*/segment-*.bin >/tmp/list.bin
tools/evmctl-verify.sh /tmp/list.bin
