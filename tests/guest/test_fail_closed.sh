#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: --fail-closed. An exec whose measurement cannot be recorded is
# denied with EPERM: first with a full ring buffer (the daemon stopped with
# SIGSTOP), and with the daemon killed and its grace period over. bima
# itself still runs then, so a new daemon can start; once it runs, execs
# work again. Denied execs did not happen: they are counted and reported,
# not logged, and the log still verifies.
#
# The exemption is for bima's code only: with no daemon, LD_PRELOAD of a
# library of one's own (evil.so, whose constructor leaves a mark, opens a
# file and execs a static busybox copy) into bima is denied: the library
# is not mapped, so its constructor never runs.
#
# While the hooks deny, the test runs nothing but the exec under test and
# shell builtins (an external grep or sleep would be denied too).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/fc-test
logs=$work/log
mkdir -p "$work/bin"
for i in $(seq 40); do unique_copy /usr/bin/true "$work/bin/full-$i"; done
unique_copy /usr/bin/true "$work/bin/absent"
unique_copy /usr/bin/true "$work/bin/after"
chmod +x "$work/bin/"*
unique_copy /bin/busybox "$work/bin/evil-exec" # static: runs wherever it is exec'd
chmod +x "$work/bin/evil-exec"
cat >"$work/evil.c" <<C
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void evil(void)
{
	int fd = open("$work/evil.mark", O_WRONLY | O_CREAT | O_APPEND, 0644);

	write(fd, "constructor ran\n", 16);
	if (open("$work/bin/absent", O_RDONLY) >= 0)
		write(fd, "open ok\n", 8);
	close(fd);
	execl("$work/bin/evil-exec", "echo", "evil exec ran", (char *)0);
}
C
cc -shared -fPIC -o "$work/evil.so" "$work/evil.c" || not_ok "cc builds evil.so"

# spin SECONDS: wait without running anything
spin() {
	local end=$((SECONDS + $1 + 1))
	while [ $SECONDS -lt $end ]; do :; done
}

# 1. The daemon dies; after its grace period every exec is denied but bima's.
start_bima "$work/bima1.out" --log-dir "$logs" --tcti "$tcti" --fail-closed --grace 2 || exit 1
signal_bima KILL
wait "$bima_pid" 2>/dev/null
spin 2
"$work/bin/absent" 2>"$work/absent.err"
absent_status=$?
"$bima" version >"$work/version.out" 2>&1
version_status=$?
LD_PRELOAD=$work/evil.so "$bima" version >"$work/evil.out" 2>&1
evil_status=$?
# A daemon without --fail-closed: adopting the pins turns it off.
"$bima" run --log-dir "$logs" --tcti "$tcti" >"$work/bima2.out" 2>&1 &
bima_pid=$!
until /usr/bin/true 2>/dev/null; do
	kill -0 "$bima_pid" 2>/dev/null || break
done
"$work/bin/after"
after_status=$?
check_eq "with no daemon past the grace period, an exec is refused (status 126)" "$absent_status" 126
check_grep "and refused with EPERM" 'absent: Operation not permitted' "$work/absent.err"
check_eq "bima itself still runs" "$version_status" 0
check_grep "and prints its version" '^bima ' "$work/version.out"
echo "    LD_PRELOAD=evil.so bima version: status $evil_status"
sed 's/^/    evil.out| /' "$work/evil.out"
[ -e "$work/evil.mark" ] && sed 's/^/    evil.mark| /' "$work/evil.mark"
check "LD_PRELOAD=evil.so bima: the library's constructor never ran (no mark)" test ! -e "$work/evil.mark"
check "nor did it exec (no 'evil exec ran')" test "$(grep -c 'evil exec ran' "$work/evil.out")" -eq 0
check_grep "the loader could not map evil.so" 'evil\.so.*(cannot be preloaded|failed to map)' "$work/evil.out"
check_grep "a new daemon starts and adopts the pins" 'adopted the BPF objects' "$work/bima2.out"
check_eq "once it runs without --fail-closed, execs run again" "$after_status" 0
check_grep "it reports what was denied while no daemon ran" '--fail-closed denied [1-9][0-9]* operation' "$work/bima2.out"
stop_bima
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >/dev/null 2>&1

# 2. The ring buffer fills up while the daemon is stopped (SIGSTOP). Up to a
# quarter of it may hold records logged and not yet in a bima_seq entry, and
# records of the last 200 ms may be unread: 16 KiB leaves the first exec
# (its own record and its libraries' opens and mappings on 9p, which are
# hashed at each access) room, and 40 execs fill it.
start_bima "$work/bima3.out" --log-dir "$logs" --tcti "$tcti" --ringbuf-size 16384 \
	--fail-closed --grace 600 || exit 1
signal_bima STOP
status=()
for i in $(seq 40); do
	"$work/bin/full-$i" 2>>"$work/full.err"
	status[i]=$?
done
kill -CONT "$bima_pid"
until /usr/bin/true 2>/dev/null; do :; done # until the daemon has drained
# Unload rather than stop: a stopped daemon's full ring buffer denies everything.
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/stop.out" 2>&1
check_eq "bima stop --unload exits 0" $? 0
wait "$bima_pid"
check_eq "the daemon exits 0 after SIGTERM" $? 0
check_eq "the first exec with room in the ring buffer runs" "${status[1]}" 0
check_eq "the last exec, the ring buffer full, is refused (status 126)" "${status[40]}" 126
check_grep "and refused with EPERM" 'full-40: Operation not permitted' "$work/full.err"
check_grep "the daemon reports the denials" '--fail-closed denied [1-9][0-9]* operation' "$work/bima3.out"
check_grep "it warned at stop what fail-closed does without a daemon" \
	'--fail-closed: from 600000 ms after this stop' "$work/bima3.out"

"$bima" log --log-dir "$logs" >"$work/log.txt"
check_grep "the exec that ran first is logged" " $work/bin/full-1\$" "$work/log.txt"
check_grep "the exec after the restart is logged" " $work/bin/after\$" "$work/log.txt"
check "the refused exec is not logged (it did not happen)" \
	test "$(grep -c " $work/bin/absent\$" "$work/log.txt")" -eq 0
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
sed 's/^/    verify| /' "$work/verify.txt"
for f in "$work"/bima[123].out; do grep -v debug "$f" | sed "s/^/    ${f##*/}| /"; done
done_testing
