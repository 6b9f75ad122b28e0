#!/bin/sh
# tests/bench/web.sh BUILD [COUNT] - moat-web's page times and memory with a large store
#
#   make BUILD=build build/moat build/moat-web build/webfill
#   sh tests/bench/web.sh build 10000
#
# In a temp dir T under BUILD (the store on the build's disk, not a
# tmpfs): BUILD/webfill puts COUNT (10,000) copies of the demo Mustang
# lure, each with its real `moat scan --json` report (11 KB), into an
# SQLite store (or PostgreSQL: with PG=CONNINFO, whose moat tables are
# dropped first: give it a test database, as `sh tests/with-pg.sh sh -c
# 'PG=$MOAT_TEST_PG sh tests/bench/web.sh build'`), spread over 30 days,
# 2% released and 1% deleted; `moat web user add` makes an admin; then
# moat-web serves the store and tests/bench/webpages.py times each page
# (the list, filtered and deep pages, statistics, the chart, history, one
# message) 5 times and reads moat-web's VmRSS/VmHWM after each. T is
# removed at the end (KEEP=1 keeps it). About a minute for 10,000 items.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [COUNT]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
COUNT=${2:-10000}
PG=${PG:-}
BACKEND=sqlite
[ -n "$PG" ] && BACKEND=postgresql
SAMPLE=$ROOT/samples/demo/lure-mustang-decoy-zip.eml
for p in moat moat-web webfill; do
	[ -x "$BUILD/$p" ] || { echo "web bench: no $BUILD/$p (make BUILD=... $BUILD/$p)" >&2; exit 2; }
done

T=$(mktemp -d "$BUILD/webbench.XXXXXX") || exit 2
WEB_PID=
cleanup() {
	[ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null && wait "$WEB_PID" 2>/dev/null
	[ "${KEEP:-0}" = 1 ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/moat.conf" <<EOF
[milter]
user =
[quarantine]
backend = $BACKEND
pg_conninfo = $PG
dir = $T/q
[web]
listen = inet:$PORT@127.0.0.1
users = $T/web-users
EOF
if [ -n "$PG" ]; then
	PGOPTIONS='-c client_min_messages=warning' psql -q "$PG" -c 'DROP TABLE IF EXISTS moat_items, moat_history, moat_usage, moat_schema;
	    DROP FUNCTION IF EXISTS moat_usage_keep' >/dev/null || exit 2
fi

echo "== moat-web with $COUNT held items ($BACKEND)"
"$BUILD/moat" -c "$T/moat.conf" scan --json "$SAMPLE" >"$T/report.json" 2>/dev/null
[ -s "$T/report.json" ] || { echo "web bench: no report for $SAMPLE" >&2; exit 1; }
"$BUILD/webfill" "$T/moat.conf" "$COUNT" "$SAMPLE" "$T/report.json" >"$T/fill.out" || exit 1
cat "$T/fill.out"
ITEM=$(sed -n 's/^webfill: item //p' "$T/fill.out")
echo "bench-password" | "$BUILD/moat" -c "$T/moat.conf" web user add bench admin >/dev/null || exit 1

"$BUILD/moat-web" -c "$T/moat.conf" 2>"$T/web.err" &
WEB_PID=$!
i=0
until python3 -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 1)" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 50 ] && kill -0 "$WEB_PID" 2>/dev/null || { echo "web bench: moat-web did not start:" >&2;
		cat "$T/web.err" >&2; exit 1; }
	sleep 0.2
done
python3 "$HERE/webpages.py" "http://127.0.0.1:$PORT" "$WEB_PID" "$ITEM" bench bench-password
