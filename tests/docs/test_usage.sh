#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# What bima says of a command line it refuses (exit 2, nothing done): an
# option of another command is named as one that does not apply, whether
# its value is joined (--pcr=3) or the next argument (--pcr 3); a value out
# of range names the option and the range; an unknown option or a stray
# argument is followed by the command's usage.
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
done_testing
