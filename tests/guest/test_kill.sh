#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: SIGKILL at random points loses nothing. During an exec storm over
# 80 distinct executables and an open storm that writes and reads new files
# as root, the daemon is killed with SIGKILL 50 times (sometimes while it is
# still starting or recovering) and started again; each new daemon adopts
# the pins, recovers the log and drains the queue. Afterwards every
# executable, and (where the kernel measures opens) every file read, is in
# the log with its sha256sum, no loss is recorded, the kernel's sequence
# numbers in the log (bima_seq entries) run without a gap, and bima verify
# accepts the log against the TPM.
# Without self-protection (--protect no): with it, SIGKILL is refused while
# entries wait for the TPM (test_before_use.sh), and these kills stand for
# what no hook sees, the OOM killer's, at any point. Its 50 restarts take
# more than vmtest's default 300 s on a busy machine:
# vmtest-options: --timeout 600
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/kill-test
logs=$work/log
files=80 kills=50
mkdir -p "$work/bin" "$work/open"
for i in $(seq $files); do
	unique_copy /usr/bin/true "$work/bin/t-$i"
done
chmod +x "$work/bin/"*
# The built-in policy does not measure opens on tmpfs; this one does.
printf '%s\n' 'measure func=BPRM_CHECK mask=MAY_EXEC' 'measure func=MMAP_CHECK mask=MAY_EXEC' \
	'measure func=FILE_CHECK mask=^MAY_READ uid=0' >"$work/policy"

start_bima "$work/bima.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--protect no || exit 1
opens=$(grep -cE 'measuring .*opens \(FILE_CHECK\)' "$work/bima.out")

storm() {
	while :; do
		for i in $(seq $files); do "$work/bin/t-$i"; done
		[ -e "$work/storm-stop" ] && break
	done
}
storm &
storm_pid=$!
open_storm() {
	local n=0
	until [ -e "$work/storm-stop" ]; do
		n=$((n + 1))
		echo "open $n $$" >"$work/open/o-$n"
		cat "$work/open/o-$n" >/dev/null
	done
}
open_storm &
open_storm_pid=$!

started=0 early=0
for k in $(seq $kills); do
	sleep "0.$((RANDOM % 5))$((RANDOM % 10))"
	kill -9 "$bima_pid"
	wait "$bima_pid" 2>/dev/null
	"$bima" run --log-dir "$logs" --tcti "$tcti" --protect no >"$work/run-$k.out" 2>&1 &
	bima_pid=$!
	if [ $((RANDOM % 4)) -eq 0 ]; then
		early=$((early + 1)) # the next kill may land while it starts or recovers
		continue
	fi
	deadline=$((SECONDS + 60))
	until grep -q 'measuring exec' "$work/run-$k.out"; do
		if ! kill -0 "$bima_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			not_ok "daemon $k starts after a SIGKILL" "$(tail -n 5 "$work/run-$k.out")"
			break
		fi
		sleep 0.1
	done
	started=$((started + 1))
done
ok "$kills SIGKILLs ($early of them possibly during start-up), $started restarts measured"
touch "$work/storm-stop"
wait "$storm_pid" "$open_storm_pid"

"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/stop.out" 2>&1
check_eq "bima stop --unload after the storm exits 0" $? 0
sed 's/^/    stop| /' "$work/stop.out" | grep -v removed

"$bima" log --log-dir "$logs" >"$work/log.txt"
missing=0
for i in $(seq $files); do
	grep -q "sha256:$(sha256 "$work/bin/t-$i") $work/bin/t-$i\$" "$work/log.txt" || missing=$((missing + 1))
done
check_eq "every one of the $files executables is in the log with its sha256sum" "$missing" 0
if [ "$opens" = 1 ]; then
	(cd "$work/open" && sha256sum o-*) >"$work/opened.txt"
	missing=$(awk -v dir="$work/open/" 'NR == FNR { if ($3 == "ima-ng") seen[$4 " " $5] = 1; next }
		!(("sha256:" $1 " " dir $2) in seen) { n++ } END { print n + 0 }' "$work/log.txt" "$work/opened.txt")
	check_eq "every one of the $(wc -l <"$work/opened.txt") files read is in the log with its sha256sum" "$missing" 0
else
	ok "# this kernel does not measure opens (no file_post_open): the open storm only loads it"
fi
check_eq "no loss entry" "$(grep -c ' bima_lost_events ' "$work/log.txt")" 0
check_eq "no inconsistency entry" "$(grep -c ' bima_log_inconsistent ' "$work/log.txt")" 0
echo "    $(wc -l <"$work/log.txt") entries, $(ls "$logs"/epoch-*/ | wc -l) segments, $(grep -c ' bima_log_torn ' "$work/log.txt") torn tails cut"
grep -h 'durable in the log but not in the TPM\|torn' "$work"/run-*.out | sed 's/^/    recovery| /' | head -n 10

"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log after $kills SIGKILLs" $? 0
check_grep "every kernel sequence number is in the log, or counted lost" \
	'^note: [1-9][0-9]* kernel record\(s\) in 1 load\(s\): every sequence number logged or counted lost' \
	"$work/verify.txt"
check "no gap in the sequence numbers" test "$(grep -c 'neither logged nor counted lost' "$work/verify.txt")" -eq 0
sed 's/^/    verify| /' "$work/verify.txt"
done_testing
