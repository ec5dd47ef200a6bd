#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: TPM extends per measured file at a low rate, and a daemon killed
# before its bima_seq entry. 20 new executables run one every 0.2 s, each
# its own round of the daemon: the log (every entry is an extend, as bima
# verify checks against the PCR) grows by at most 1.1 entries a file, since
# a bima_seq entry covers many rounds (docs/log-format.md). bima
# status counts the records logged but in no bima_seq entry yet. Then the
# daemon is killed (SIGKILL, --protect no) before that entry: the log, its
# tail not yet covered, still verifies with no gap; a new daemon reads the
# records again, logs none of them twice, and its bima_seq entry covers
# them: every sequence number logged, none twice.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/extends-test
logs=$work/log
files=20
mkdir -p "$work/bin"
for i in $(seq $files); do
	unique_copy /usr/bin/true "$work/bin/t-$i"
done
chmod +x "$work/bin/"*
echo 'measure func=BPRM_CHECK mask=MAY_EXEC' >"$work/policy"

# field NAME FILE: the value of "NAME: value" in a `bima status` output
field() { sed -n "s/^$1: //p" "$2"; }
# entries: how many entries the log has
entries() { "$bima" log --log-dir "$logs" | wc -l; }

start_bima "$work/bima.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--protect no || exit 1
# Let the start's own entries (and the first execs of this script's tools) settle.
"$bima" status >/dev/null 2>&1
sleep 1
"$bima" log --log-dir "$logs" >/dev/null
sleep 0.5
before=$(entries)
for i in $(seq $files); do
	"$work/bin/t-$i"
	sleep 0.2
done
sleep 0.5 # one poll of the daemon: the last record is logged
"$bima" log --log-dir "$logs" >"$work/log1.txt"
after=$(wc -l <"$work/log1.txt")
logged=0
for i in $(seq $files); do
	grep -q "sha256:$(sha256 "$work/bin/t-$i") $work/bin/t-$i\$" "$work/log1.txt" && logged=$((logged + 1))
done
check_eq "the $files executables are in the log, durable, while the daemon runs" "$logged" "$files"
added=$((after - before))
echo "    $added entries for $files files run one every 0.2 s"
check "at most 1.1 entries (TPM extends) a measured file at a low rate: $added for $files" \
	test $((added * 10)) -le $((files * 11))

"$bima" status >"$work/status.txt" 2>&1
sed 's/^/    status| /' "$work/status.txt"
uncovered=$(field uncovered-records "$work/status.txt")
check "bima status: the records not yet in a bima_seq entry, $files or more" \
	test "${uncovered:-0}" -ge $files
held=$(field held-bytes "$work/status.txt")
check "bima status: and the bytes they hold in the ring buffer, at least 100 a record" \
	test "${held:-0}" -ge $((uncovered * 100))
check_eq "bima status: every entry is in the TPM" "$(field unextended-entries "$work/status.txt")" 0
# Records held in the ring buffer leave it readable to epoll: the daemon must still sleep.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$bima_pid/stat"; }
cpu0=$(cpu_ms)
sleep 2
idle=$(($(cpu_ms) - cpu0))
check "while records are held, the idle daemon sleeps: ${idle} ms of CPU in 2 s (at most 200)" \
	test "$idle" -le 200

# The daemon dies before it writes the bima_seq entry of these records.
kill -9 "$bima_pid"
wait "$bima_pid" 2>/dev/null
last_seq=$(grep -n ' bima_seq ' "$work/log1.txt" | tail -n 1 | cut -d: -f1)
last_file=$(grep -n " $work/bin/t-$files\$" "$work/log1.txt" | cut -d: -f1)
check "the log's last bima_seq entry is before the last file's: a tail not yet covered" \
	test "${last_seq:-0}" -lt "${last_file:-0}"
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify1.txt" 2>&1
check_eq "bima verify accepts the log with a tail not yet covered" $? 0
check_eq "no gap in it" "$(grep -c 'neither logged nor counted lost' "$work/verify1.txt")" 0
check_grep "and a note that says how many entries follow the last bima_seq entry" \
	'^note: [1-9][0-9]* entr(y|ies) after the last bima_seq entry: the sequence numbers' \
	"$work/verify1.txt"
sed 's/^/    verify| /' "$work/verify1.txt"

start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" --protect no || exit 1
stop_bima
"$bima" log --log-dir "$logs" >"$work/log2.txt"
twice=0
for i in $(seq $files); do
	n=$(grep -c "sha256:$(sha256 "$work/bin/t-$i") $work/bin/t-$i\$" "$work/log2.txt")
	[ "$n" = 1 ] || twice=$((twice + 1))
done
check_eq "after the restart, each of the $files executables is in the log once" "$twice" 0
last_seq=$(grep -n ' bima_seq ' "$work/log2.txt" | tail -n 1 | cut -d: -f1)
check "a bima_seq entry now follows the last file's" test "${last_seq:-0}" -gt "${last_file:-0}"
check_eq "no loss entry" "$(grep -c ' bima_lost_events ' "$work/log2.txt")" 0
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify2.txt" 2>&1
check_eq "bima verify accepts the log after the kill and the restart" $? 0
check_eq "after the stop, nothing follows the last bima_seq entry" \
	"$(grep -c 'after the last bima_seq entry' "$work/verify2.txt")" 0
check_grep "every kernel sequence number is in the log, or counted lost" \
	'^note: [1-9][0-9]* kernel record\(s\) in 1 load\(s\): every sequence number logged or counted lost' \
	"$work/verify2.txt"
check_eq "no record logged twice" "$(grep -c 'logged twice' "$work/verify2.txt")" 0
check_eq "no gap" "$(grep -c 'neither logged nor counted lost' "$work/verify2.txt")" 0
sed 's/^/    verify| /' "$work/verify2.txt"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1
done_testing
