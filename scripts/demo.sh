#!/bin/sh
# demo.sh - `make demo`: moat's main job end to end
#
#   sh scripts/demo.sh build/moat build/moatd
#
# 1. `moat scan` gives the offline verdict on every message in samples/demo.
# 2. The same messages go through a private Postfix (loopback only, under a
#    temp dir, stopped at the end) with moatd as its milter, to an SMTP sink:
#    for each, the SMTP reply, and what was delivered (the X-Moat-* headers
#    and Subject) or held in Postfix's hold queue.
# Needs root for Postfix (make demo runs as root, like make check).
set -u
MOAT=${1:?usage: demo.sh MOAT MOATD}
MOATD=${2:?usage: demo.sh MOAT MOATD}
TOP=$(cd "$(dirname "$0")/.." && pwd)
IT=$TOP/tests/integration
DEMO=$TOP/samples/demo
PATH=$PATH:/usr/sbin:/sbin
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac

echo "== 1. moat scan samples/demo/*.eml"
"$MOAT" scan "$DEMO"/*.eml
[ $? -le 1 ] || exit 1	# 1 only says something was flagged

echo
echo "== 2. the same messages through Postfix + moatd"
T=$(mktemp -d /tmp/moat-demo.XXXXXX) || exit 1
chmod 0755 "$T"
mkdir -m 0700 "$T/spool" "$T/out"
SINK_PID=
MOATD_PID=
PF=
cleanup() {
	[ -n "$PF" ] && sh "$IT/postfix.sh" stop "$T" >/dev/null 2>&1
	[ -n "$MOATD_PID" ] && kill "$MOATD_PID" 2>/dev/null
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT INT TERM

cat >"$T/moat.conf" <<CONF
[milter]
spool_dir = $T/spool
socket_group = postfix
CONF
python3 "$IT/sink.py" --lifetime 300 --ready "$T/sink.port" 0 "$T/out" >"$T/sink.log" 2>&1 &
SINK_PID=$!
timeout 300 "$MOATD" -c "$T/moat.conf" -p "unix:$T/moatd.sock" -f 2>"$T/moatd.log" &
MOATD_PID=$!
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && { echo "demo: moatd or the sink did not start"; cat "$T/moatd.log"; exit 1; }
	sleep 0.1
done
sleep 0.2
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
POSTFIX_LIFETIME=300 sh "$IT/postfix.sh" start "$T" "$PORT" "$(cat "$T/sink.port")" \
    "unix:$T/moatd.sock" >"$T/postfix.out" 2>&1 || { cat "$T/postfix.out"; exit 1; }
PF=1

for f in "$DEMO"/*.eml; do
	name=$(basename "$f" .eml)
	reply=$(python3 "$IT/inject.py" --port "$PORT" --to "$name@example.org" "$f" 2>&1 | tail -n 1)
	printf '%-28s SMTP %s\n' "$name" "$reply"
done
sleep 2	# Postfix hands the accepted ones to the sink
for f in "$DEMO"/*.eml; do
	name=$(basename "$f" .eml)
	got=$(python3 "$IT/mailtool.py" find "$T/out" "$name@example.org" | head -n 1)
	if [ -n "$got" ]; then
		verdict=$(python3 "$IT/mailtool.py" header "$got" X-Moat-Verdict)
		subject=$(python3 "$IT/mailtool.py" header "$got" Subject)
		printf '%-28s delivered  verdict: %s  subject: %s\n' "$name" "${verdict:-none (untouched)}" "$subject"
	fi
done
held=$(find "$T/queue/hold" -type f | wc -l)
echo "held in Postfix's hold queue: $held (postqueue -p shows them; postsuper -H releases)"
echo
echo "== moatd's log"
cat "$T/moatd.log"
