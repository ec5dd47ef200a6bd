#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# On a real (software) TPM, with snapshots taken as the daemon takes them:
# bima verify from an anchor (--since), offline from a `bima quote`
# bundle with the log from an anchor, a log that runs ahead of the quote
# (accepted, and said), retention that compresses the segments before an
# anchor (the log still verifies from the start, with bima and with
# an independent replay) or removes them (it verifies from the anchor, and the daemon's
# code continues the epoch from there), and an anchor that lost its quote,
# which cannot be started from.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

log=$w/log
epoch=$log/epoch-1-0
nonce=a1b2c3d4
verify() { "$bima" verify "$@" >"$w/out" 2>&1; }
show() { sed 's/^/    | /' "$w/out"; }

"$writer" "$TCTI" "$log" 11 /bin/true /bin/ls snapshot /bin/cat /bin/echo snapshot /bin/sh \
	snapshot /bin/dd >/dev/null 2>"$w/writer.err"
check_eq "three snapshots taken" "$(ls "$epoch"/anchor-*.bin 2>/dev/null | wc -l)" 3
"$bima" ak export --log-dir "$log" --tcti "$TCTI" >"$w/ak.pem" 2>/dev/null

verify --log-dir "$log" --tcti "$TCTI" --since 2
check_eq "bima verify --since 2 accepts the log from anchor 2" $? 0
check_grep "and says where it started" '^note: verified from anchor 2 \(entry 6, which closed segment 2\)' "$w/out"
check_grep "replaying what follows to the TPM" '^PCR 11: the log replays to the TPM value in sha1 sha256' "$w/out"
check_grep "4 entries from the anchor, in 2 segments" '^.*epoch-1-0: 4 entries in 2 segment\(s\) from its anchor: verified$' "$w/out"
show
verify --log-dir "$log" --tcti "$TCTI" --since 7
check_eq "an anchor that does not exist cannot be started from (1)" $? 1
check_grep "named" 'anchor-7.bin: no such anchor' "$w/out"

"$bima" quote --log-dir "$log" --tcti "$TCTI" --pcr 11 --nonce "$nonce" --since 2 --out "$w/b" >"$w/quote.out" 2>&1
check_eq "bima quote --since 2 exits 0" $? 0
check_eq "the bundle holds the segments after anchor 2's" "$(cd "$w/b/epoch-1-0" && echo segment-*)" "segment-000003.bin segment-000004.bin"
check_eq "and the anchors and quotes from 2 on" "$(cd "$w/b/epoch-1-0" && echo anchor-* quote-*)" \
	"anchor-2.bin anchor-3.bin quote-2.attest quote-2.sig quote-3.attest quote-3.sig"
verify --log-dir "$w/b" --quote "$w/b/quote" --ak "$w/ak.pem" --nonce "$nonce"
check_eq "it verifies offline, with no TPM" $? 0
check_grep "against the quote" '^PCR 11: the log replays to the quote in sha1 sha256 sha384 sha512$' "$w/out"
check_grep "from anchor 2" '^note: verified from anchor 2 ' "$w/out"
show

# The daemon goes on after the quote: a verifier gets a log ahead of it.
"$writer" "$TCTI" "$log" 11 /bin/grep /bin/mv >/dev/null 2>&1
cp "$epoch"/segment-000005.bin "$w/b/epoch-1-0/"
verify --log-dir "$w/b" --quote "$w/b/quote" --ak "$w/ak.pem" --nonce "$nonce"
check_eq "a log that runs ahead of the quote is accepted (0)" $? 0
check_grep "and said to be" '^PCR 11: the log runs ahead of the quote by 2 entries: up to segment 4, entry 0 \(entry 10 of 12\) it replays to it' "$w/out"
show
# Further ahead than the entries verify keeps the values of (256): the
# quote's digest is looked for again in the log read anew.
cp -a "$log" "$w/ahead"
"$writer" --write-only "$TCTI" "$w/ahead" 11 count:300 >/dev/null 2>&1
cp "$w/ahead/epoch-1-0"/segment-00000[5-9].bin "$w/b/epoch-1-0/"
verify --log-dir "$w/b" --quote "$w/b/quote" --ak "$w/ak.pem" --nonce "$nonce"
check_eq "a log 302 entries ahead of the quote is accepted (0)" $? 0
check_grep "and said to be" '^PCR 11: the log runs ahead of the quote by 302 entries: up to segment 4, entry 0 \(entry 10 of 312\) it replays to it' "$w/out"
show
verify --log-dir "$w/b" --quote "$w/b/quote" --ak "$w/ak.pem"
check_eq "--quote without --nonce is refused (2)" $? 2

cp -a "$log" "$w/compressed"
"$writer" "$TCTI" "$w/compressed" 11 retain:compress:1 >/dev/null 2>&1
check_eq "retention compress: the segments up to anchor 3's are compressed" \
	"$(cd "$w/compressed/epoch-1-0" && echo segment-*)" \
	"segment-000001.bin.gz segment-000002.bin.gz segment-000003.bin.gz segment-000004.bin segment-000005.bin segment-000006.bin"
verify --log-dir "$w/compressed" --tcti "$TCTI"
check_eq "the log still verifies from its start" $? 0
check_grep "every entry of it" 'epoch-1-0: 12 entries in 6 segment\(s\): verified$' "$w/out"
zcat -f "$w/compressed/epoch-1-0"/segment-* >"$w/list.bin"
pcr=$(pcr_value sha256 11)
check_eq "and an independent replay of the decompressed list gives the TPM's value" \
	"$(python3 "$replay" sha256 11 "$w/list.bin" | tail -n 1)" "$pcr"

"$writer" "$TCTI" "$log" 11 retain:remove:1 >/dev/null 2>&1
check_eq "retention remove: only what follows anchor 3 stays, with anchor 3" \
	"$(cd "$epoch" && echo *)" \
	"anchor-3.bin quote-3.attest quote-3.sig segment-000004.bin segment-000005.bin segment-000006.bin"
verify --log-dir "$log" --tcti "$TCTI"
check_eq "the log verifies from anchor 3" $? 0
check_grep "said so" '^note: verified from anchor 3 ' "$w/out"
"$writer" "$TCTI" "$log" 11 /bin/rm >"$w/writer.out" 2>&1
check_eq "the daemon's code continues the epoch from the anchor" $? 0
check_grep "saying so" 'the log starts at anchor 3 \(entry 8\)' "$w/writer.out"
verify --log-dir "$log" --tcti "$TCTI"
check_eq "and the log still verifies" $? 0
show

rm "$epoch/quote-3.attest"
verify --log-dir "$log" --tcti "$TCTI"
check_eq "an anchor without its quote cannot be started from (1)" $? 1
check_grep "named" 'the log starts at anchor 3, whose quote \(quote-3.attest\) is not there' "$w/out"
show
swtpm_stop
done_testing
