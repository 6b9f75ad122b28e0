#!/bin/sh
# run.sh - the public conformance suites (README, "Sender authentication")
#
# usage: run.sh BUILD TESTDATA [record]
#
# Each suite is a program BUILD/conformance_NAME that reads its corpus
# under TESTDATA and prints one line per case, "PASS <case>" or
# "FAIL <case>: <why>", then "NAME: N passed, M failed". The cases that
# passed when the suite was last recorded are in tests/conformance/NAME.pass;
# a case in it that fails now is a regression and fails this script. A case
# that passes and is not recorded is named (record it: make conformance
# RECORD=1). A suite whose corpus is missing is skipped and named.
set -u
build=$1
data=${2:-}
record=${3:-}
here=$(dirname "$0")
rc=0
for prog in "$build"/conformance_*; do
	[ -x "$prog" ] || continue
	name=${prog##*/conformance_}
	out="$build/conformance-$name.out"
	if [ -z "$data" ]; then
		echo "$name: skipped, no test data"
		continue
	fi
	"$prog" "$data" >"$out" 2>"$out.err"
	st=$?
	if [ "$st" -eq 77 ]; then
		echo "$name: skipped, $(head -n 1 "$out.err")"
		continue
	fi
	if [ "$st" -ne 0 ]; then
		echo "$name: the suite failed to run (exit $st):" >&2
		tail -n 5 "$out.err" >&2
		rc=1
		continue
	fi
	grep "^$name: " "$out"
	grep '^PASS ' "$out" | cut -c6- | LC_ALL=C sort >"$out.pass"
	if [ "$record" = record ]; then
		cp "$out.pass" "$here/$name.pass"
		echo "$name: recorded $(wc -l <"$out.pass") passing cases in $here/$name.pass"
		continue
	fi
	if [ ! -f "$here/$name.pass" ]; then
		echo "$name: no recorded pass set ($here/$name.pass)" >&2
		rc=1
		continue
	fi
	lost=$(LC_ALL=C comm -23 "$here/$name.pass" "$out.pass")
	if [ -n "$lost" ]; then
		echo "$name: REGRESSION, these cases passed before and fail now:" >&2
		echo "$lost" | while read -r c; do grep -F "FAIL $c:" "$out" | head -n 1 >&2 || echo "  $c" >&2; done
		rc=1
	fi
	new=$(LC_ALL=C comm -13 "$here/$name.pass" "$out.pass" | wc -l)
	[ "$new" -eq 0 ] || echo "$name: $new cases pass that are not recorded (make conformance RECORD=1)"
done
exit $rc
