# SPDX-License-Identifier: GPL-2.0-only
# Start a private swtpm (TPM 2.0) on a free loopback port for one test, and
# stop it when the test exits. Source it; it sets TCTI to "swtpm:port=N".
# swtpm_dir is a scratch directory for the test; the TPM's state lives in
# its subdirectory tpm/.

swtpm_dir=$(mktemp -d /tmp/bima-swtpm.XXXXXX)
swtpm_pid=
swtpm_port=
mkdir "$swtpm_dir/tpm"

swtpm_stop() {
	[ -n "$swtpm_pid" ] && kill "$swtpm_pid" 2>/dev/null && wait "$swtpm_pid" 2>/dev/null
	swtpm_pid=
}
trap 'swtpm_stop; rm -rf "$swtpm_dir"' EXIT

# swtpm_launch PORT FLAGS: run swtpm on PORT (control on PORT+1) and wait
# until it answers; fails if it exits or does not answer within 5 s.
swtpm_launch() {
	swtpm socket --tpm2 --tpmstate dir="$swtpm_dir/tpm" \
		--server type=tcp,port="$1",bindaddr=127.0.0.1 \
		--ctrl type=tcp,port=$(($1 + 1)),bindaddr=127.0.0.1 \
		--flags "$2" 2>"$swtpm_dir/tpm/err" &
	swtpm_pid=$!
	for _ in $(seq 50); do
		kill -0 "$swtpm_pid" 2>/dev/null || break
		if tpm2_getcap -T "swtpm:port=$1" properties-fixed >/dev/null 2>&1; then
			swtpm_port=$1
			TCTI="swtpm:port=$1"
			return 0
		fi
		sleep 0.1
	done
	swtpm_stop
	return 1
}

swtpm_start() {
	local tries=0
	command -v swtpm >/dev/null || skip "swtpm is not installed (make deps)"
	while [ $tries -lt 20 ]; do
		tries=$((tries + 1))
		swtpm_launch $((20000 + RANDOM % 20000)) not-need-init,startup-clear && return 0
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

# The TPM goes away mid-run and comes back where it was, as a vTPM does when
# its VM migrates: swtpm_save stores its volatile state, swtpm_halt stops
# it, and swtpm_resume starts it again on the same port from that state
# (the same epoch, and the PCR values as saved: extends after the save are
# lost). swtpm_pause is the two first at once.
swtpm_save() {
	swtpm_ioctl --tcp "127.0.0.1:$((swtpm_port + 1))" -v
}

swtpm_halt() {
	swtpm_ioctl --tcp "127.0.0.1:$((swtpm_port + 1))" -s && wait "$swtpm_pid" 2>/dev/null
	swtpm_pid=
}

swtpm_pause() {
	swtpm_save && swtpm_halt
}

swtpm_resume() {
	swtpm_launch "$swtpm_port" not-need-init ||
		{ echo "swtpm did not resume: $(cat "$swtpm_dir/tpm/err")" >&2; return 1; }
}
