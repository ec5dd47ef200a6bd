# SPDX-License-Identifier: GPL-2.0-only
# Start a private swtpm (TPM 2.0) on a free loopback port for one test, and
# stop it when the test exits. Source it; it sets TCTI to "swtpm:port=N".
# swtpm_dir is a scratch directory for the test; the TPM's state lives in
# its subdirectory tpm/.

swtpm_dir=$(mktemp -d /tmp/bima-swtpm.XXXXXX)
swtpm_pid=
mkdir "$swtpm_dir/tpm"

swtpm_stop() {
	[ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
	swtpm_pid=
}
trap 'swtpm_stop; rm -rf "$swtpm_dir"' EXIT

swtpm_start() {
	local port tries=0
	command -v swtpm >/dev/null || skip "swtpm is not installed (make deps)"
	while [ $tries -lt 20 ]; do
		port=$((20000 + RANDOM % 20000))
		tries=$((tries + 1))
		swtpm socket --tpm2 --tpmstate dir="$swtpm_dir/tpm" \
			--server type=tcp,port="$port",bindaddr=127.0.0.1 \
			--ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 \
			--flags not-need-init,startup-clear 2>"$swtpm_dir/tpm/err" &
		swtpm_pid=$!
		for _ in $(seq 50); do
			if ! kill -0 "$swtpm_pid" 2>/dev/null; then break; fi
			if tpm2_getcap -T "swtpm:port=$port" properties-fixed >/dev/null 2>&1; then
				TCTI="swtpm:port=$port"
				return 0
			fi
			sleep 0.1
		done
		kill "$swtpm_pid" 2>/dev/null
		wait "$swtpm_pid" 2>/dev/null
		swtpm_pid=
	done
	echo "swtpm did not start: $(cat "$swtpm_dir/tpm/err")" >&2
	return 1
}

# A power cycle: the same TPM (its persistent state), a TPM Reset (new
# resetCount, PCRs back to zero), on a new port.
swtpm_restart() {
	swtpm_stop
	swtpm_start
}
