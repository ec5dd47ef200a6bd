#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Keylime runtime policies, on a real (software) TPM: `bima policy
# export-keylime` writes one from a log and from a directory tree (names
# as the log stores them: a space as '_'), with bima's bookkeeping entries
# excluded, and each is valid as Keylime's schema wants it (bare lowercase
# hex digests, generator 3, log_hash_alg sha1). `bima verify
# --runtime-policy` accepts a log whose entries are all allowed or
# excluded, and names each entry that is not: a file whose digest changed,
# a file the policy does not know, and a violation, which a policy made
# from a log never allows. A file that is not a policy is refused (2). A
# key a keyring took is exported under "keyrings", as Keylime checks it.
# shellcheck source=tests/tpm/prologue.sh
. "$(dirname "$0")/prologue.sh"

log=$w/log
tree=$w/tree
mkdir -p "$tree/bin" "$tree/etc"
cp /bin/true /bin/ls "$tree/bin/"
cp /bin/cat "$tree/bin/c at"
echo "setting" >"$tree/etc/conf"
verify() { "$bima" verify --log-dir "$log" --tcti "$TCTI" --runtime-policy "$@" >"$w/out" 2>&1; }

"$writer" "$TCTI" "$log" 11 "$tree/bin/true" "$tree/bin/ls" snapshot "$tree/bin/c at" >/dev/null 2>&1
"$bima" policy export-keylime --log --log-dir "$log" >"$w/log.json" 2>"$w/export.err"
check_eq "a policy is made from the log (0)" $? 0
check "valid as Keylime's schema wants it" python3 - "$w/log.json" <<'PY'
import json, re, sys
p = json.load(open(sys.argv[1]))
assert p["meta"]["version"] == 1 and p["meta"]["generator"] == 3 and p["release"] == 0
assert p["ima"] == {"ignored_keyrings": [], "log_hash_alg": "sha1", "dm_policy": None}
assert p["keyrings"] == {} and p["verification-keys"] == ""
for table in (p["digests"], p["ima-buf"]):
    for name, hexes in table.items():
        assert hexes and all(re.fullmatch("[0-9a-f]{40,128}", h) for h in hexes), name
assert "boot_aggregate" in p["digests"]
PY
check_grep "it holds each file's digest under the name the log has" \
	"\"$(ere "$tree/bin/c_at")\":\\[ *\$" "$w/log.json"
check_grep "and excludes bima's bookkeeping entries" '"bima_seq\$"' "$w/log.json"
verify "$w/log.json"
check_eq "the log passes the policy made from it (0)" $? 0
check_grep "every entry allowed or excluded" '^ok: runtime policy .*: 4 entries allowed, 1 excluded, 0 not allowed$' "$w/out"

epoch=$(basename "$(ls -d "$log"/epoch-* | head -n 1)")
"$bima" policy export-keylime --epoch "$epoch" --log-dir "$log" >"$w/epoch.json" 2>"$w/export.err"
check_eq "--epoch alone names the log to make it from (0)" $? 0
check "the same policy as --log makes (but its timestamp)" python3 - "$w/log.json" "$w/epoch.json" <<'PY'
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
for p in (a, b):
    del p["meta"]["timestamp"]
assert a == b
PY

"$bima" policy export-keylime --tree "$tree" --exclude 'boot_aggregate$' >"$w/tree.json" 2>"$w/export.err"
check_eq "a policy is made from a tree (0)" $? 0
check_grep "with the name as the log stores it (a space as '_')" "\"$(ere "$tree/bin/c_at")\"" "$w/tree.json"
check_grep "with every regular file of the tree" "\"$(ere "$tree/etc/conf")\"" "$w/tree.json"
(cd "$w" && "$bima" policy export-keylime --tree tree) >"$w/relative.json" 2>/dev/null
check_grep "a tree given as a relative path is named absolutely, as the log names files" \
	"\"$(ere "$tree/etc/conf")\"" "$w/relative.json"
verify "$w/tree.json"
check_eq "the log passes the tree's policy (0)" $? 0
check_grep "boot_aggregate and the bookkeeping excluded" '^ok: runtime policy .*: 3 entries allowed, 2 excluded, 0 not allowed$' "$w/out"

cp /bin/echo "$tree/bin/true" # changed after the policy was made
"$writer" "$TCTI" "$log" 11 "$tree/bin/true" /bin/dd violation:/tmp/written-while-open >/dev/null 2>&1
verify "$w/tree.json"
check_eq "a log with entries the policy does not allow fails (1)" $? 1
check_grep "a changed file is named, with its digest" \
	"^FAIL: segment 3, entry 0: $(ere "$tree/bin/true") sha256:$(sha256sum "$tree/bin/true" | cut -d' ' -f1): not among the digests the runtime policy allows for this name\$" "$w/out"
check_grep "an unknown file is named" \
	"^FAIL: segment 3, entry 1: /bin/dd sha256:[0-9a-f]{64}: the runtime policy has no digests for this name" "$w/out"
check_grep "and counted" '^FAIL: runtime policy .*: 3 entries allowed, 2 excluded, 3 not allowed$' "$w/out"
sed 's/^/    | /' "$w/out"
"$bima" policy export-keylime --log --log-dir "$log" >"$w/log2.json" 2>"$w/export.err"
check_grep "a policy made from a log leaves its violation out, and says so" 'written-while-open records a violation; it stays out of the policy' "$w/export.err"
verify "$w/log2.json"
check_grep "so the violation fails it" '^FAIL: segment 3, entry 2: a violation \(zero template hash; it says "/tmp/written-while-open", but the PCR does not cover its name or digest\): a runtime policy allows no violation$' "$w/out"

echo '{"meta": {"version": 1}, "digests": {"/x": ["SHA256:AB"]}}' >"$w/bad.json"
verify "$w/bad.json"
check_eq "a file that is not a runtime policy is refused (2)" $? 2
check_grep "saying what it lacks" 'a runtime policy needs digests, excludes, keyrings, ima and ima-buf' "$w/out"
sed 's/"excludes":\[/"excludes":["(?=x)",/' "$w/log.json" >"$w/re.json"
verify "$w/re.json"
check_eq "an exclude POSIX cannot read is refused (2), not ignored" $? 2
check_grep "naming it" 'excludes: .*POSIX extended expressions' "$w/out"
# A key a keyring took (func=KEY_CHECK logs it as an ima-buf entry named by
# the keyring): under "keyrings", where Keylime's validator looks for it.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=bima-test -days 1 -keyout "$w/key.pem" \
	-outform DER -out "$w/cert.der" >/dev/null 2>&1
"$writer" "$TCTI" "$w/keylog" 12 "bufhex:.ima:$(od -An -tx1 -v "$w/cert.der" | tr -d ' \n')" \
	buf:.notakey:hello >/dev/null 2>&1
"$bima" policy export-keylime --log --log-dir "$w/keylog" >"$w/keys.json" 2>"$w/export.err"
check "a key is under keyrings by its keyring, with its certificate's sha256; a buffer that is no key under ima-buf" \
	python3 - "$w/keys.json" "$(sha256sum <"$w/cert.der" | cut -d' ' -f1)" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["keyrings"] == {".ima": [sys.argv[2]]}, p["keyrings"]
assert ".ima" not in p["ima-buf"] and ".notakey" in p["ima-buf"], p["ima-buf"]
PY
"$bima" verify --log-dir "$w/keylog" --tcti "$TCTI" --runtime-policy "$w/keys.json" >"$w/out" 2>&1
check_eq "the log passes the policy made from it (0)" $? 0
python3 -c 'import json, sys; p = json.load(open(sys.argv[1])); p["keyrings"] = {}; json.dump(p, open(sys.argv[2], "w"))' \
	"$w/keys.json" "$w/nokeys.json"
"$bima" verify --log-dir "$w/keylog" --tcti "$TCTI" --runtime-policy "$w/nokeys.json" >"$w/out" 2>&1
check_eq "without the key under keyrings, it fails (1)" $? 1
check_grep "naming the keyring" '\.ima sha256:[0-9a-f]{64}: the runtime policy has no digests for this name' "$w/out"
swtpm_stop
done_testing
