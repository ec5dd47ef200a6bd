#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A real boot: Debian 12 with systemd as PID 1, from a disk, bima installed
# from its package (make deb) as an operator installs it, Debian's kernel
# and swtpm (tools/vmtest/vmtest.sh --image). Boot 1: bima.service is
# active, and became so before sysinit.target (systemd's timestamps and the
# journal's order agree); the journal has bima's lines at their priorities
# (notice, info), none with its "<N>" prefix left in the text; an exec run
# once bima answers is in its log. bima measured before sysinit.target was
# reached: with Type=notify, systemd counts it started when it says READY=1,
# once its hooks are attached (their links, pinned in bpffs, are older than
# sysinit.target), and orders sysinit.target after that (with
# Type=exec, what ran in the 10 to 19 s between its exec and its hooks under
# TCG went unmeasured). Then the guest reboots, on the same
# disk and the same TPM. Boot 2: a new TPM epoch, the first one's log kept beside it;
# `bima verify` passes for the booted epoch; `systemctl stop bima` during an
# exec storm leaves a log that the TPM holds to its end (nothing logged and
# not extended); started again, bima logs every exec of the storm, and the
# log verifies; `bima keylime check` passes.
# vmtest-options: --image --deb .output/deb/bima_*.deb --timeout 900
# vmtest-kernels: 6.12
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
work=/var/tmp/boot-test # on the image's disk; not bima's PrivateTmp
. "$top/tests/guest/image.sh"

us_to_s() { printf '%d.%06d' $(($1 / 1000000)) $(($1 % 1000000)); }

# status_field NAME: a field of `bima status`.
status_field() { "$bima" status | sed -n "s/^$1: //p"; }

# journal_priority TEXT: the PRIORITY of bima's first journal line that has TEXT.
journal_priority() {
	journalctl -b -u bima.service -o json | grep -F -m1 "$1" |
		sed -n 's/.*"PRIORITY":"\([0-7]\)".*/\1/p'
}

boot_1() {
	local deb pkg_time build_time bima_t sysinit_t order pinned sysinit_rt
	deb=$(find "$top/.output/deb" -maxdepth 1 -name 'bima_*.deb' | head -n1)
	if [ -e "$top/.output/bima" ] && [ -n "$deb" ]; then
		pkg_time=$(stat -c %Y "$deb")
		build_time=$(stat -c %Y "$top/.output/bima")
		check "the package is not older than the build (else: make deb)" \
			test "$pkg_time" -ge "$build_time"
	fi
	check_eq "bima is installed from its package" \
		"$(dpkg-query -W -f '${db:Status-Status} ${Version}' bima)" \
		"installed $(dpkg-deb -f "$deb" Version 2>/dev/null)"
	check_eq "PID 1 is systemd" "$(cat /proc/1/comm)" systemd
	check_eq "the root is the disk, ext4" "$(findmnt -n -o SOURCE,FSTYPE /)" "/dev/vda ext4"
	check_grep "the kernel runs the BPF LSM" '(^|,)bpf(,|$)' /sys/kernel/security/lsm
	check_eq "bima.service is enabled" "$(systemctl is-enabled bima.service)" enabled
	check_eq "bima.service is active" "$(systemctl is-active bima.service)" active
	check "bima answers on its control socket" wait_for 60 "$bima" status

	bima_t=$(systemctl show -P ActiveEnterTimestampMonotonic bima.service)
	sysinit_t=$(systemctl show -P ActiveEnterTimestampMonotonic sysinit.target)
	check "bima.service became active before sysinit.target" \
		test "$bima_t" -gt 0 -a "$bima_t" -lt "$sysinit_t"
	# The boot order as the journal tells it (systemd's own lines).
	journalctl -b -o short-monotonic _PID=1 >"$work/pid1.journal"
	grep -E 'bima|Reached target (local-fs|sysinit|basic|multi-user)\.target|Started (systemd-udevd|systemd-journald)\.service' \
		"$work/pid1.journal" | sed 's/^/# /'
	order=$(grep -n -E 'Started bima\.service|Reached target sysinit\.target' "$work/pid1.journal" |
		sed -E 's/^([0-9]+):.*(bima|sysinit).*/\1 \2/' | tr '\n' ' ')
	check_grep "the journal: bima.service started, then sysinit.target reached" \
		'^[0-9]+ bima [0-9]+ sysinit $' <(echo "$order")

	journalctl -b -u bima.service -o cat >"$work/bima.journal"
	sed 's/^/# journal: /' "$work/bima.journal" | head -n 8
	check_eq "the journal: 'new epoch ...' at priority info (6)" \
		"$(journal_priority '"MESSAGE":"new epoch /var/lib/bima/epoch-')" 6
	check_eq "the journal: 'self-protection: ...' at priority notice (5)" \
		"$(journal_priority '"MESSAGE":"self-protection: ')" 5
	check "the journal: no line keeps its <N> priority prefix" \
		sh -c "! grep -q '^<[0-7]>' '$work/bima.journal'"

	# Type=notify: systemd counts bima started when it says READY=1, once
	# its hooks are attached; sysinit.target, and all after it, waits. The
	# kernel's word for it: each hook's link is pinned in bpffs once
	# attached, and the pin's inode takes the time (realtime, as systemd's
	# ActiveEnterTimestamp). The journal's time of bima's "measuring" line
	# cannot say it: journald reads that line from bima's stream whenever it
	# gets to it, 6 ms after systemd had taken READY=1 in one CI run.
	pinned=$(stat -c %.6Y /sys/fs/bpf/bima/links/* | sort -n | tail -n1 | tr -d .)
	sysinit_rt=$(systemctl show -P ActiveEnterTimestamp --timestamp=us+utc sysinit.target |
		cut -d' ' -f2-)
	sysinit_rt=$(date -d "$sysinit_rt" +%s%6N)
	echo "# bima active at $(us_to_s "$bima_t") s (monotonic); its last hook attached" \
		"$(((sysinit_rt - pinned) / 1000)) ms before sysinit.target"
	check "bima's hooks were attached before sysinit.target was reached (Type=notify)" \
		test -n "$pinned" -a -n "$sysinit_rt" -a "${pinned:-0}" -lt "${sysinit_rt:-0}"
	printf '#!/bin/sh\n: probe %s\n' "$(date +%s%N)" >"$work/probe"
	chmod +x "$work/probe"
	"$work/probe"
	check "bima's log holds an exec run once it answers" \
		wait_for 30 sh -c "'$bima' log | grep -q ' $work/probe\$'"
	"$bima" log >"$work/log1" 2>&1
	echo "# bima log: its first file entries"
	grep -m 4 ' ima-ng .* /' "$work/log1" | sed 's/^/# /'
	status_field epoch >"$results/epoch1"
	check_grep "bima names its epoch" '^epoch-[0-9]+-[0-9]+$' "$results/epoch1"
	# Boot 2 only if boot 1 passed: else its failures end the run.
	[ "$failures" -eq 0 ] && touch "$results/reboot"
}

# storm N: exec N distinct scripts, each once, until told to stop.
storm() {
	local i
	for i in $(seq "$1"); do
		[ -e "$work/storm.stop" ] && break
		"$work/storm/s$i"
		echo "$i" >>"$work/storm.done"
	done
}

boot_2() {
	local epoch1 epoch2 i n missing
	epoch1=$(cat "$results/epoch1")
	check_eq "bima.service is active after the reboot" "$(systemctl is-active bima.service)" active
	check "bima answers on its control socket" wait_for 60 "$bima" status
	epoch2=$(status_field epoch)
	echo "# epochs: boot 1 $epoch1, boot 2 $epoch2"
	check "the reboot starts a new TPM epoch" test -n "$epoch2" -a "$epoch2" != "$epoch1"
	check "the first boot's log is kept beside it" test -d "/var/lib/bima/$epoch1"
	check "the new epoch's TPM reset count is above the old one's" \
		test "$(echo "$epoch2" | cut -d- -f2)" -gt "$(echo "$epoch1" | cut -d- -f2)"
	"$bima" verify >"$work/verify1" 2>&1
	check_eq "bima verify passes for the booted epoch (0)" $? 0
	check_grep "and says so for $epoch2" "/var/lib/bima/$epoch2: [0-9]+ entries .*: verified$" "$work/verify1"

	# systemctl stop during an exec storm: every entry logged is extended.
	n=300
	mkdir -p "$work/storm"
	for i in $(seq $n); do printf '#!/bin/sh\n: storm %s\n' "$i" >"$work/storm/s$i"; done
	chmod +x "$work"/storm/s*
	rm -f "$work/storm.done" "$work/storm.stop"
	storm $n &
	wait_for 60 test -s "$work/storm.done"
	sleep 2
	systemctl stop bima.service
	check_eq "systemctl stop bima during the storm (inactive)" \
		"$(systemctl is-active bima.service)" inactive
	echo "# stopped after $(wc -l <"$work/storm.done") of $n storm execs"
	"$bima" verify >"$work/verify2" 2>&1
	check_eq "stopped: bima verify passes (0)" $? 0
	check_grep "the TPM holds the whole log: it replays to the PCR, not ahead of it" \
		'^PCR 10: the log replays to the TPM value' "$work/verify2"
	check "no entry waits for the TPM" sh -c "! grep -q 'runs ahead' '$work/verify2'"
	sed 's/^/# /' "$work/verify2"
	touch "$work/storm.stop"
	wait

	systemctl start bima.service
	check "bima starts again" wait_for 60 "$bima" status
	check "and logs what the ring buffer kept" \
		wait_for 60 sh -c "[ \"\$($bima status | sed -n 's/^queued-bytes: //p')\" = 0 ]"
	"$bima" log >"$work/log2" 2>&1
	missing=0
	for i in $(cat "$work/storm.done"); do
		grep -q " $work/storm/s$i\$" "$work/log2" || missing=$((missing + 1))
	done
	check_eq "every storm exec, before and after the stop, is in the log (missing)" $missing 0
	"$bima" verify >"$work/verify3" 2>&1
	check_eq "bima verify passes after the restart (0)" $? 0
	tail -n 3 "$work/verify3" | sed 's/^/# /'

	"$bima" keylime check >"$work/keylime" 2>&1
	check_eq "bima keylime check passes (0)" $? 0
	sed 's/^/# /' "$work/keylime"
	check "bima keylime check: no FAIL line" sh -c "! grep -q '^FAIL' '$work/keylime'"
}

case $VMTEST_BOOT in
1) boot_1 ;;
2) boot_2 ;;
*) not_ok "a third boot" "VMTEST_BOOT=$VMTEST_BOOT" ;;
esac
done_testing
