#!/bin/sh
# demo.sh - `make demo`: moat's main job end to end
#
#   sh scripts/demo.sh build/moat build/moatd
#
# 1. `moat scan` gives the offline verdict on every message in samples/demo.
# 2. The same messages go through a private Postfix (loopback only, under a
#    temp dir, stopped at the end) with moatd as its milter, to an SMTP sink:
#    for each, the SMTP reply, and what was delivered (the X-Moat-* headers
#    and Subject) or held in moat's quarantine store.
# 3. The admin's side: `moat quarantine list`, `show` of one held message,
#    and `release`, which delivers it through a Postfix listener without
#    milters (the master.cf line README gives).
# Needs root for Postfix (make demo runs as root, like make check).
set -u
MOAT=${1:?usage: demo.sh MOAT MOATD}
MOATD=${2:?usage: demo.sh MOAT MOATD}
TOP=$(cd "$(dirname "$0")/.." && pwd)
IT=$TOP/tests/integration
DEMO=$TOP/samples/demo
PATH=$PATH:/usr/sbin:/sbin
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac

# libclamav gets moat's bundled signatures (EICAR); the public databases
# cannot be downloaded here, and /var/lib/clamav is used when it has them.
AVCONF=$(mktemp /tmp/moat-demo-av.XXXXXX) || exit 1
printf '[av]\nsignature_dirs = /var/lib/clamav;%s/conf/signatures\n' "$TOP" >"$AVCONF"

echo "== 1. moat scan samples/demo/*.eml"
"$MOAT" -c "$AVCONF" scan "$DEMO"/*.eml
rc=$?
rm -f "$AVCONF"
[ $rc -le 1 ] || exit 1	# 1 only says something was flagged

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

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
RELEASE_PORT=$(free_port)
cat >"$T/moat.conf" <<CONF
[av]
signature_dirs = /var/lib/clamav;$TOP/conf/signatures

[banner]
templates = $TOP/conf/banners

[quarantine]
dir = $T/quarantine
release_host = 127.0.0.1:$RELEASE_PORT

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
PORT=$(free_port)
RELEASE_PORT=$RELEASE_PORT POSTFIX_LIFETIME=300 sh "$IT/postfix.sh" start "$T" "$PORT" "$(cat "$T/sink.port")" \
    "unix:$T/moatd.sock" >"$T/postfix.out" 2>&1 || { cat "$T/postfix.out"; exit 1; }
PF=1

printf '%-26s %-10s %5s  %-44s %s\n' MESSAGE ACTION SCORE FINDINGS "WHERE IT ENDED"
for f in "$DEMO"/*.eml; do
	name=$(basename "$f" .eml)
	lines=$(wc -l <"$T/moatd.log")
	reply=$(python3 "$IT/inject.py" --port "$PORT" --to "$name@example.org" "$f" 2>&1 | tail -n 1)
	# moatd's summary line for this message: the one it wrote after $lines
	i=0
	while [ "$(wc -l <"$T/moatd.log")" -le "$lines" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	summary=$(tail -n +"$((lines + 1))" "$T/moatd.log" | grep ' action=' | tail -n 1)
	field() { printf '%s\n' "$summary" | sed -n "s/.* $1=\([^ ]*\).*/\1/p"; }
	qid=$(printf '%s\n' "$reply" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p')
	held=$(field quarantine)
	case $reply in
	550*) where="rejected, the sender got $(printf "%s" "$reply" | cut -c1-9)" ;;
	250*)
		sleep 1
		if [ -n "$held" ]; then
			where="in moat's quarantine as $held"
			HELD=$held
		elif [ -n "$qid" ] && [ -e "$T/queue/hold/$qid" ]; then
			where="held in the hold queue as $qid"
		elif [ -n "$(python3 "$IT/mailtool.py" find "$T/out" "$name@example.org")" ]; then
			where="delivered"
		else
			where="queued as $qid"
		fi ;;
	*) where="$reply" ;;
	esac
	printf '%-26s %-10s %5s  %-44s %s\n' "$name" "$(field action)" "$(field score)" \
	    "$(field findings)" "$where"
done
echo
echo "Delivered mail carries X-Moat-Verdict, X-Moat-Score, X-Moat-Findings and a"
echo "tagged Subject; held mail waits in moat's quarantine for an admin."

echo
echo "== 3. the admin: moat quarantine list, show, release"
"$MOAT" -c "$T/moat.conf" quarantine list
if [ -n "${HELD:-}" ]; then
	echo
	echo "\$ moat quarantine show $HELD"
	"$MOAT" -c "$T/moat.conf" quarantine show "$HELD"
	echo
	echo "\$ moat quarantine release $HELD"
	"$MOAT" -c "$T/moat.conf" quarantine release "$HELD" || exit 1
	i=0
	until [ -n "$(grep -l "^X-Moat-Released:" "$T"/out/*.eml 2>/dev/null)" ] || [ $i -ge 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	f=$(grep -l "^X-Moat-Released:" "$T"/out/*.eml 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "demo: the released message did not arrive"; exit 1; }
	echo "delivered: $(grep -m1 "^X-Moat-Released:" "$f" | tr -d '\r')"
fi
echo "Next: README.md (plugging moatd into Postfix or Sendmail, the config keys,"
echo "the finding list), and \`moat scan --json FILE.eml\` for a full report."
echo
echo "== moatd's log"
cat "$T/moatd.log"
