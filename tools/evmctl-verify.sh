#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Replay an IMA binary measurement list with evmctl against this machine's
# TPM: evmctl needs the PCR values per bank in files ("PCR-NN: hex"), or it
# prints "Failed to read any TPM PCRs" and still exits 0. The values are read
# with shell builtins, so reading them adds no measurement of its own.
# Violations (a zero template hash) are extended as all 0xff in every bank,
# as the kernel extends them; evmctl replays them so with --ignore-violations.
#   usage: evmctl-verify.sh LIST     (exit status and output: evmctl's)
set -u
list=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
args=()
for bank in sha1 sha256; do
	for i in $(seq 0 23); do
		read -r v <"/sys/class/tpm/tpm0/pcr-$bank/$i" || exit 2
		printf 'PCR-%02d: %s\n' "$i" "$v"
	done >"$tmp/$bank"
	args+=(--pcrs "$bank,$tmp/$bank")
done
evmctl ima_measurement --ignore-violations "${args[@]}" "$list"
