#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The tamper corpus: one case per run, each an attack on a log that a
# remote verifier checks offline (`bima quote` bundle, `bima verify --quote
# --ak --nonce`), on a real (software) TPM. Every case must be refused with
# exit status 1 and a message that names the cause, but own-key (exit 2:
# the bundle cannot be verified without a key the verifier brings) and
# violation-restart, where the attack is on the daemon, which must not
# read a violation's data.
#
#   tests/tpm/tamper.sh --list     the cases
#   tests/tpm/tamper.sh CASE       run one (tests/run.sh runs each)
#
# The log: segment 1 = boot_aggregate f1 f2 f3 snapshot-1, segment 2 = f4
# f5 f6 snapshot-2, segment 3 = f7 f8 snapshot-3, segment 4 = f9. The
# anchor map forged with bpftool is in tests/guest/test_snapshot.sh (it
# needs the kernel).
set -u
cases="intact hash digest name buf hash-ahead truncated deleted duplicated reordered spliced
chain-gap segment-removed anchor-forged quote-nonce quote-key quote-key-form quote-replayed
snapshot-quote-replayed own-key own-key-tpm sig-padded snapshot-sig-padded gz-bomb
violation-renamed violation-snapshot violation-mark snapshot-pcr entry-pcr seq-gap
violation-restart"
if [ "${1:-}" = --list ]; then
	echo $cases
	exit 0
fi
case=${1:?usage: tamper.sh --list | CASE}
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"
tamper=$top/tests/tpm/tamper.py
nonce=5eed0f0123456789
mkdir -p "$w/files"
for i in 1 2 3 4 5 6 7 8 9; do echo "file $i" >"$w/files/f$i"; done
f() { for i; do printf '%s ' "$w/files/f$i"; done; }

# build LOG_DIR: the log above, in the TPM's current epoch
build() {
	# shellcheck disable=SC2046 # one path a word
	"$writer" "$TCTI" "$1" 11 $(f 1 2 3) snapshot $(f 4 5 6) snapshot $(f 7 8) snapshot $(f 9) \
		>/dev/null 2>"$w/writer.err" || { cat "$w/writer.err"; exit 1; }
}
build "$w/log"
"$bima" ak export --log-dir "$w/log" --tcti "$TCTI" >"$w/ak.pem" 2>/dev/null
"$bima" quote --log-dir "$w/log" --tcti "$TCTI" --pcr 11 --nonce "$nonce" --out "$w/b" \
	>/dev/null 2>&1 || { echo "bima quote failed"; exit 1; }
seg() { echo "$w/b/epoch-1-0/segment-00000$1.bin"; }
verify() { "$bima" verify --log-dir "$w/b" --quote "$w/b/quote" --ak "$w/ak.pem" --nonce "$nonce" "$@" >"$w/out" 2>&1; }

# more ARG...: the writer appends ARGs to the log (segment 5), and bima quote sends it anew
more() {
	"$writer" "$TCTI" "$w/log" 11 "$@" >/dev/null 2>"$w/writer.err" || { cat "$w/writer.err"; exit 1; }
	rm -rf "$w/b"
	"$bima" quote --log-dir "$w/log" --tcti "$TCTI" --pcr 11 --nonce "$nonce" --out "$w/b" \
		>/dev/null 2>&1 || { echo "bima quote failed"; exit 1; }
}
# genuine PATTERN ARG...: before the attack, the log as bima wrote it fails a runtime policy
# (1), naming what PATTERN matches
genuine() {
	"$bima" policy export-keylime --log --log-dir "$w/log" >"$w/policy.json" 2>/dev/null
	verify --runtime-policy "$w/policy.json" "${@:2}"
	check_eq "$case: the log as written fails its runtime policy (1)" $? 1
	check_grep "$case: because of its violation" "$1" "$w/out"
}

# refused PATTERN: the tampered log fails (1), with a line matching PATTERN
refused() {
	verify "${@:2}"
	check_eq "$case: bima verify refuses the log (exit 1)" $? 1
	check_grep "$case: and names the cause" "$1" "$w/out"
	sed 's/^/    | /' "$w/out"
}

case $case in
intact)
	verify
	check_eq "the log as bima quote sent it verifies offline" $? 0
	check_grep "against the quote" '^PCR 11: the log replays to the quote in sha1 sha256' "$w/out"
	check_grep "with its three snapshots and their quotes" \
		'^note: 3 snapshot\(s\), up to id 3: .*; 3 quote\(s\) verified' "$w/out"
	sed 's/^/    | /' "$w/out"
	;;
hash)
	"$tamper" flip "$(seg 2)" 0 hash
	refused "^FAIL: segment 2, entry 0: template hash does not match the template data \($(ere "$w/files/f4")\)"
	;;
digest)
	"$tamper" flip "$(seg 2)" 1 digest
	refused "^FAIL: segment 2, entry 1: template hash does not match the template data \($(ere "$w/files/f5")\): the entry's digest, name or template hash was altered"
	;;
name)
	"$tamper" flip "$(seg 2)" 2 name
	refused "^FAIL: segment 2, entry 2: template hash does not match the template data \(.$(ere "${w#/}/files/f6")\)"
	;;
buf)
	"$tamper" flip "$(seg 2)" 3 buf
	refused '^FAIL: segment 2, entry 3: template hash does not match the template data \(snapshot_aggregate\)'
	;;
hash-ahead)
	# 40 entries in a row, whose template hashes verify checks sixteen at once
	# (verify_ahead.h): the one whose data was altered is named, not another of its lanes
	more count:40
	i=$("$tamper" index "$(seg 5)" /bench/4/20)
	"$tamper" flip "$(seg 5)" "$i" digest
	refused "^FAIL: segment 5, entry $i: template hash does not match the template data \(/bench/4/20\): the entry's digest, name or template hash was altered"
	check_eq "$case: which is the 21st of the 40" "$i" "$(($("$tamper" index "$(seg 5)" /bench/4/0) + 20))"
	;;
truncated)
	truncate -s -7 "$(seg 2)"
	refused '^FAIL: .*segment-000002.bin \(segment 2\), entry 3 at byte [0-9]+: truncated'
	;;
deleted)
	"$tamper" delete "$(seg 2)" 1
	refused '^FAIL: segment 2, entry 2: snapshot 2 counts 8 entries before it, the log has 7: 1 entry deleted$'
	;;
duplicated)
	"$tamper" dup "$(seg 2)" 1
	refused '^FAIL: segment 2, entry 4: snapshot 2 counts 8 entries before it, the log has 9: 1 entry added \(or duplicated\)$'
	check_grep "and which entry repeats" '^cause: segment 2, entry 2 repeats an entry before it .*: a duplicated entry$' "$w/out"
	;;
reordered)
	"$tamper" swap "$(seg 2)" 0
	refused '^FAIL: segment 2, entry 3: snapshot 2: segment 2 is not the one it took the digest of: the same entries, in another order \(entries reordered\)$'
	;;
spliced)
	swtpm_restart || exit 1 # a TPM reset: epoch 2-0, with a log of its own
	build "$w/other"
	cp "$w/other/epoch-2-0/segment-000002.bin" "$(seg 2)"
	refused '^FAIL: segment 2, entry 3: snapshot 2 was taken in TPM epoch 2-0, not in this epoch 1-0: a segment from another epoch spliced in$'
	;;
chain-gap)
	"$tamper" delete "$(seg 2)" 3 # snapshot 2's entry
	refused '^FAIL: segment 3, entry 2: snapshot 3 names snapshot 2 as its previous, but the chain before it ends at snapshot 1: a gap in the chain of snapshots'
	;;
segment-removed)
	rm "$(seg 2)"
	refused '^FAIL: .*: segment 2 is missing \(segments 1 and 3 are there\): a segment was removed$'
	;;
anchor-forged)
	"$tamper" forge "$w/b/epoch-1-0/anchor-2.bin" 0
	refused '^FAIL: anchor of segment 2, entry 0: snapshot 2: its quote is over another nonce' --since 2
	;;
quote-nonce)
	nonce=5eed0f0123456788
	refused '^FAIL: .*/quote: the quote is over another nonce than the one given'
	;;
quote-key)
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/other.key" 2>/dev/null
	openssl pkey -in "$w/other.key" -pubout -out "$w/ak.pem" 2>/dev/null
	refused "^FAIL: .*/quote: the quote is not signed by the attestation key in $(ere "$w/ak.pem")"
	;;
quote-key-form)
	# The AK in other PEM forms is the same key (bima reads its own export's DER itself, any
	# other by OpenSSL); another key, of P-384, is not.
	cp "$w/ak.pem" "$w/ak.orig"
	openssl ec -pubin -in "$w/ak.orig" -pubout -conv_form compressed -out "$w/ak.pem" 2>/dev/null
	verify
	check_eq "$case: the same key, its point compressed, verifies (0)" $? 0
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout /dev/null \
		-subj /CN=x -days 1 -out "$w/ak.pem" 2>/dev/null
	cat "$w/ak.orig" >>"$w/ak.pem"
	verify
	check_eq "$case: the key after a certificate's block verifies (0)" $? 0
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out "$w/other.key" 2>/dev/null
	openssl pkey -in "$w/other.key" -pubout -out "$w/ak.pem" 2>/dev/null
	refused "^FAIL: .*/quote: the quote is not signed by the attestation key in $(ere "$w/ak.pem")"
	;;
quote-replayed)
	# The answer to an earlier challenge, sent again with a newer log.
	"$writer" "$TCTI" "$w/log" 11 /bin/true >/dev/null 2>&1
	mv "$w/b" "$w/old"
	"$bima" quote --log-dir "$w/log" --tcti "$TCTI" --pcr 11 --nonce 0badc0de --out "$w/b" >/dev/null 2>&1
	cp "$w/old/quote.attest" "$w/old/quote.sig" "$w/b/"
	nonce=0badc0de
	refused 'the quote is over another nonce than the one given: an old quote replayed'
	;;
snapshot-quote-replayed)
	cp "$w/b/epoch-1-0/quote-1.attest" "$w/b/epoch-1-0/quote-2.attest"
	cp "$w/b/epoch-1-0/quote-1.sig" "$w/b/epoch-1-0/quote-2.sig"
	refused '^FAIL: segment 2, entry 3: snapshot 2: its quote is over another nonce \(a quote of another snapshot, or replayed\)$'
	;;
own-key)
	# A bundle no TPM made: the attacker's P-256 key as its ak.pub, an invented
	# log, a quote signed by that key. Without --ak it must not verify.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/own.key" 2>/dev/null
	openssl pkey -in "$w/own.key" -pubout -outform DER -out "$w/own.der" 2>/dev/null
	rm -rf "$w/b" && mkdir "$w/b"
	"$tamper" own-key "$w/b" "$nonce" "$w/own.der"
	openssl dgst -sha256 -sign "$w/own.key" -out "$w/b/quote.sig" "$w/b/quote.attest"
	"$bima" verify --log-dir "$w/b" --quote "$w/b/quote" --nonce "$nonce" >"$w/out" 2>&1
	check_eq "$case: bima verify without --ak cannot verify (exit 2)" $? 2
	check_grep "$case: and says a quote is checked only against a key it brings" \
		'--quote needs --ak FILE: a quote is checked only against a key you bring, never one from the directory verified' "$w/out"
	check_eq "$case: and does not call it verified" "$(grep -c ": verified" "$w/out")" 0
	sed 's/^/    | /' "$w/out"
	;;
own-key-tpm)
	# Against the TPM: the log directory's ak.pub replaced by the attacker's
	# key, and its snapshots' quotes signed again with it.
	openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$w/own.key" 2>/dev/null
	openssl pkey -in "$w/own.key" -pubout -outform DER -out "$w/own.der" 2>/dev/null
	mkdir "$w/own" && "$tamper" own-key "$w/own" "$nonce" "$w/own.der"
	cp "$w/own/ak.pub" "$w/log/ak.pub"
	for i in 1 2 3; do
		openssl dgst -sha256 -sign "$w/own.key" -out "$w/log/epoch-1-0/quote-$i.sig" \
			"$w/log/epoch-1-0/quote-$i.attest"
	done
	"$bima" verify --log-dir "$w/log" --tcti "$TCTI" >"$w/out" 2>&1
	check_eq "$case: bima verify refuses the log (exit 1)" $? 1
	check_grep "$case: and says the key is not the TPM's" \
		"^FAIL: $(ere "$w/log")/ak.pub: not the attestation key this TPM holds" "$w/out"
	check_eq "$case: and does not call it verified" "$(grep -c ": verified" "$w/out")" 0
	sed 's/^/    | /' "$w/out"
	;;
sig-padded)
	# A valid DER signature, then padding: 1000 bytes; the attest padded to 200.
	"$tamper" pad "$w/b/quote.sig" 1000
	"$tamper" pad "$w/b/quote.attest" 200
	refused "^FAIL: $(ere "$w/b/quote.sig"): 1000 bytes, more than the 72 of a P-256 ECDSA signature \(DER\)$"
	;;
snapshot-sig-padded)
	"$tamper" pad "$w/b/epoch-1-0/quote-2.sig" 1000
	"$tamper" pad "$w/b/epoch-1-0/quote-2.attest" 200
	refused "^FAIL: segment 2, entry 3: snapshot 2: $(ere "$w/b/epoch-1-0/quote-2.sig"): 1000 bytes, more than the 72 of a P-256 ECDSA signature \(DER\)$"
	;;
gz-bomb)
	# Segment 2 as it was, then 1 GiB of zeros: about 1 MiB compressed. The
	# verifier reads it in bounded memory (64 MiB of address space is far
	# more than it needs), and names where the zeros start.
	{ cat "$(seg 2)" && head -c 1G /dev/zero; } | gzip -9 >"$(seg 2).gz"
	rm "$(seg 2)"
	check "$case: the bomb is small" [ "$(stat -c %s "$(seg 2).gz")" -lt 2000000 ]
	(
		ulimit -v $((1 << 18)) # KiB: 256 MiB
		verify
	)
	check_eq "$case: bima verify refuses the log (exit 1)" $? 1
	check_grep "$case: and names the segment, the entry and the cause" \
		"^FAIL: .*/segment-000002.bin.gz \(segment 2\), entry 4 at byte $(stat -c %s "$w/log/epoch-1-0/segment-000002.bin"): template name length 0" "$w/out"
	check_eq "$case: and runs out of no memory" "$(grep -ci memory "$w/out")" 0
	;;
violation-renamed)
	# A violation is extended as all 0xff: the PCR covers no byte of its data. Here its
	# name and digest become an allowed file's, which must not make it allowed.
	more violation:/bin/evil
	genuine '^FAIL: segment 5, entry 0: a violation .*"/bin/evil"'
	"$tamper" rename "$(seg 5)" 0 "$w/files/f1"
	refused "^FAIL: segment 5, entry 0: a violation \(zero template hash; it says \"$(ere "$w/files/f1")\", but the PCR does not cover its name or digest\): a runtime policy allows no violation\$" \
		--runtime-policy "$w/policy.json"
	;;
violation-snapshot)
	# The violation's data becomes the snapshot_aggregate the daemon would take there (one
	# the policy excludes as bookkeeping): it must count as no snapshot, and stay a violation.
	more violation:/bin/evil
	genuine '^FAIL: segment 5, entry 0: a violation .*"/bin/evil"'
	"$tamper" snapshot "$(seg 5)" 0
	refused '^FAIL: segment 5, entry 0: a violation \(zero template hash; it says "snapshot_aggregate"' \
		--runtime-policy "$w/policy.json"
	check_grep "$case: it counts as no snapshot" '^note: 3 snapshot\(s\), up to id 3:' "$w/out"
	check_grep "$case: but as the violation it is" '^note: 1 violation entry' "$w/out"
	;;
violation-mark)
	# The violation's data becomes a bima_container mark: it must name no container for the
	# entry after it, and stay a violation.
	echo "file 10" >"$w/files/f10"
	mark="cgroup=4242 mntns=4026531840 runtime=docker container=0123456789ab path=/system.slice/docker-0123456789ab.scope"
	"$writer" "$TCTI" "$w/marks" 12 "buf:bima_container:$mark" >/dev/null 2>&1
	m=$(ls "$w"/marks/epoch-*/segment-000001.bin)
	more violation:/bin/evil "$w/files/f10"
	genuine '^FAIL: segment 5, entry 0: a violation .*"/bin/evil"'
	"$tamper" violate "$(seg 5)" 0 "$m" "$("$tamper" index "$m" bima_container)"
	refused '^FAIL: segment 5, entry 0: a violation \(zero template hash; it says "bima_container"' \
		--runtime-policy "$w/policy.json" --by-container
	check_grep "$case: the entry after it is in no container" '^  unattributed: ' "$w/out"
	if grep -q 'docker:0123456789ab' "$w/out"; then
		not_ok "$case: the forged mark names no container" "$(grep docker: "$w/out")"
	else
		ok "$case: the forged mark names no container"
	fi
	;;
snapshot-pcr)
	# Snapshot 3 names PCR 2147483658 (2^31 + 10), with the template hash of its new data
	# and a quote over its new text, such as root on the host can have the TPM make.
	"$tamper" set "$(seg 3)" 2 pcr 2147483658
	"$writer" "$TCTI" "$w/log" 11 "quote:2:3:10:$(seg 3)" >/dev/null 2>&1
	refused '^FAIL: segment 3, entry 2: snapshot 3 names PCR 2147483658, and a TPM has PCRs 0 to 23$'
	# The same in the anchor file a verifier starts from with --since.
	"$tamper" set "$w/b/epoch-1-0/anchor-3.bin" 0 pcr 2147483658
	"$writer" "$TCTI" "$w/log" 11 "quote:0:3:10:$w/b/epoch-1-0/anchor-3.bin" >/dev/null 2>&1
	refused '^FAIL: .*/anchor-3\.bin: snapshot 3 names PCR 2147483658, and a TPM has PCRs 0 to 23$' --since 3
	;;
entry-pcr)
	# The PCR field at the start of an entry, which no hash covers.
	"$tamper" pcr "$(seg 4)" 0 2147483658
	refused '^FAIL: segment 4, entry 0: the entry names PCR 2147483658, and a TPM has PCRs 0 to 23$'
	;;
seq-gap)
	# The daemon's own bima_seq entries, covered by the PCR, skip numbers 3 and 4 of a load
	# and no bima_lost_events entry counts them: two measurements are missing. In the last
	# load, a number above those of its earlier entries may still be on its way: a note.
	more "buf:bima_seq:load=7-1 seq=0-2,5-6" "buf:bima_seq:load=7-1 seq=7-9" \
		"buf:bima_seq:load=7-2 seq=0-1" "buf:bima_seq:load=7-2 seq=3"
	refused '^FAIL: load 7-1: sequence numbers 3 to 4 neither logged nor counted lost: 2 measurement\(s\) missing'
	check_grep "$case: the last load's last number not yet logged is on its way" \
		'^note: load 7-2: 1 sequence number\(s\) below 3, above those of its earlier bima_seq entries, not yet logged' "$w/out"
	check_eq "$case: and fails nothing" "$(grep -c '^FAIL: load 7-2' "$w/out")" 0
	;;
violation-restart)
	# Root, while no daemon runs, rewrites a violation in the daemon's own log into a
	# snapshot_aggregate with id 99. The daemon that starts next must not take it for a
	# snapshot: its next one is 4, after 3, and the log verifies (its verdict does not
	# depend on a violation's data).
	more violation:/bin/evil
	l=$w/log/epoch-1-0/segment-000005.bin
	"$tamper" snapshot "$l" 0
	"$tamper" set "$l" 0 id 99
	echo "file 10" >"$w/files/f10"
	more "$w/files/f10" snapshot
	verify
	check_eq "$case: the log verifies (0)" $? 0
	check_grep "$case: the restarted daemon's next snapshot is 4, after 3" \
		'^note: 4 snapshot\(s\), up to id 4:' "$w/out"
	check_grep "$case: and the rewritten entry is a violation still" '^note: 1 violation entry' "$w/out"
	sed 's/^/    | /' "$w/out"
	;;
*)
	echo "unknown case $case (tamper.sh --list)"
	exit 2
	;;
esac
swtpm_stop
done_testing
