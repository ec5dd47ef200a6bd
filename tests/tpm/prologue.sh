# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash disable=SC2034 # the names it sets are the test's
# The opening every swtpm test shares. Source it first, after the test's
# header comment:
#
#   . "$(dirname "$0")/prologue.sh"
#
# It turns on set -u, sources the checks of tests/lib.sh and
# tests/tpm/swtpm.sh, and starts the test's own swtpm (TCTI names it; a
# test whose swtpm cannot start fails, one without swtpm is skipped). Then:
#   top      the source tree
#   bima     the program
#   writer   the daemon's epoch, log and TPM code, as a command (writer.c)
#   replay   an independent replay of a binary log (tests/ima_replay.py)
#   w        the test's scratch directory (swtpm_dir), removed at its exit
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/tpm/swtpm.sh"
swtpm_start || exit 1

bima=$top/bima
writer=$top/.output/tests/tpm-writer
replay=$top/tests/ima_replay.py
w=$swtpm_dir

# pcr_value BANK PCR: the TPM's value of PCR in BANK, lowercase hex without 0x
pcr_value() {
	tpm2_pcrread -T "$TCTI" "$1:$2" | awk -v pcr="$2:" '$1 == pcr { print tolower(substr($2, 3)) }'
}

# check_replays PCR LOGS [WHAT]: in the sha1 and sha256 banks, an
# independent replay of the binary log in LOGS (its epochs' segments)
# equals the TPM's PCR. WHAT names the log in the checks ("the log").
check_replays() {
	local bank
	for bank in sha1 sha256; do
		check_eq "independent $bank replay of ${3:-the log} equals TPM PCR $1" \
			"$("$replay" "$bank" "$1" "$2"/epoch-*/segment-*.bin)" "$(pcr_value "$bank" "$1")"
	done
}
