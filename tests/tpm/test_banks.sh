#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM with two banks allocated, sha1 and sha256, as
# many hardware TPMs have: the daemon's code logs and extends those two,
# and `bima verify`, which against the TPM replays only the banks the TPM
# allocates, verifies the log with its snapshot and quote, against the
# TPM and from a quote bundle, names the two banks it compared, and still
# refuses an altered entry.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"
command -v tpm2_pcrallocate >/dev/null || skip "tpm2-tools is not installed"

state=$w/state
out=$w

tpm2_pcrallocate -T "$TCTI" sha1:all+sha256:all+sha384:none+sha512:none >"$out/alloc" 2>&1
check_eq "the TPM takes an allocation of sha1 and sha256 alone" $? 0
swtpm_restart || exit 1 # a TPM reset: the allocation takes effect
tpm2_getcap -T "$TCTI" pcrs >"$out/pcrs" 2>&1
check_grep "after a reset it has sha384 without a PCR" "sha384: \[ \]" "$out/pcrs"

"$writer" "$TCTI" "$state" 11 /bin/true /bin/ls snapshot /bin/cat violation:/tmp/x /bin/sh \
	>"$out/w" 2>&1
check_eq "the writer logs and extends entries and a snapshot" $? 0
"$bima" verify --log-dir "$state" --tcti "$TCTI" >"$out/v1" 2>&1
check_eq "bima verify against the TPM exits 0" $? 0
check_grep "it compares the two banks the TPM has" \
	"^PCR 11: the log replays to the TPM value in sha1 sha256$" "$out/v1"
check_grep "it verifies the 7 entries" ": 7 entries in 2 segment\(s\): verified$" "$out/v1"
check_grep "and the snapshot's quote" "1 quote\(s\) verified with the attestation key" "$out/v1"

"$bima" ak export --log-dir "$state" --tcti "$TCTI" >"$out/ak.pem" 2>/dev/null
"$bima" quote --log-dir "$state" --tcti "$TCTI" --pcr 11 --nonce 0011 --out "$out/q" \
	>"$out/quote.out" 2>&1
check_eq "bima quote exits 0" $? 0
"$bima" verify --log-dir "$out/q" --quote "$out/q/quote" --ak "$out/ak.pem" --nonce 0011 \
	>"$out/v2" 2>&1
check_eq "bima verify of the quote bundle exits 0" $? 0
check_grep "it names the two banks quoted" "^PCR 11: the log replays to the quote in sha1 sha256$" \
	"$out/v2"

# Another path in the last entry, the template hash left as it was.
seg=$(ls "$state"/epoch-*/segment-*.bin | tail -n 1)
python3 - "$seg" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.rfind(b"/bin/sh")
data[at + 5:at + 7] = b"zz"
open(sys.argv[1], "wb").write(data)
PY
"$bima" verify --log-dir "$state" --tcti "$TCTI" >"$out/v3" 2>&1
check_eq "an altered entry fails (exit 1)" $? 1
check_grep "named by its segment and entry" \
	"^FAIL: segment 2, entry [0-9]+: template hash does not match the template data \(/bin/zz\)" \
	"$out/v3"
sed 's/^/    | /' "$out/w" "$out/v1" "$out/v2" "$out/v3"
swtpm_stop
done_testing
