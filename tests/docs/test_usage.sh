#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What bima says of a command line it refuses (exit 2, nothing done): an
# option of another command is named as one that does not apply, whether
# its value is joined (--pcr=3) or the next argument (--pcr 3); a value out
# of range names the option and the range; an unknown option or a stray
# argument is followed by the command's usage. bima policy's subcommands
# say the same through the same parser: an unknown option, one of another
# subcommand, a missing FILE or option value, an extra argument, an unknown
# subcommand; --help after a subcommand is its usage, and export-keylime's
# repeated options keep their order past 63 arguments.
# BIMA_BIN: another build of bima to check (the one before the option
# table named the value of --pcr 3, "option 3", and this fails there).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
bima=${BIMA_BIN:-$top/.output/bima}
work=$(mktemp -d /tmp/bima-usage.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x "$bima" ] || skip "$bima is not built (make)"

# refused NAME PATTERN CMD ARGS...: `bima CMD ARGS` (and no configuration
# file) exits 2, saying PATTERN
refused() {
	local name=$1 pattern=$2 cmd=$3
	shift 3
	"$bima" "$cmd" --config none "$@" >"$work/out" 2>&1
	check_eq "$name: refused (2)" $? 2
	check_grep "$name: saying so" "$pattern" "$work/out"
}
refused "log --pcr 3" '^bima: option --pcr does not apply to this command$' log --pcr 3
check_grep "log --pcr 3: then the usage of bima log" '^Usage: bima log ' "$work/out"
refused "log --pcr=3" '^bima: option --pcr does not apply to this command$' log --pcr=3
refused "verify --unload" '^bima: option --unload does not apply to this command$' verify --unload
refused "run --pcr 24" '^bima: --pcr: invalid value "24" \(0\.\.23\)$' run --pcr 24
refused "verify --since 0" '^bima: --since: invalid value "0" \(1\.\.' verify --since 0
refused "run --frob" "unrecognized option '--frob'" run --frob
check_grep "run --frob: then the usage of bima run" '^Usage: bima run ' "$work/out"
refused "status extra" '^bima: unexpected argument "extra"$' status extra
check_grep "status extra: then the usage of bima status" '^Usage: bima status ' "$work/out"

# policy NAME STATUS PATTERN ARGS...: `bima policy ARGS` exits STATUS, saying PATTERN
policy() {
	local name=$1 status=$2 pattern=$3
	shift 3
	"$bima" policy "$@" >"$work/out" 2>&1
	check_eq "$name: exit $status" $? "$status"
	check_grep "$name: saying so" "$pattern" "$work/out"
}
printf 'measure func=BPRM_CHECK\n' >"$work/p.policy"
usage='^Usage: bima policy check \[--strict\] FILE$'
policy "policy check --frob FILE" 2 "^check: unrecognized option '--frob'\$" check --frob "$work/p.policy"
check_grep "policy check --frob FILE: then the usage of bima policy" "$usage" "$work/out"
policy "policy check" 2 '^bima: missing argument FILE$' check
check_grep "policy check: then the usage of bima policy" "$usage" "$work/out"
policy "policy load --strict" 2 '^bima: missing argument FILE$' load --strict
policy "policy check FILE extra" 2 '^bima: unexpected argument "extra"$' check "$work/p.policy" extra
policy "policy default --strict" 2 '^bima: option --strict does not apply to this command$' \
	default --strict
policy "policy check --tree DIR FILE" 2 '^bima: option --tree does not apply to this command$' \
	check --tree "$work" "$work/p.policy"
policy "policy export-keylime --tree" 2 "^export-keylime: option '--tree' requires an argument\$" \
	export-keylime --tree
policy "policy export-keylime" 2 '^bima: export-keylime needs --tree DIR or --log$' export-keylime
policy "policy frob" 2 '^bima: unknown subcommand "frob"$' frob
check_grep "policy frob: then the usage of bima policy" "$usage" "$work/out"
policy "policy check --strict FILE" 0 '/p.policy: 1 rule\(s\) of at most 64$' \
	check --strict "$work/p.policy"
"$bima" policy --help >"$work/help" 2>&1
check_grep "policy --help: the usage" "$usage" "$work/help"
for sub in check load default export-keylime; do
	"$bima" policy $sub --help >"$work/out" 2>&1
	check_eq "policy $sub --help: exit 0" $? 0
	check_eq "policy $sub --help: the same usage" "$(cmp "$work/help" "$work/out" 2>&1)" ""
done
mkdir "$work/tree"
many=(--tree "$work/tree")
for i in $(seq 40); do many+=(--exclude "e$i"); done
"$bima" policy export-keylime "${many[@]}" >"$work/many.json" 2>"$work/many.err"
check_eq "policy export-keylime with 82 arguments: exit 0" $? 0
check_eq "the 40 --exclude, in the order given (after bima's own)" \
	"$(python3 -c 'import json, sys; print(*json.load(open(sys.argv[1]))["excludes"][-40:])' \
		"$work/many.json")" "$(echo e{1..40})"
done_testing
