#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: the commands take the running daemon's settings from
# /run/bima/state, which `bima run` writes once it is the daemon. After
# `bima run --log-dir DIR --pcr 11 --control SOCK --ascii none`, `bima
# status`, `bima snapshot`, `bima log` and `bima verify` need none of those
# options; `bima stop --unload` given another log directory, PCR or
# template is refused, naming the daemon's, and touches nothing; given
# none, it stops the daemon, logs what is queued into DIR with PCR 11, and
# removes the file with the pins; without the file, the PCR is the pinned
# programs'. A state file another user could have written, or replaced
# (its directory writable by others), is ignored, and said so; the same
# file, root's alone, is taken. A second daemon refused (the first holds
# the socket) leaves the file alone.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/state-test
logs=$work/log
sock=/run/bima/state-test.sock
state=/run/bima/state
mkdir -p "$work"
unique_copy /usr/bin/true "$work/true-a"
unique_copy /usr/bin/true "$work/true-b"

[ ! -e "$state" ]
check_eq "no state before a daemon runs" $? 0
start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" --pcr 11 --control "$sock" \
	--ascii none || exit 1
check_eq "the daemon writes its settings, root's, 0644" "$(stat -c '%F %a %u' "$state")" \
	"regular file 644 0"
sed 's/^/    state| /' "$state"
check_grep "with its log directory" "^log-dir = $(ere "$logs")\$" "$state"
check_grep "its PCR" '^pcr = 11$' "$state"
check_grep "its template, as resolved" '^template = bima-ct$' "$state"
check_grep "its control socket" "^control = $(ere "$sock")\$" "$state"

"$bima" run --log-dir "$work/other" --tcti "$tcti" --control "$sock" >"$work/second.out" 2>&1
check_eq "a second daemon is refused" $? 1
check_grep "and the state is still the first's" "^log-dir = $(ere "$logs")\$" "$state"

"$work/true-a"
"$bima" status >"$work/status.out" 2>&1
check_eq "bima status, no --control, reaches the daemon on its socket" $? 0
check_eq "and it names the daemon's log directory" "$(sed -n 's/^log-dir: //p' "$work/status.out")" \
	"$logs"
"$bima" snapshot >"$work/snap.out" 2>&1
check_eq "bima snapshot, no --control, takes one" $? 0
"$bima" log >"$work/log.txt" 2>&1
check_eq "bima log, no --log-dir, prints the daemon's log" $? 0
check_grep "with the file just run" "$(ere "$work/true-a")" "$work/log.txt"
check_grep "in PCR 11" "^11 " "$work/log.txt"

for bad in "--log-dir $work/other" "--pcr 10" "--template ima-ng" "--ascii $work/list"; do
	# shellcheck disable=SC2086 # an option and its value
	"$bima" stop --unload $bad >"$work/bad.out" 2>&1
	check_eq "bima stop --unload $bad is refused (2)" $? 2
	check_grep "naming the daemon's setting" "the pinned bima runs with .* = .*$(ere "$state")" \
		"$work/bad.out"
	kill -0 "$bima_pid" 2>/dev/null
	check_eq "and the daemon still runs" $? 0
done
[ ! -e "$work/other" ]
check_eq "no log was begun in the other directory" $? 0

"$bima" stop --unload --log-dir "$logs/" --pcr 11 >"$work/same.out" 2>&1 &
stopper=$!
wait "$bima_pid"
check_eq "bima stop --unload given the same settings (a trailing /) stops the daemon" $? 0
wait "$stopper"
check_eq "and unloads (0)" $? 0
bima_pid=
[ ! -e "$state" ]
check_eq "the state goes with the pins" $? 0
[ ! -e /sys/fs/bpf/bima/bima_config ]
check_eq "the pins are gone" $? 0

"$bima" verify --tcti "$tcti" --log-dir "$logs" >"$work/verify.out" 2>&1
check_eq "the log verifies against PCR 11" $? 0
grep -q "PCR 11: the log replays" "$work/verify.out"
check_eq "naming PCR 11" $? 0

# A daemon, then the pins alone: `bima stop --unload` with no option drains into its log.
start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" --pcr 11 --control "$sock" \
	--ascii none || exit 1
stop_bima
check_grep "after a stop, the state stays with the pins" '^pcr = 11$' "$state"
"$work/true-b" # measured into the ring buffer, no daemon reading
"$bima" stop --unload >"$work/unload.out" 2>&1
check_eq "bima stop --unload with no option unloads (0)" $? 0
"$bima" log --log-dir "$logs" >"$work/log2.txt" 2>&1
check_grep "the record queued without a daemon is in the daemon's log" "$(ere "$work/true-b")" \
	"$work/log2.txt"
"$bima" verify --tcti "$tcti" --log-dir "$logs" >"$work/verify2.out" 2>&1
check_eq "which verifies" $? 0

# Without the file (a bima of an older build ran), the PCR is the pinned programs'.
start_bima "$work/bima3.out" --log-dir "$logs" --tcti "$tcti" --pcr 11 --control "$sock" \
	--ascii none || exit 1
stop_bima
rm -f "$state"
"$bima" stop --unload --log-dir "$logs" --ascii none >"$work/unload3.out" 2>&1
check_eq "with no state, bima stop --unload unloads (0)" $? 0
check_grep "taking the PCR from the pinned programs" \
	'the pinned programs extend PCR 11: unloading with it' "$work/unload3.out"

# A state file that is not root's alone is not taken.
mkdir -p /run/bima
printf 'log-dir = %s\n' "$work/planted" >"$state"
chmod 0666 "$state"
"$bima" log >"$work/planted.out" 2>&1
check_grep "a state file others may write is ignored, and said" \
	"$(ere "$state"): ignored: it is not a file that root alone may write" "$work/planted.out"
grep -q "$work/planted" "$work/planted.out"
check_eq "its log directory is not used" $? 1
# Nor one root's alone in a directory others may write: they could replace it.
chmod 0644 "$state"
mode=$(stat -c %a /run/bima)
chmod 0777 /run/bima
"$bima" log >"$work/planted-dir.out" 2>&1
chmod "$mode" /run/bima
check_grep "a state file in a directory others may write is ignored, and said" \
	"$(ere "$state"): ignored: .* in a directory that root alone may write" "$work/planted-dir.out"
grep -q "$work/planted" "$work/planted-dir.out"
check_eq "its log directory is not used" $? 1
# And the control: the same file, root's alone in a directory root's alone, is taken.
"$bima" log >"$work/taken.out" 2>&1
check_grep "the same file, root's alone, is taken" "$(ere "$work/planted")" "$work/taken.out"
rm -f "$state"
done_testing
