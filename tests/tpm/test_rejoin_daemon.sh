#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A rejoin as the daemon's own queue does it (user/daemon/: extends,
# rejoin, snapshot count, `bima status` on a real control socket), on a
# real (software) TPM that lost the extends of the last 1000 entries logged
# before the daemon started, and then went away. `bima status` says that a
# reconciliation runs while its scan reads the log again, and how far it is
# (entries read of the log's), and that none runs before and after it. The
# daemon takes a snapshot every 3 entries it writes: the rejoin, which
# takes the TPM's count (status `entries`) back below where it was at the
# start until the tail is extended again, does not make one due early.
# Before, the count since the last snapshot was taken from the TPM's, and
# wrapped around below zero: a snapshot was due as soon as the scan ended.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"
[ "$(id -u)" -eq 0 ] || skip "the daemon's ring buffer and control socket need root"

logs=$w/logs
out=$w/out
n=20000
lost=1000
mkdir -m 0700 "$w/run"

"$writer" "$TCTI" "$logs" 11 count:$n >/dev/null 2>&1
check_eq "a log of $n entries is written and extended" $? 0
"$writer" "$TCTI" "$logs" 11 daemon-behind:$lost:"$w/run/control" >"$out" 2>&1
check_eq "the daemon's queue loses $lost extends, rejoins, and goes on" $? 0
sed 's/^/    | /' "$out"

# field WHEN NAME: the value of NAME in the status asked WHEN
field() { awk -v when="== status $1" -v name="$2: " \
	'/^== / {on = $0 == when; next} on && index($0, name) == 1 {print substr($0, length(name) + 1)}' "$out"; }

# The log before the rejoin: the boot_aggregate, the n entries, the lost
# ones, and the entry whose extend found the TPM gone.
total=$((1 + n + lost + 1))
check_eq "before the rejoin no reconciliation runs" \
	"$(field "before the rejoin" reconciling) $(field "before the rejoin" reconcile-read-entries) $(field "before the rejoin" reconcile-total-entries)" "no 0 0"
slices=$(sed -n 's/^daemon-behind: the scan took \([0-9]*\) slices$/\1/p' "$out")
check "the scan of the log is read in several slices (${slices:-?})" test "${slices:-0}" -ge 2
check_eq "after its first slice, status says a reconciliation runs" \
	"$(field "during the scan" reconciling)" yes
read=$(field "during the scan" reconcile-read-entries)
check "with the entries it has read (${read:-?}), more than none and fewer than the log's" \
	test "${read:-0}" -gt 0 -a "${read:-0}" -lt $total
check_eq "of the log's entries: the TPM held $((total - lost - 1)) and $((lost + 1)) wait" \
	"$(field "during the scan" reconcile-total-entries)" $total
check_eq "the TPM answers meanwhile" "$(field "during the scan" tpm)" reachable
check_eq "once the scan ended, none runs" \
	"$(field "after the scan" reconciling) $(field "after the scan" reconcile-read-entries) $(field "after the scan" reconcile-total-entries)" "no 0 0"
before=$(field "before the rejoin" entries)
after=$(field "after the scan" entries)
check_eq "the daemon started believing the TPM held $((1 + n + lost)) entries" "$before" $((1 + n + lost))
check "and the rejoin took that count back below it (${after:-?})" test "${after:-$before}" -lt "$before"
check_eq "to be made up by the tail, and its mark, that wait" \
	$((${after:-0} + $(field "after the scan" unextended-entries))) $((total + 1))
waiting=$(sed -n 's/^daemon-behind: once it ended, \([0-9]*\) entries waiting: .*/\1/p' "$out")
check "and the tail waits for the TPM (${waiting:-?} entries)" test "${waiting:-0}" -gt 0
check_grep "no snapshot is due then: 2 entries written (the one logged, the tail's mark)" \
	'^daemon-behind: once it ended, [0-9]* entries waiting: snapshot due: no$' "$out"
check_grep "nor once the TPM holds it all" '^daemon-behind: all extended: snapshot due: no$' "$out"
check_grep "one is, at the third entry written" '^daemon-behind: an entry more: snapshot due: yes$' "$out"

check_replays 11 "$logs"
"$bima" log --log-dir "$logs" >"$out"
check_eq "every entry is logged once: those before, those lost, the daemon's two" \
	"$(grep -c ' /bench/' "$out") $(grep -c ' /behind/' "$out") $(grep -c ' /daemon/' "$out")" \
	"$n $lost 2"
check_eq "the lost ones and the daemon's first followed by the tail's mark" \
	"$(grep -oE ' (/behind/|/daemon/[0-9]+/0|bima_tail_extended|/daemon/[0-9]+/1)' "$out" | sed 's#/[0-9]*/#/#' | uniq | tr -d ' \n')" \
	"/behind//daemon/0bima_tail_extended/daemon/1"
"$bima" verify --log-dir "$logs" --tcti "$TCTI" >"$out" 2>&1
check_eq "bima verify passes" $? 0
done_testing
