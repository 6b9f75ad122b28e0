#!/bin/sh
# run.sh - the hostile inputs of the security review, scanned by `moat scan`
#
#   sh tests/hostile/run.sh path/to/moat path/to/conf [INPUT_DIR]
#
# gen.py builds the inputs in INPUT_DIR (default: hostile/ beside MOAT, so
# build/hostile or build-asan/hostile); each is scanned with
# `moat -c CONF scan --json` under a config whose [av] signature_dirs is
# CONF_DIR/signatures, timed with GNU time (peak RSS, wall seconds). Checks,
# one PASS/FAIL line each: the exit status is a verdict (0 or 1, not 2 and
# not a signal), no sanitizer report, the expected action and findings, peak
# RSS < 256 MB and wall time < the scan budget ([limits] scan_budget_ms,
# HOSTILE_BUDGET_MS, default 60000). Built with sanitizers (HOSTILE_SANITIZER=1,
# which `make asan` passes, or ASan found in the binary) the RSS limit is
# skipped: ASan's shadow memory inflates it, and the time limit is the budget
# + 20 s: ASan runs 3-5x slower, so a scan may well reach its budget there,
# and must then stop itself (scan.budget_exceeded). A table of the runs, then
# "N passed, N failed"; exits 1 on any failure.
#
# A runaway scan must not take the shared machine down with it: each is
# killed 30 s past the budget, and its memory is capped (address space
# 1 GiB, 4x the RSS limit; under ASan, which needs terabytes of address
# space, hard_rss_limit_mb=3072 instead), so an input that would use more
# fails with a signal or a sanitizer report rather than swapping.
# HOSTILE_ONLY=GLOB scans only the inputs matching GLOB (e.g. 'zip64*').
set -u
MOAT=${1:?usage: run.sh MOAT CONF_DIR [INPUT_DIR]}
CONF_DIR=${2:?usage: run.sh MOAT CONF_DIR [INPUT_DIR]}
HERE=$(cd "$(dirname "$0")" && pwd)
CONF_DIR=$(cd "$CONF_DIR" && pwd)
INPUTS=${3:-$(cd "$(dirname "$MOAT")" && pwd)/hostile}
BUDGET_MS=${HOSTILE_BUDGET_MS:-60000}
RSS_LIMIT_MB=256
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

SAN=${HOSTILE_SANITIZER:-}
if [ -z "$SAN" ]; then
	if grep -q __asan_init "$MOAT" 2>/dev/null; then SAN=1; else SAN=0; fi
fi
if [ "$SAN" = 1 ]; then
	# A sanitizer's exit status must not pass for verdict 1 (its default).
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=86:hard_rss_limit_mb=3072"
	UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=86"
	# LeakSanitizer lists the suppressions it used (libclamav's) on stderr,
	# which the accept inputs must keep empty.
	LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}print_suppressions=0"
	export ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if [ "$2" = 1 ]; then ok "$1"; else bad "$1${3:+: $3}"; fi; }

python3 "$HERE/gen.py" "$INPUTS" || { echo "FAIL gen.py could not build the inputs"; echo "0 passed, 1 failed"; exit 1; }

# base.conf: moat's own signatures only (EICAR), so the public databases,
# present or not, change nothing; small.conf: a 4 MiB decoded-bytes budget.
cat >"$TMP/base.conf" <<EOF
[limits]
scan_budget_ms = $BUDGET_MS
[av]
signature_dirs = $CONF_DIR/signatures
EOF
sed 's/^\[limits\]$/[limits]\nmax_decoded_bytes = 4M/' "$TMP/base.conf" >"$TMP/small.conf"

# timer CMD... - run CMD with peak RSS (KiB) and wall seconds in $TMP/time;
# GNU time when installed, otherwise a python wrapper (getrusage of children)
if [ -x /usr/bin/time ]; then
	timer() { /usr/bin/time -f '%M %e' -o "$TMP/time" "$@"; }
else
	timer() {
		python3 -c '
import os, resource, subprocess, sys, time
t = time.monotonic()
rc = subprocess.call(sys.argv[2:])
m = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
open(sys.argv[1], "w").write("%d %.2f\n" % (m, time.monotonic() - t))
sys.exit(128 - rc if rc < 0 else rc)' "$TMP/time" "$@"
	}
fi

# summary JSON - "action score av_on_zip error ids" from a moat --json report
summary() {
	python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
    v = d["verdict"]
    ids = sorted({f["id"] for f in d["findings"]})
    av = any(f["id"].startswith("av.") and any("invoice.zip" in p for p in f["path"])
             for f in d["findings"])
    print(v["action"], v["score"], int(av), ",".join(ids) or "-")
except Exception:
    print("- - 0 -")' "$1"
}

printf '' >"$TMP/table"
budget_s=$((BUDGET_MS / 1000))
time_limit=$budget_s time_why=" (the scan budget)"
[ "$SAN" = 1 ] && time_limit=$((budget_s + 20)) time_why=" (the scan budget + 20 s under sanitizers)"
# scan NAME CONF KIND - scan one input and check it; KIND: av, verdict, accept
scan() {
	name=$1 conf=$2 kind=$3 file="$INPUTS/$1"
	case $name in ${HOSTILE_ONLY:-*}) ;; *) return ;; esac
	(
		[ "$SAN" = 1 ] || ulimit -v 1048576
		timer timeout -k 5 $((budget_s + 30)) "$MOAT" -c "$TMP/$conf" scan --json "$file"
	) >"$TMP/out" 2>"$TMP/err"
	rc=$?
	set -- $(tail -n 1 "$TMP/time")
	rss_kb=${1:-0} secs=${2:-0}
	set -- $(summary "$TMP/out")
	action=$1 score=$2 av=$3 ids=$4
	size=$(wc -c <"$file")
	rss_mb=$((rss_kb / 1024))
	printf '%-26s %9s %-10s %5s %6s %7s\n' "$name" "$size" "$action" "$score" "$rss_mb" "$secs" >>"$TMP/table"

	why="exit $rc"
	grep -q 'terminated by signal' "$TMP/time" && why="$(grep 'terminated by signal' "$TMP/time")"
	[ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && why="killed after $((budget_s + 30)) s"
	check "$name: exit status is a verdict" "$([ "$rc" -le 1 ] && echo 1)" "$why"
	if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$TMP/err" ||
	    [ "$rc" -eq 86 ]; then
		bad "$name: no sanitizer report"
		grep -E 'ERROR: |runtime error:|SUMMARY: |^ +#[0-3] ' "$TMP/err" | head -8 | sed 's/^/     /'
	else
		ok "$name: no sanitizer report"
	fi
	case $kind in
	av)
		check "$name: action reject" "$([ "$action" = reject ] && echo 1)" "$action (score $score: $ids)"
		check "$name: av.* finding on invoice.zip" "$av" "findings $ids"
		;;
	accept)
		check "$name: exit 0" "$([ "$rc" -eq 0 ] && echo 1)" "exit $rc"
		check "$name: action accept" "$([ "$action" = accept ] && echo 1)" "$action (score $score: $ids)"
		check "$name: nothing on stderr" "$([ ! -s "$TMP/err" ] && echo 1)" "$(head -c 200 "$TMP/err" | tr '\n' ' ')"
		;;
	verdict)
		check "$name: a verdict in the report" \
		    "$(case $action in accept|tag|quarantine|reject) echo 1;; esac)" "action $action"
		;;
	esac
	if [ "$SAN" = 1 ]; then
		echo "skip $name: peak RSS (sanitizer build: ${rss_mb} MB)"
	else
		check "$name: peak RSS < $RSS_LIMIT_MB MB" "$([ "$rss_mb" -lt $RSS_LIMIT_MB ] && echo 1)" "${rss_mb} MB"
	fi
	check "$name: time < $time_limit s$time_why" \
	    "$(python3 -c 'import sys; print(int(float(sys.argv[1]) < float(sys.argv[2])))' "$secs" "$time_limit")" "${secs} s"
}

echo "moat: $MOAT (sanitizer build: $SAN), inputs: $INPUTS, budget ${budget_s} s"
scan av-bypass-qp-layers.eml base.conf av
scan av-bypass-big-first.eml small.conf av
scan long-filename-unseen.eml base.conf verdict
scan nested-long-names.eml base.conf verdict
scan zip64-oob.eml base.conf verdict
scan zip64-oob-ff00.eml base.conf verdict
scan lure-storm.eml base.conf verdict
scan sideload-churn.eml base.conf verdict
scan tiny-body.eml base.conf accept
scan tiny-attach-1.eml base.conf accept
scan tiny-attach-5.eml base.conf accept
scan tiny-attach-6.eml base.conf accept

echo
printf '%-26s %9s %-10s %5s %6s %7s\n' input bytes action score RSS_MB seconds
cat "$TMP/table"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
