# SPDX-License-Identifier: GPL-2.0-only
# Helpers for guest tests (run inside the QEMU guest by tools/vmtest).
# Source after tests/lib.sh.

[ "${VMTEST:-}" = 1 ] || skip "a guest test: run it with tools/vmtest/vmtest.sh"
bima=$top/bima
tcti=device:/dev/tpmrm0
bima_pid=
. "$top/tools/vmtest/modules.sh"

# start_bima OUTPUT ARGS...: start `bima run ARGS` and wait until it says it
# is measuring. Fails (with its output) if it dies or does not get there in time.
start_bima() {
	local out=$1 deadline=$((SECONDS + 120))
	shift
	"$bima" run "$@" >"$out" 2>&1 &
	bima_pid=$!
	while ! grep -q 'measuring exec' "$out"; do
		if ! kill -0 "$bima_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			not_ok "bima run starts and measures" "$(tail -n 20 "$out")"
			kill -9 "$bima_pid" 2>/dev/null
			bima_pid=
			return 1
		fi
		sleep 0.2
	done
	ok "bima run starts and measures ($*)"
}

# signal_bima SIG: send SIG to the daemon, again until it is let through.
# Under self-protection the signals that would end or stop it are refused
# while entries it logged wait for the TPM, which is some milliseconds when
# the host is idle. Fails if it is not let through within 30 s.
signal_bima() {
	local deadline=$((SECONDS + 30))
	until kill -"$1" "$bima_pid" 2>/dev/null; do
		if ! kill -0 "$bima_pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
			not_ok "the daemon takes SIG$1 within 30 s"
			return 1
		fi
		sleep 0.05
	done
}

# stop_bima: SIGTERM, then wait (bounded) for a clean exit.
stop_bima() {
	local deadline=$((SECONDS + 60)) status
	kill -TERM "$bima_pid"
	while kill -0 "$bima_pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
	if kill -0 "$bima_pid" 2>/dev/null; then
		kill -9 "$bima_pid"
		not_ok "bima stops on SIGTERM within 60 s"
	fi
	wait "$bima_pid"
	status=$?
	check_eq "bima exits 0 after SIGTERM" "$status" 0
	bima_pid=
}

# unique_copy SRC DST: a copy of an executable with a digest no other run has
unique_copy() {
	cp "$1" "$2"
	printf 'bima-test %s %s\n' "$$" "$(date +%s%N)" >>"$2"
}

sha256() { sha256sum "$1" | cut -d' ' -f1; }
