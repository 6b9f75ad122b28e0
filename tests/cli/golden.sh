#!/bin/sh
# golden.sh - moat scan --json of one sample, as tests/unit/expect/ keeps it
#
#   sh tests/cli/golden.sh MOAT SAMPLE    # SAMPLE: demo/clean-text for samples/demo/clean-text.eml
#
# Prints the report on standard output; exits 2 when moat failed (its own
# 0 and 1 are verdicts, both fine here). `make expect` writes this into
# tests/unit/expect/SAMPLE.json and tests/cli/run.sh compares it with that
# file, so both make the report the same way:
#   - a fixed config: moat's own signatures only (conf/signatures), never
#     /var/lib/clamav, which freshclam changes; a scan budget no sample
#     reaches, so no scan.budget_exceeded under load;
#   - run from the top of the tree with the relative path, so "source" is
#     "samples/SAMPLE.eml" wherever the checkout is;
#   - the times in a scan.budget_exceeded evidence, should one appear
#     anyway, become N (the only part of a report that depends on time).
# Two runs of the same moat give the same bytes otherwise (measured on
# samples/demo and samples/real).
set -u
MOAT=${1:?usage: golden.sh MOAT SAMPLE}
SAMPLE=${2:?usage: golden.sh MOAT SAMPLE}
case $MOAT in /*) ;; *) MOAT=$(pwd)/$MOAT ;; esac
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CONF=$(mktemp)
OUT=$(mktemp)
trap 'rm -f "$CONF" "$OUT"' EXIT INT TERM

printf '[av]\nsignature_dirs = conf/signatures\n[limits]\nscan_budget_ms = 3600000\n' >"$CONF"
cd "$TOP" || exit 2
"$MOAT" -c "$CONF" scan --json "samples/$SAMPLE.eml" >"$OUT"
[ $? -le 1 ] || exit 2
sed -e 's/stopped [0-9]* ms into the scan, [0-9]* ms past/stopped N ms into the scan, N ms past/' "$OUT"
