#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The man pages against the program they describe, so that they cannot
# drift from it. The pages are written once, in scdoc's format
# (man/NAME.SECTION.scd): make builds each into .output/man/NAME.SECTION,
# and this checks the built pages, as a reader gets them: each command
# `bima --help` lists has a page; the options of its page's OPTIONS are
# those its --help shows, and its SYNOPSIS names those of the --help
# synopsis; every key the configuration file takes (asked of bima itself)
# is in bima.conf(5), and every key there is taken; every func and
# condition the policy compiler knows is in bima-policy(5); each page
# renders with groff and mandoc without a warning; every page a page refers
# to exists; `make install` installs them all. A page built from a source
# with one option taken out fails, so the check can.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
bima=$top/.output/bima
man=$top/.output/man
work=$(mktemp -d /tmp/bima-man.XXXXXX)
trap 'rm -rf "$work"' EXIT
[ -x "$bima" ] || skip "$bima is not built (make)"
command -v scdoc >/dev/null || skip "scdoc is not installed (make deps)"
command -v groff >/dev/null || skip "groff is not installed (make deps)"
command -v mandoc >/dev/null || skip "mandoc is not installed (make deps)"

# The pages of the sources as they are now, not as a past make left them.
make -s -C "$top" man >"$work/make.out" 2>&1
check_eq "make man builds the pages (0)" $? 0
sources=$(cd "$top/man" && ls -- *.scd 2>/dev/null | sed 's/\.scd$//')
check "man/ holds the pages' sources ($(wc -w <<<"$sources"))" test "$(wc -w <<<"$sources")" -ge 13
unbuilt=
for n in $sources; do [ -s "$man/$n" ] || unbuilt="$unbuilt $n"; done
check_eq "each is built into .output/man" "$unbuilt" ""
handmade=$(cd "$top/man" && ls -- *.[1-9] 2>/dev/null)
check_eq "man/ holds no roff written by hand" "$handmade" ""

# render PAGE: the text a reader sees, without fonts, each paragraph on one
# line (no filling into lines, no hyphenation)
render() { groff -man -Tascii -P-cbou -rLL=3000n -rHY=0 "$1" 2>/dev/null; }

# long_opts: the --options in standard input, one a line, sorted
long_opts() { sed 's/\\-/-/g' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u; }

# help_opts CMD: the options `bima CMD --help` shows: in its synopsis (up
# to the first blank line), and in the lines that define an option (an
# indented line that starts with "-", up to the gap before its text)
help_opts() {
	"$bima" "$1" --help >"$work/help" 2>&1
	{
		sed '/^$/q' "$work/help"
		sed -nE 's/^ +(-.*)/\1/p' "$work/help" | sed -E 's/  .*//'
	} | long_opts
}

# help_synopsis CMD: the options of its --help synopsis alone
help_synopsis() { "$bima" "$1" --help 2>&1 | sed '/^$/q' | long_opts; }

# section PAGE NAME: the lines of PAGE's section NAME, as rendered
section() { render "$1" | awk -v s="$2" '/^[A-Z]/ {on = $0 == s; next} on'; }

# tags PAGE NAME: the tags of section NAME's list, as rendered: a line of
# the section's indent that the next line is indented under
tags() {
	section "$1" "$2" |
		awk '{ if (tag != "" && /^        +[^ ]/) print tag; tag = /^       [^ ]/ ? $0 : "" }'
}

# compare NAME EXPECTED ACTUAL: equal sets (files of sorted lines), or say
# what each lacks
compare() {
	local missing extra
	missing=$(comm -23 "$2" "$3" | tr '\n' ' ')
	extra=$(comm -13 "$2" "$3" | tr '\n' ' ')
	if [ -z "$missing$extra" ]; then ok "$1"; else
		not_ok "$1" "${missing:+missing: $missing}${extra:+not in --help: $extra}"
	fi
}

# check_page CMD PAGE: PAGE's OPTIONS and SYNOPSIS against `bima CMD --help`
check_page() {
	help_opts "$1" >"$work/$1.help"
	tags "$2" OPTIONS | long_opts >"$work/$1.man"
	compare "bima-$1.8: OPTIONS has the $(wc -l <"$work/$1.help") options of \`bima $1 --help\`" \
		"$work/$1.help" "$work/$1.man"
	help_synopsis "$1" >"$work/$1.hsyn"
	section "$2" SYNOPSIS | long_opts | grep -vx -- --config >"$work/$1.msyn"
	compare "bima-$1.8: SYNOPSIS names the options of the --help synopsis" \
		"$work/$1.hsyn" "$work/$1.msyn"
}

# The commands `bima --help` lists, help and version aside.
commands=$("$bima" --help | sed -n '/^Commands:/,/^$/p' | sed -nE 's/^  ([a-z-]+) .*/\1/p' |
	grep -vxE 'help|version')
check "bima --help lists commands ($(echo "$commands" | paste -sd " "))" test "$(wc -w <<<"$commands")" -ge 10
for c in $commands; do
	if [ -f "$man/bima-$c.8" ]; then check_page "$c" "$man/bima-$c.8"; else
		not_ok "bima $c has a page" "no man/bima-$c.8.scd"
	fi
done

# bima(8)'s OPTIONS (the options every command takes) are in `bima --help`.
"$bima" --help | long_opts >"$work/top.help"
tags "$man/bima.8" OPTIONS | long_opts >"$work/top.man"
check_eq "bima.8: OPTIONS names only options \`bima --help\` names" \
	"$(comm -13 "$work/top.help" "$work/top.man" | tr '\n' ' ')" ""

# The check can fail: a page built from a source with an option taken out
# (its tag line; its text stays, indented, under no tag) is caught.
sed '/^\*--template/{N;/\n\t/s/^[^\n]*\n//}' "$top/man/bima-stop.8.scd" | scdoc >"$work/broken.8"
(check_page stop "$work/broken.8") >"$work/broken.out" # its failures are its own
check_grep "a page without --template is caught (the check can fail)" \
	'^not ok - .*OPTIONS.*missing: --template' "$work/broken.out"

# The configuration keys, as bima takes them: each long option of
# `bima run` that a file setting it is not refused as an unknown key.
key_taken() {
	printf '%s = x\n' "$1" >"$work/key.conf"
	! "$bima" run --config "$work/key.conf" --help 2>&1 | grep -q 'unknown key'
}
: >"$work/keys.bima"
while read -r o; do
	key_taken "${o#--}" && echo "${o#--}" >>"$work/keys.bima"
done <"$work/run.help"
tags "$man/bima.conf.5" KEYS | sed -E 's/^ +//; s/[^a-z-].*//' | sort -u >"$work/keys.man"
check "bima takes some configuration keys ($(wc -l <"$work/keys.bima"))" test -s "$work/keys.bima"
check_eq "bima.conf.5: KEYS has every key bima takes" \
	"$(comm -23 "$work/keys.bima" "$work/keys.man" | tr '\n' ' ')" ""
untaken=
while read -r k; do key_taken "$k" || untaken="$untaken $k"; done <"$work/keys.man"
check_eq "bima.conf.5: bima takes every key in KEYS" "$untaken" ""

# The policy language: every func the compiler names, every condition
# `bima policy --help` names.
printf 'measure func=NOSUCH\n' >"$work/p.policy"
funcs=$("$bima" policy check "$work/p.policy" 2>&1 | sed -n 's/.*no such func (\(.*\)).*/\1/p' | tr -d ,)
check "the policy compiler names its funcs ($(wc -w <<<"$funcs"))" test -n "$funcs"
conds=$("$bima" policy --help | grep -oE '\b[a-z_]+=' | sort -u)
render "$man/bima-policy.5" >"$work/policy.5"
missing=
for w in $funcs $conds; do grep -qF -- "$w" "$work/policy.5" || missing="$missing $w"; done
check_eq "bima-policy.5 names every func and condition ($(wc -w <<<"$funcs $conds"))" "$missing" ""

# Each page renders without a warning, is named in its .TH as its file is,
# and refers only to pages that exist. mandoc's lint is asked for warnings
# and errors, less two things scdoc writes into every page and mandoc
# skips: a paragraph macro after a heading or before another (the text is
# the same), and its style notes (input lines longer than 80 bytes).
for p in "$man"/*.[58]; do
	n=${p##*/}
	check_eq "$n: groff -man -ww renders it without a warning" "$(groff -man -ww -z "$p" 2>&1)" ""
	check_eq "$n: mandoc -T lint -W warning finds nothing" \
		"$(mandoc -T lint -W warning "$p" 2>&1 | grep -v 'skipping paragraph macro: PP \(empty\|after S[HS]\)')" ""
	th=$(sed -n 's/^\.TH "\([^"]*\)" "\([0-9]\)" .*/\1.\2/p' "$p")
	check_eq "$n: .TH names it" "$th" "$(echo "$n" | tr '[:lower:]' '[:upper:]')"
	refs=$(render "$p" | grep -oE 'bima[a-z.-]*\([58]\)' | sed -E 's/\(([58])\)/.\1/' | sort -u)
	absent=
	for r in $refs; do [ -f "$man/$r" ] || absent="$absent $r"; done
	check_eq "$n: every bima page it refers to exists" "$absent" ""
done

# make install puts every page in its section.
make -s -C "$top" install DESTDIR="$work/root" PREFIX=/usr >"$work/install.out" 2>&1
check_eq "make install succeeds (0)" $? 0
notinst=
for p in "$man"/*.[58]; do
	n=${p##*/}
	cmp -s "$p" "$work/root/usr/share/man/man${n##*.}/$n" || notinst="$notinst $n"
done
check_eq "make install installs every page into share/man/manN" "$notinst" ""
done_testing
