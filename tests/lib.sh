# SPDX-License-Identifier: GPL-2.0-only
# Shell helpers for tests: named checks printing TAP-like "ok - NAME" or
# "not ok - NAME: detail" lines that tests/run.sh counts. Source it.

failures=0

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+: $2}"; failures=$((failures + 1)); }

# check NAME COMMAND...: passes when COMMAND succeeds
check() {
	local name=$1
	shift
	if "$@"; then ok "$name"; else not_ok "$name" "failed: $*"; fi
}

# check_eq NAME ACTUAL EXPECTED
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', expected '$3'"; fi
}

# check_grep NAME PATTERN FILE: FILE has a line matching the extended regex
check_grep() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else
		not_ok "$1" "no line matches /$2/ in $3"
		sed 's/^/    | /' "$3" | tail -n 20
	fi
}

# check_no_grep NAME PATTERN FILE: FILE has no line matching the extended regex
check_no_grep() {
	if ! grep -Eq -- "$2" "$3"; then ok "$1"; else
		not_ok "$1" "lines match /$2/ in $3"
		grep -E -- "$2" "$3" | sed 's/^/    | /' | head -n 20
	fi
}

# ere STRING: STRING quoted for a literal match inside an extended regex
ere() { printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g'; }

# skip REASON: a test that cannot run here says why and exits 77
skip() { echo "skip - $*"; exit 77; }

done_testing() { [ "$failures" -eq 0 ]; }
