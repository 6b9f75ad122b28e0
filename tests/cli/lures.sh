#!/bin/sh
# lures.sh - the lure fixtures through `moat scan --json`: lures held, look-alikes not
#
#   sh tests/cli/lures.sh BUILD FIXTURES
#
# BUILD holds the moat binary; FIXTURES is the directory tests/fixtures/build.sh
# wrote (its lures/ subdirectory, written by tests/fixtures/lures.py, is used),
# or that lures/ directory itself. Each row of lures/MANIFEST-lures.tsv,
#   mail<TAB>lure|benign<TAB>ids (comma list, or -)
# is one check:
#   lure    every listed finding id is in the report (id@TEXT: a finding with
#           that id whose path has an element containing TEXT), and the
#           verdict is quarantine or reject
#   benign  no finding id starts with "lure." and the verdict is accept or tag
# The built-in defaults apply (an empty config), whatever /etc/moat/moat.conf says.
# Prints one line per mail and "lures: N ok, M failed"; exits 1 on any failure,
# 2 when the arguments are wrong.
set -u
if [ $# -ne 2 ]; then
	echo "usage: lures.sh BUILD FIXTURES" >&2
	exit 2
fi
MOAT=$1/moat
DIR=$2
[ -f "$DIR/MANIFEST-lures.tsv" ] || DIR=$2/lures
MANIFEST=$DIR/MANIFEST-lures.tsv
if [ ! -x "$MOAT" ]; then
	echo "lures.sh: no moat binary at $MOAT" >&2
	exit 2
fi
if [ ! -f "$MANIFEST" ]; then
	echo "lures.sh: no MANIFEST-lures.tsv in $2 or $2/lures (run tests/fixtures/build.sh)" >&2
	exit 2
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
: >"$TMP/empty.conf"
pass=0
fail=0
tab=$(printf '\t')

while IFS="$tab" read -r mail kind ids; do
	case "$mail" in '#'* | '') continue ;; esac
	if [ ! -f "$DIR/$mail" ]; then
		fail=$((fail + 1))
		echo "FAIL $mail: no such file in $DIR"
		continue
	fi
	"$MOAT" -c "$TMP/empty.conf" scan --json "$DIR/$mail" >"$TMP/out.json" 2>"$TMP/err"
	rc=$?
	if [ "$rc" -gt 1 ]; then
		fail=$((fail + 1))
		echo "FAIL $mail: moat scan exited $rc"
		sed 's/^/     /' "$TMP/err" | head -5
		continue
	fi
	if line=$(python3 - "$TMP/out.json" "$kind" "$ids" <<'PY'
import json, sys

report, kind, ids = sys.argv[1], sys.argv[2], sys.argv[3]
try:
    with open(report, encoding="utf-8") as f:
        d = json.load(f)
    findings = d["findings"]
    action = d["verdict"]["action"]
    score = d["verdict"]["score"]
except (OSError, ValueError, KeyError, TypeError) as e:
    print("no readable report (%s)" % e)
    sys.exit(1)

got = sorted({f["id"] for f in findings})
problems = []
if kind == "lure":
    want = [] if ids == "-" else [i for i in ids.split(",") if i]
    for w in want:
        fid, _, text = w.partition("@")
        hit = any(f["id"] == fid and (not text or any(text in el for el in f.get("path") or []))
                  for f in findings)
        if not hit:
            problems.append("missing %s" % w)
    if action not in ("quarantine", "reject"):
        problems.append("action %s (score %s), want quarantine or reject" % (action, score))
elif kind == "benign":
    lures = [i for i in got if i.startswith("lure.")]
    if lures:
        problems.append("unexpected %s" % ", ".join(lures))
    if action not in ("accept", "tag"):
        problems.append("action %s (score %s), want accept or tag" % (action, score))
else:
    problems.append("manifest kind %r is neither lure nor benign" % kind)
if problems:
    print("; ".join(problems) + " [found: %s]" % (", ".join(got) or "nothing"))
    sys.exit(1)
print("%s, %s (score %s)" % (kind, action, score))
PY
	); then
		pass=$((pass + 1))
		echo "ok   $mail: $line"
	else
		fail=$((fail + 1))
		echo "FAIL $mail: $line"
	fi
done <"$MANIFEST"

echo "lures: $pass ok, $fail failed"
[ "$fail" -eq 0 ]
