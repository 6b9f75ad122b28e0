#!/bin/sh
# demo.sh - `make demo`: scan every message in samples/demo with `moat scan`
# and show the verdicts, then one report in JSON. (Once moatd lands, the demo
# sends the same messages through a private Postfix.)
set -u
MOAT=${1:?usage: demo.sh MOAT}
DEMO=$(cd "$(dirname "$0")/../samples/demo" && pwd)

echo "== moat scan samples/demo/*.eml"
"$MOAT" scan "$DEMO"/*.eml
status=$?
echo
echo "== moat scan --json samples/demo/lure-double-extension.eml"
"$MOAT" scan --json "$DEMO/lure-double-extension.eml"
echo
# 1 means "something was flagged", which is what the demo is for; 2 is an error.
[ "$status" -le 1 ]
