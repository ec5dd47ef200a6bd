#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Guest: snapshots and the anchors the kernel keeps. `bima snapshot`, twice
# during a run, logs snapshot_aggregate entries 1 and 2, closes their
# segments read-only and starts new ones; bpftool dumps both anchors from
# the bima_anchors map, field by field, and cannot write the map. bima
# verify checks the chain (ids, counts, segment digests, PCR values) and
# the log against the TPM, each snapshot's quote (signature, nonce, TPM
# epoch, PCR digest) and the kernel's anchor; OpenSSL verifies a quote with
# `bima ak export`'s key; one snapshot's quote put in place of another's is
# refused. Without a
# daemon, bima snapshot fails. `bima quote --since 1` hands over a quote
# and the log from anchor 1, which verifies offline against the exported
# key. A daemon run with --retention remove removes each snapshot's
# segments once it holds the next anchor, and the log still verifies, from
# that anchor, and is continued from it; the ASCII list for Keylime stays
# whole, a line for every entry from the epoch's start. At a first start,
# bima's hooks measure before the TPM makes its attestation key.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
. "$top/tests/guest/guest.sh"

work=/tmp/snapshot-test
logs=$work/log
mkdir -p "$work"
for x in a b c; do unique_copy /usr/bin/true "$work/true-$x"; done

# At a first start the TPM makes the attestation key: two key creations, a
# real TPM's slow commands. The hooks are attached before them, so that
# time is measured (in the initramfs, at each boot, it is boot time). On a
# PCR of its own, apart from the log below.
strace -f --seccomp-bpf -e trace=bpf,open,openat -o "$work/start.trace" \
	"$bima" run --log-dir "$work/first" --pcr 12 --tcti "$tcti" >"$work/first.out" 2>&1 &
tracer=$!
deadline=$((SECONDS + 120))
until grep -q 'measuring exec' "$work/first.out" || [ $SECONDS -ge $deadline ]; do sleep 0.2; done
check_grep "a first start under strace measures" 'measuring exec' "$work/first.out"
"$bima" stop --unload >"$work/first-stop.out" 2>&1
check_eq "and stops, its hooks unloaded (0)" $? 0
wait "$tracer"
attach=$(grep -n -m1 -E 'bpf\((BPF_LINK_CREATE|BPF_RAW_TRACEPOINT_OPEN),' "$work/start.trace" | cut -d: -f1)
ak=$(grep -n -m1 -F '/.ak.priv.tmp"' "$work/start.trace" | cut -d: -f1)
echo "# strace: a hook's first attach at line ${attach:-none}, ak.priv's first write at ${ak:-none}"
check "the hooks are attached before the attestation key is made" \
	test -n "$attach" -a -n "$ak" -a "${attach:-0}" -lt "${ak:-0}"

"$bima" snapshot >"$work/none.out" 2>&1
check_eq "bima snapshot without a daemon exits 1" $? 1
start_bima "$work/bima.out" --log-dir "$logs" --tcti "$tcti" || exit 1
"$work/true-a"
"$bima" snapshot >"$work/snap1.out" 2>&1
check_eq "bima snapshot exits 0" $? 0
check_grep "it prints anchor 1" '^snapshot 1: [0-9]+ entries, segment 1 closed' "$work/snap1.out"
"$work/true-b"
"$bima" snapshot >"$work/snap2.out" 2>&1
check_grep "a second one prints anchor 2" '^snapshot 2: [0-9]+ entries, segment 2 closed' "$work/snap2.out"
"$work/true-c"
bpftool map dump name bima_anchors >"$work/dump.txt" 2>&1
check_grep "bpftool dumps anchor 1 through BTF" '"id": 1,' "$work/dump.txt"
check_grep "and anchor 2, with its segment" '"segment": 2,' "$work/dump.txt"
zeros=$(printf '0 %.0s' $(seq 360)) # sizeof(struct bima_anchor)
# shellcheck disable=SC2086 # one byte a word
bpftool map update name bima_anchors key 3 0 0 0 value $zeros >"$work/update.txt" 2>&1
check "bpftool cannot write an anchor (the map is read-only to syscalls)" test $? -ne 0
sed 's/^/    bpftool| /' "$work/update.txt"
sleep 1
stop_bima

epoch=$(ls -d "$logs"/epoch-*)
check_eq "three segments: two closed by the snapshots" "$(ls "$epoch"/segment-* | wc -l)" 3
check_eq "the closed ones are read-only" "$(stat -c %a "$epoch"/segment-000001.bin "$epoch"/segment-000002.bin | sort -u)" 400
"$bima" log --log-dir "$logs" >"$work/log.txt"
check_eq "the log has two snapshot_aggregate entries" "$(grep -c ' ima-buf sha256:[0-9a-f]* snapshot_aggregate ' "$work/log.txt")" 2
for x in a b c; do
	check_grep "true-$x is logged" " sha256:$(sha256 "$work/true-$x") $(ere "$work/true-$x")\$" "$work/log.txt"
done
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/verify.txt" 2>&1
check_eq "bima verify accepts the log" $? 0
check_grep "and checks the chain of snapshots and their quotes" \
	'^note: 2 snapshot\(s\), up to id 2: .*; 2 quote\(s\) verified with the attestation key' "$work/verify.txt"
check_grep "and the kernel's two anchors against the log" \
	"^note: the kernel's bima_anchors map holds 2 of these snapshots' anchors, and each agrees" "$work/verify.txt"
"$bima" ak export --log-dir "$logs" --tcti "$tcti" >"$work/ak.pem" 2>/dev/null
openssl dgst -sha256 -verify "$work/ak.pem" -signature "$epoch/quote-2.sig" "$epoch/quote-2.attest" >"$work/openssl.txt" 2>&1
check_grep "OpenSSL verifies snapshot 2's quote with the exported key" '^Verified OK$' "$work/openssl.txt"
cp -r "$logs" "$work/forged"
cp "$epoch/quote-1.attest" "$work/forged/${epoch##*/}/quote-2.attest"
cp "$epoch/quote-1.sig" "$work/forged/${epoch##*/}/quote-2.sig"
"$bima" verify --log-dir "$work/forged" --epoch "${epoch##*/}" --tcti "$tcti" >"$work/forged.txt" 2>&1
check_eq "bima verify refuses snapshot 1's quote as snapshot 2's" $? 1
check_grep "naming the cause" 'snapshot 2: its quote is over another nonce' "$work/forged.txt"
sed 's/^/    verify| /' "$work/verify.txt"
sed 's/^/    snapshot| /' "$work/snap2.out"
grep -E 'snapshot' "$work/bima.out" | sed 's/^/    bima| /'
sed -n '1,40p' "$work/dump.txt" | sed 's/^/    dump| /'

"$bima" quote --log-dir "$logs" --tcti "$tcti" --nonce 0123abcd --since 1 --out "$work/bundle" >"$work/quote.txt" 2>&1
check_eq "bima quote --since 1 exits 0" $? 0
check_eq "it hands over the segments after anchor 1's" "$(cd "$work/bundle/${epoch##*/}" && echo segment-*)" \
	"segment-000002.bin segment-000003.bin"
"$bima" verify --log-dir "$work/bundle" --quote "$work/bundle/quote" --ak "$work/ak.pem" --nonce 0123abcd \
	>"$work/offline.txt" 2>&1
check_eq "which verifies offline with the exported key (0)" $? 0
check_grep "from anchor 1" '^note: verified from anchor 1 ' "$work/offline.txt"
check_grep "against the quote (or ahead of it)" '^PCR 10: the log (replays to|runs ahead of) the quote' "$work/offline.txt"
sed 's/^/    offline| /' "$work/offline.txt"

start_bima "$work/bima2.out" --log-dir "$logs" --tcti "$tcti" --retention remove || exit 1
"$bima" snapshot >/dev/null 2>&1
check_eq "with --retention remove, a snapshot is taken (3)" $? 0
"$work/true-a"
"$bima" snapshot >/dev/null 2>&1
stop_bima
check_eq "only anchor 4, its quote and the segment after it stay, with the ASCII list" \
	"$(cd "$epoch" && echo *)" \
	"anchor-4.bin ascii_runtime_measurements quote-4.attest quote-4.sig segment-000006.bin"
"$bima" verify --log-dir "$logs" --tcti "$tcti" >"$work/retained.txt" 2>&1
check_eq "the log verifies against the TPM from there" $? 0
check_grep "saying so" '^note: verified from anchor 4 ' "$work/retained.txt"
check "the ASCII list still starts with the kernel's boot_aggregate line" \
	cmp -s <(head -n 1 "$epoch/ascii_runtime_measurements") <(head -n 1 /sys/kernel/security/ima/ascii_runtime_measurements)
check_eq "and holds a line for every entry of the epoch" "$(wc -l <"$epoch/ascii_runtime_measurements")" \
	"$(($(sed -n 's/.*(entry \([0-9]*\), which closed.*/\1/p' "$work/retained.txt") + \
		$(sed -n 's/.*: \([0-9]*\) entr[a-z]* in .* from its anchor.*/\1/p' "$work/retained.txt")))"
sed 's/^/    retained| /' "$work/retained.txt"
"$bima" stop --unload --log-dir "$logs" --tcti "$tcti" >"$work/unload.txt" 2>&1
check_eq "and a start continues it (bima stop --unload logs what is queued)" $? 0
grep -E 'anchor|continuing' "$work/unload.txt" | sed 's/^/    unload| /'
done_testing
