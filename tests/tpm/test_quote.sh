#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM: the attestation key is created once and kept
# (the same public key the second time); `bima ak export` writes it as PEM;
# `bima quote` has the TPM quote PCR 10 over a nonce and hands it over with
# the log, and OpenSSL verifies the signature with that PEM, finds the
# nonce in what was signed, and refuses the quote once a byte of it
# changes. Without a log to go with it, no quote is made.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

state=$w/state
out=$w

"$bima" ak export --log-dir "$state" --tcti "$TCTI" >"$out/ak.pem" 2>"$out/ak.err"
check_eq "bima ak export exits 0" $? 0
check_grep "it writes a PEM public key" '^-----BEGIN PUBLIC KEY-----$' "$out/ak.pem"
check_grep "an ECC P-256 key" 'prime256v1|P-256' <(openssl pkey -pubin -in "$out/ak.pem" -noout -text 2>&1)
check "the key's blobs are kept in the state directory" test -s "$state/ak.pub" -a -s "$state/ak.priv"
"$bima" ak export --log-dir "$state" --tcti "$TCTI" >"$out/ak2.pem" 2>/dev/null
check "a second export loads the same key" cmp -s "$out/ak.pem" "$out/ak2.pem"

nonce=0123456789abcdef0011223344556677
"$bima" quote --nonce "$nonce" --out "$out/none" --log-dir "$state" --tcti "$TCTI" >"$out/none.out" 2>&1
check_eq "bima quote without a log exits 1" $? 1
check_grep "saying why" "no log of the TPM's epoch" "$out/none.out"
"$writer" "$TCTI" "$state" 10 /bin/true >/dev/null 2>&1
"$bima" quote --nonce "$nonce" --out "$out/q" --log-dir "$state" --tcti "$TCTI" >"$out/quote.out" 2>&1
check_eq "bima quote exits 0" $? 0
check "it writes the quote and the log" test -s "$out/q/quote.attest" -a -s "$out/q/quote.sig" -a \
	-s "$out/q/epoch-1-0/segment-000001.bin"
check "the log as it is" cmp -s "$out/q/epoch-1-0/segment-000001.bin" "$state/epoch-1-0/segment-000001.bin"
mv "$out/q/quote.attest" "$out/q.attest"
mv "$out/q/quote.sig" "$out/q.sig"
openssl dgst -sha256 -verify "$out/ak.pem" -signature "$out/q.sig" "$out/q.attest" >"$out/v1" 2>&1
check_grep "OpenSSL verifies the quote with the exported key" '^Verified OK$' "$out/v1"
check "the signed TPMS_ATTEST is a quote (TPM_GENERATED, TPM_ST_ATTEST_QUOTE)" \
	grep -q '^ff5443478018' <(od -An -tx1 "$out/q.attest" | tr -d ' \n')
check "and holds the nonce" grep -q "$nonce" <(od -An -tx1 "$out/q.attest" | tr -d ' \n')
cp "$out/q.attest" "$out/q.attest.orig"
# Flip the low bit of byte 40: writing a fixed byte is no change where it is already there.
python3 -c 'import sys; f = open(sys.argv[1], "r+b"); f.seek(40); b = f.read(1)[0]; f.seek(40); f.write(bytes([b ^ 1]))' \
	"$out/q.attest"
cmp -s "$out/q.attest" "$out/q.attest.orig"
check_eq "the changed copy differs from the signed one (cmp: 1)" $? 1
openssl dgst -sha256 -verify "$out/ak.pem" -signature "$out/q.sig" "$out/q.attest" >"$out/v2" 2>&1
check_grep "a changed byte fails verification" '^Verification failure' "$out/v2"
"$bima" quote --nonce xyz --out "$out/bad" --log-dir "$state" --tcti "$TCTI" >"$out/bad.out" 2>&1
check_eq "a nonce that is not hex is refused (2)" $? 2
sed 's/^/    | /' "$out/quote.out" "$out/ak.err"
swtpm_stop
done_testing
