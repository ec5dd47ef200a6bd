#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the metrics (issue 17). A policy that measures only the test's own
# files, on a ramfs: execs of root's files there (BPRM_CHECK), reads of
# uid 4242's files (FILE_CHECK, where the kernel lets opens be measured).
# `bima status --format openmetrics` parses with python3-prometheus-client's
# OpenMetrics parser, `--format prometheus` and the --metrics-file with its
# Prometheus parser, and the values agree with the log: entries logged by
# hook are the log's entries of those files, hooks that measured nothing
# have 0, a ToMToU violation is counted and is the log's zero-digest entry,
# nothing is lost or denied (dropped and denied have a sample by hook, their
# sum the total), the TPM has no error, the ring buffer has the
# size asked for, cache hits are what `bima status` says, a refusal of
# self-protection counts one, a snapshot gives the last snapshot's id and a
# fresh age. The file is 0644, rewritten every few seconds with no
# temporary file left, and rewritten at stop, where its log entries and
# log bytes equal `bima log` and the segment files' sizes, and nothing waits
# for the TPM. A second daemon with a tiny ring buffer, stopped during
# execs, has them dropped under BPRM_CHECK, and the sum by hook is the lost
# the log records; failing closed, the execs refused are denied under
# BPRM_CHECK. A snapshot whose quote fails counts as a TPM error.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/metrics-test
logs=$work/log
prom=$work/textfile/bima.prom
py=/usr/bin/python3 # Debian's, which has python3-prometheus-client
mkdir -p "$work/ramfs" "$work/textfile"
mount -t ramfs ramfs "$work/ramfs" || exit 1
mkdir "$work/ramfs/bin" "$work/ramfs/data"
"$py" -c 'import prometheus_client' 2>"$work/py.err" ||
	skip "python3-prometheus-client is missing (tools/deps.sh installs it): $(cat "$work/py.err")"
nexec=4 nread=3
for i in $(seq $nexec); do unique_copy /bin/busybox "$work/ramfs/bin/bb-$i"; done
for i in $(seq $nread); do echo "data $i $$" >"$work/ramfs/data/d-$i"; done
echo "violated $$" >"$work/ramfs/data/v"
chown 4242 "$work"/ramfs/data/*
cat >"$work/policy" <<'EOF2'
measure func=BPRM_CHECK fsmagic=0x858458f6 fowner=0
measure func=FILE_CHECK mask=^MAY_READ fsmagic=0x858458f6 fowner=4242
EOF2

# parse om|prom FILE: one "name{labels} value" line a sample, through the parser for that format
parse() {
	"$py" - "$@" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families as prom
from prometheus_client.openmetrics.parser import text_string_to_metric_families as om
text = open(sys.argv[2]).read()
for fam in (om if sys.argv[1] == "om" else prom)(text):
    for s in fam.samples:
        labels = ",".join('%s="%s"' % kv for kv in sorted(s.labels.items()))
        v = s.value
        print("%s%s %s" % (s.name, "{%s}" % labels if labels else "",
                           "%d" % v if v == int(v) else "%g" % v))
PY
}
# val FILE SAMPLE: the value of SAMPLE (with its labels) in a parsed FILE
val() { awk -v s="$2" '$1 == s { print $2 }' "$1"; }
# in_log PREFIX: the entries of `bima log` whose path starts with PREFIX
in_log() { "$bima" log --log-dir "$logs" | awk -v p="$1" 'index($NF, p) == 1' | wc -l; }
scrape() { # scrape NAME: openmetrics into NAME.om, parsed into NAME.txt
	"$bima" status --format openmetrics >"$work/$1.om" 2>&1 &&
		parse om "$work/$1.om" >"$work/$1.txt" 2>"$work/$1.err"
}

start_bima "$work/bima.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--ringbuf-size 65536 --metrics-file "$prom" || exit 1
opens=0
grep -qE 'measuring .*opens \(FILE_CHECK\)' "$work/bima.out" && opens=1
for i in $(seq $nexec); do "$work/ramfs/bin/bb-$i" true; done
for i in $(seq $nexec); do "$work/ramfs/bin/bb-$i" true; done # again: not logged again
for i in $(seq $nread); do cat "$work/ramfs/data/d-$i" >/dev/null; done
if [ $opens = 1 ]; then
	exec 3>>"$work/ramfs/data/v"
	cat "$work/ramfs/data/v" >/dev/null # ToMToU: read while fd 3 writes
	exec 3>&-
fi
want_read=$((opens * nread))
# The daemon logs within a round or two: wait until it has them all.
deadline=$((SECONDS + 20))
until scrape live && [ "$(val "$work/live.txt" 'bima_measurements_logged_total{hook="BPRM_CHECK"}')" = $nexec ] &&
	[ "$(in_log "$work/ramfs/data/")" -ge "$((want_read + 2 * opens))" ]; do
	[ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
sed 's/^/    openmetrics| /' "$work/live.om"
check "the OpenMetrics text parses (OpenMetrics parser)" test -s "$work/live.txt" -a ! -s "$work/live.err"
cat "$work/live.err"
check_eq "it ends with # EOF" "$(tail -n 1 "$work/live.om")" "# EOF"
check_grep "a counter's family is named without _total" '^# TYPE bima_measurements_logged counter$' "$work/live.om"
check_grep "each family has its HELP" '^# HELP bima_log_bytes .+' "$work/live.om"
v() { val "$work/live.txt" "$1"; }
check_eq "logged, BPRM_CHECK: the $nexec files executed, once each" \
	"$(v 'bima_measurements_logged_total{hook="BPRM_CHECK"}')" $nexec
check_eq "which is what the log has of them" "$(in_log "$work/ramfs/bin/")" $nexec
check_eq "logged, FILE_CHECK: the files read and the violation (opens measured: $opens)" \
	"$(v 'bima_measurements_logged_total{hook="FILE_CHECK"}')" "$(in_log "$work/ramfs/data/")"
"$bima" log --log-dir "$logs" | awk -v p="$work/ramfs/data/" 'index($NF, p) == 1' | sed 's/^/    data| /'
# As IMA: the file read while open for writing has its violation entry and its measurement.
check_eq "that is $want_read reads, and $opens violation and measurement of the file violated" \
	"$(in_log "$work/ramfs/data/")" "$((want_read + 2 * opens))"
check_eq "logged, MMAP_CHECK: none (the policy has no such rule)" \
	"$(v 'bima_measurements_logged_total{hook="MMAP_CHECK"}')" 0
check "the second round of execs: each a cache hit or a repeat, no entry" \
	test "$(($(v bima_measurements_repeated_total) + $(v bima_cache_hits_total)))" -ge $nexec
check_eq "violations: $opens" "$(v bima_violations_total)" $opens
check_eq "and the log has as many zero-digest entries" \
	"$("$bima" log --log-dir "$logs" | grep -c ' sha256:0\{64\} ')" $opens
check_eq "lost: 0" "$(v bima_measurements_lost_total)" 0
# by_hook FILE NAME: "SAMPLES SUM" of NAME's samples by hook in a parsed FILE
by_hook() { awk -v p="$2{hook=" 'index($1, p) == 1 { n++; s += $2 } END { print n + 0, s + 0 }' "$1"; }
hooks=$(grep -c '^bima_measurements_logged_total{hook=' "$work/live.txt")
check "logged has a sample for each hook ($hooks)" test "$hooks" -ge 11
check_eq "dropped: a sample for each hook, summing to lost" \
	"$(by_hook "$work/live.txt" bima_measurements_dropped_total)" "$hooks $(v bima_measurements_lost_total)"
check_eq "denied: a sample for each hook, 0 in all (not failing closed)" \
	"$(by_hook "$work/live.txt" bima_measurements_denied_total)" "$hooks 0"
check_eq "denied: no sample without a hook" "$(v bima_measurements_denied_total)" ""
check_eq "TPM errors: 0" "$(v bima_tpm_errors_total)" 0
check_eq "the TPM is up" "$(v bima_tpm_up)" 1
check_eq "the ring buffer is the size asked for" "$(v bima_ringbuf_size_bytes)" 65536
check_eq "cache hits: what bima status says" "$(v bima_cache_hits_total)" \
	"$("$bima" status | sed -n 's/^cache-hits: //p')"
check "the daemon started before now, in Unix seconds" \
	test "$(v bima_start_time_seconds)" -le "$(date +%s)" -a "$(v bima_start_time_seconds)" -gt 1600000000
check_eq "no snapshot yet" "$(v bima_last_snapshot_id)" 0

"$bima" status --format prometheus >"$work/live.prom" 2>&1
parse prom "$work/live.prom" >"$work/liveprom.txt" 2>&1
check_eq "--format prometheus parses to the same BPRM_CHECK count" \
	"$(val "$work/liveprom.txt" 'bima_measurements_logged_total{hook="BPRM_CHECK"}')" $nexec
check "and has no # EOF" test "$(grep -c '^# EOF' "$work/live.prom")" -eq 0

# Self-protection: one refusal more.
if grep -q 'self-protection: while this daemon runs' "$work/bima.out"; then
	before=$(v bima_protect_denied_total)
	touch "$logs/intruder" 2>/dev/null
	check_eq "self-protection refuses a file in the log directory" "$(test -e "$logs/intruder" && echo made || echo refused)" refused
	scrape protect
	check_eq "bima_protect_denied_total counts one more" \
		"$(val "$work/protect.txt" bima_protect_denied_total)" "$((before + 1))"
else
	echo "# self-protection is off here: its counter is not checked"
fi

"$bima" snapshot >"$work/snap.out" 2>&1
check_eq "bima snapshot exits 0" $? 0
id=$(sed -n 's/^snapshot \([0-9]*\):.*/\1/p' "$work/snap.out")
scrape snap
check_eq "the last snapshot's id" "$(val "$work/snap.txt" bima_last_snapshot_id)" "${id:-none}"
age=$(val "$work/snap.txt" bima_last_snapshot_age_seconds)
check "its age is a few seconds ($age)" test "${age:-99}" -le 10
ts=$(val "$work/snap.txt" bima_last_snapshot_timestamp_seconds)
check "its time is now ($ts)" test $(($(date +%s) - ${ts:-0})) -le 10

# The file for the textfile collector.
check_eq "the metrics file is 0644" "$(stat -c %a "$prom" 2>&1)" 644
parse prom "$prom" >"$work/file1.txt" 2>&1
check_eq "it parses (Prometheus parser), with the BPRM_CHECK count" \
	"$(val "$work/file1.txt" 'bima_measurements_logged_total{hook="BPRM_CHECK"}')" $nexec
check "it has no # EOF, no # UNIT (Prometheus text format 0.0.4)" test "$(grep -c '^# EOF\|^# UNIT' "$prom")" -eq 0
m1=$(stat -c %Y "$prom")
sleep 6
check "it is rewritten every few seconds" test "$(stat -c %Y "$prom")" -gt "$m1"
check_eq "with no temporary file left beside it" "$(ls "$work/textfile")" bima.prom

stop_bima
parse prom "$prom" >"$work/final.txt" 2>&1
sed 's/^/    final| /' "$work/final.txt"
f() { val "$work/final.txt" "$1"; }
check_eq "at stop: the log's entries" "$(f bima_log_entries)" "$("$bima" log --log-dir "$logs" | wc -l)"
epoch=$(ls -d "$logs"/epoch-*)
check_eq "at stop: the log's bytes are its segment files'" "$(f bima_log_bytes)" \
	"$(stat -c %s "$epoch"/segment-* | awk '{ s += $1 } END { print s }')"
check_eq "at stop: nothing waits for the TPM (entries)" "$(f bima_extend_lag_entries)" 0
check_eq "at stop: nor for how long" "$(f bima_extend_lag_seconds)" 0
check_eq "at stop: nothing queued in the ring buffer" "$(f bima_ringbuf_queued_bytes)" 0
check_eq "at stop: BPRM_CHECK still $nexec" "$(f 'bima_measurements_logged_total{hook="BPRM_CHECK"}')" $nexec

# Drops by hook: a daemon with a 4 KiB ring buffer, stopped (SIGSTOP) during
# execs of new files (as test_loss), counts them under BPRM_CHECK, and once
# it runs again logs the loss: the sum by hook is what the log records lost.
nfull=60
# A new load: the pinned programs keep the ring buffer they were loaded with.
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload.out" 2>&1
check_eq "bima stop --unload, no daemon running, exits 0" $? 0
for i in $(seq $nfull); do unique_copy /bin/busybox "$work/ramfs/bin/full-$i"; done
start_bima "$work/bima2.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--ringbuf-size 4096 || exit 1
signal_bima STOP
for i in $(seq $nfull); do "$work/ramfs/bin/full-$i" true; done
kill -CONT "$bima_pid"
deadline=$((SECONDS + 30))
# both_full: BPRM_CHECK logged + dropped in the last scrape
both_full() {
	echo $(($(val "$work/drop.txt" 'bima_measurements_logged_total{hook="BPRM_CHECK"}') +
		$(val "$work/drop.txt" 'bima_measurements_dropped_total{hook="BPRM_CHECK"}')))
}
until scrape drop && [ "$(by_hook "$work/drop.txt" bima_measurements_dropped_total | cut -d' ' -f2)" = \
	"$(val "$work/drop.txt" bima_measurements_lost_total)" ] && [ "$(both_full)" = $nfull ]; do
	[ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
grep -E '^bima_measurements_(dropped|denied|lost)' "$work/drop.txt" | sed 's/^/    drop| /'
d() { val "$work/drop.txt" "$1"; }
check "dropped, BPRM_CHECK: some of the $nfull execs ($(d 'bima_measurements_dropped_total{hook="BPRM_CHECK"}'))" \
	test "$(d 'bima_measurements_dropped_total{hook="BPRM_CHECK"}')" -gt 0
check_eq "dropped, FILE_CHECK: none (nothing read)" "$(d 'bima_measurements_dropped_total{hook="FILE_CHECK"}')" 0
check_eq "the sum by hook is what the log records lost" \
	"$(by_hook "$work/drop.txt" bima_measurements_dropped_total)" "$hooks $(d bima_measurements_lost_total)"
check_eq "and BPRM_CHECK logged and dropped are the $nfull execs" \
	"$(both_full)" $nfull
stop_bima

# Denials by hook: the same, failing closed (as test_fail_closed): the
# execs that find the ring buffer full are refused, and counted under
# BPRM_CHECK. The policy measures only the test's files: nothing else is
# refused meanwhile.
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload2.out" 2>&1
for i in $(seq $nfull); do unique_copy /bin/busybox "$work/ramfs/bin/deny-$i"; done
start_bima "$work/bima3.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--ringbuf-size 4096 --fail-closed --grace 600 || exit 1
signal_bima STOP
refused=0
for i in $(seq $nfull); do "$work/ramfs/bin/deny-$i" true 2>/dev/null || [ $? != 126 ] || refused=$((refused + 1)); done
kill -CONT "$bima_pid"
deadline=$((SECONDS + 30))
until scrape deny && [ "$(($(val "$work/deny.txt" 'bima_measurements_logged_total{hook="BPRM_CHECK"}') + refused))" = $nfull ]; do
	[ $SECONDS -ge $deadline ] && break
	sleep 0.5
done
grep -E '^bima_measurements_(denied|dropped)_total\{hook="BPRM' "$work/deny.txt" | sed 's/^/    deny| /'
check "some execs are refused ($refused)" test $refused -gt 0
check_eq "denied, BPRM_CHECK: the execs refused" \
	"$(val "$work/deny.txt" 'bima_measurements_denied_total{hook="BPRM_CHECK"}')" $refused
check_eq "denied: a sample for each hook, BPRM_CHECK's the only ones" \
	"$(by_hook "$work/deny.txt" bima_measurements_denied_total)" "$hooks $refused"
check_eq "dropped: none (failing closed, nothing is lost)" \
	"$(by_hook "$work/deny.txt" bima_measurements_dropped_total)" "$hooks 0"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload3.out" 2>&1
check_eq "bima stop --unload exits 0" $? 0
wait "$bima_pid"

# A snapshot whose quote fails is a TPM error: a directory where the quote
# is to be saved (self-protection off, to make it) has it fail.
start_bima "$work/bima4.out" --policy "$work/policy" --log-dir "$logs" --tcti "$tcti" \
	--protect no || exit 1
epoch=$(ls -d "$logs"/epoch-* | tail -n 1)
for i in $(seq 50); do mkdir -p "$epoch/quote-$i.attest" 2>/dev/null; done
"$bima" snapshot >"$work/snap2.out" 2>&1
scrape quote
check_grep "the daemon says the snapshot has no quote" 'snapshot [0-9]+: no quote' "$work/bima4.out"
check_eq "bima_tpm_errors_total counts it" "$(val "$work/quote.txt" bima_tpm_errors_total)" 1
check_eq "while the TPM is up" "$(val "$work/quote.txt" bima_tpm_up)" 1
stop_bima
done_testing
