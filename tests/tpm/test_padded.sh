#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM: a log whose sha384 and sha512 banks the TPM
# holds extended with the zero-padded SHA-1 template hash, as a kernel
# whose crypto lacks those hashes extends them (replay.h). `bima verify`
# replays its banks their own way only until a comparison needs the padded
# way (a snapshot's values, its quote, the TPM's values at the end), then
# catches it up from the log: it must still verify such a log against the
# TPM and from a quote, name the padded banks, find where a log that runs
# ahead of the TPM stops matching, and refuse an altered entry. `bima log
# --format cel-json` must give those banks' digests padded too.
#
# The log is written by the daemon's own code into the resettable PCR 16,
# not extended (--write-only); the test resets the PCR and extends each
# entry itself, padded. A second writer run takes the epoch up as a daemon
# restart does, settles the padded banks against the TPM, and goes on: a
# snapshot, quoted, and two entries extended the same way.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"
command -v tpm2_pcrreset >/dev/null || skip "tpm2-tools is not installed"

state=$w/state
out=$w

"$writer" --write-only "$TCTI" "$state" 16 /bin/true /bin/ls violation:/tmp/x /bin/cat \
	>"$out/w1" 2>&1
check_eq "the writer writes a log in PCR 16" $? 0
tpm2_pcrreset -T "$TCTI" 16 >/dev/null 2>&1
check_eq "PCR 16 is reset" $? 0
# Extend every entry: sha1 and sha256 their own way, sha384 and sha512 padded.
python3 - "$state/epoch-1-0/segment-000001.bin" "$TCTI" <<'EOF' >"$out/extend" 2>&1
import hashlib, struct, subprocess, sys

data = open(sys.argv[1], "rb").read()
off = 0
while off < len(data):
    pcr, = struct.unpack_from("<I", data, off)
    digest = data[off + 4:off + 24]
    nlen, = struct.unpack_from("<I", data, off + 24)
    off += 28 + nlen
    dlen, = struct.unpack_from("<I", data, off)
    tdata = data[off + 4:off + 4 + dlen]
    off += 4 + dlen
    if digest == bytes(20):  # a violation: 0xff... in every bank
        d = {a: b"\xff" * n for a, n in (("sha1", 20), ("sha256", 32), ("sha384", 48), ("sha512", 64))}
    else:
        d = {"sha1": digest, "sha256": hashlib.sha256(tdata).digest(),
             "sha384": digest + bytes(28), "sha512": digest + bytes(44)}
    arg = "%d:" % pcr + ",".join("%s=%s" % (a, v.hex()) for a, v in d.items())
    subprocess.run(["tpm2_pcrextend", "-T", sys.argv[2], arg], check=True)
EOF
check_eq "the test extends the 5 entries itself, padded" $? 0
"$writer" "$TCTI" "$state" 16 snapshot /bin/sh /bin/echo >"$out/w2" 2>&1
check_eq "a second writer run goes on with a snapshot and two entries" $? 0
check_grep "taking up the epoch as a daemon restart does" "continuing epoch .*: 5 entries, the TPM agrees" "$out/w2"

padded='sha1 sha256 sha384 \(zero-padded SHA-1\) sha512 \(zero-padded SHA-1\)$'
"$bima" verify --log-dir "$state" --tcti "$TCTI" >"$out/v1" 2>&1
check_eq "bima verify against the TPM exits 0" $? 0
check_grep "it names the padded banks" "^PCR 16: the log replays to the TPM value in $padded" "$out/v1"
check_grep "it verifies the 8 entries" ": 8 entries in 3 segment\(s\): verified$" "$out/v1"
check_grep "and the snapshot's quote" "1 quote\(s\) verified with the attestation key" "$out/v1"

# The log as a CEL: the snapshot's values tell that sha384 and sha512 are
# padded, so their digests are, and an independent replay matches the TPM.
"$bima" log --log-dir "$state" --format cel-json >"$out/cel" 2>"$out/cel.err"
check_eq "bima log --format cel-json exits 0" $? 0
python3 "$top/tests/cel_replay.py" --tcti "$TCTI" "$out/cel" >"$out/cel.replay" 2>&1
check_eq "an independent replay of the CEL matches the TPM in every bank" $? 0
for bank in sha1 sha256 sha384 sha512; do
	check_grep "PCR 16 $bank replays to the TPM's value" "^PCR 16 $bank [0-9a-f]+ match$" \
		"$out/cel.replay"
done
for bank in sha384 sha512; do
	check_grep "its $bank digests are the zero-padded SHA-1" "^padded $bank [1-9]" \
		"$out/cel.replay"
done

"$bima" ak export --log-dir "$state" --tcti "$TCTI" >"$out/ak.pem" 2>/dev/null
"$bima" quote --log-dir "$state" --tcti "$TCTI" --pcr 16 --nonce 0011 --out "$out/q" \
	>"$out/quote.out" 2>&1
check_eq "bima quote exits 0" $? 0
"$bima" verify --log-dir "$out/q" --quote "$out/q/quote" --ak "$out/ak.pem" --nonce 0011 \
	>"$out/v2" 2>&1
check_eq "bima verify of the quote bundle exits 0" $? 0
check_grep "it names the padded banks" "^PCR 16: the log replays to the quote in $padded" "$out/v2"

"$writer" --write-only "$TCTI" "$state" 16 /bin/cp /bin/mv >/dev/null 2>&1
"$bima" verify --log-dir "$state" --tcti "$TCTI" >"$out/v3" 2>&1
check_eq "a log that runs ahead of the TPM verifies (exit 0)" $? 0
check_grep "up to the entry the TPM holds, padded" \
	"runs ahead of the TPM value by 2 entries: up to segment 3, entry 1 \(entry 8 of 10\) .* in $padded" \
	"$out/v3"

# Another path in the first entry after the snapshot, the template hash left as it was.
seg=$(ls "$state"/epoch-1-0/segment-*.bin | sed -n 3p)
python3 - "$seg" <<'EOF'
import sys
data = bytearray(open(sys.argv[1], "rb").read())
at = data.rfind(b"/bin/sh")
data[at + 5:at + 7] = b"zz"
open(sys.argv[1], "wb").write(data)
EOF
"$bima" verify --log-dir "$state" --tcti "$TCTI" >"$out/v4" 2>&1
check_eq "an altered entry fails (exit 1)" $? 1
check_grep "named by its segment and entry" \
	"^FAIL: segment 3, entry 0: template hash does not match the template data \(/bin/zz\)" "$out/v4"
sed 's/^/    | /' "$out/extend" "$out/w1" "$out/w2" "$out/cel.replay" "$out/v1" "$out/v2" "$out/v3" "$out/v4"
swtpm_stop
done_testing
