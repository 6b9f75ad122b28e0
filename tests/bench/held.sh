#!/bin/sh
# tests/bench/held.sh BUILD - `make bench`, part 3: held mail through Postfix,
# into moat's quarantine store against Postfix's hold queue
#
# What a held message costs once moatd keeps it in its own store ([quarantine]
# mode = store: the message copied, fsync'd, renamed, the index committed,
# all before the MTA is answered) rather than in Postfix's hold queue (mode
# = hold: Postfix's cleanup writes the queue file, as it does for every
# message). In a temp dir T on the build directory's disk (the store's cost
# is its fsyncs: /tmp may be a tmpfs):
#   - two moatds as user nobody, mode = store (store in T/quarantine) and
#     mode = hold, on unix sockets, and a third on the PostgreSQL backend
#     (a private cluster, tests/pg.sh, in a temp dir under /tmp) when
#     PostgreSQL is installed;
#   - a private Postfix (tests/integration/postfix.sh) with one smtpd per
#     moatd, relaying to smtp-sink (which gets nothing: all is held);
# then BUILD/pfinject sends N (default 600) small messages with a shortcut
# attachment (held: attach.shortcut, 10) to each, ROUNDS (3) rounds taking
# turns, and prints the median msgs/s of each mode, their ratio, moatd's
# p50/p99 ms per message from its summary lines, and the items the store
# holds at the end (every message, once). The hold queue is emptied between
# rounds. About 30 s. Needs root, Postfix and python3; without them it
# says why and exits 0.
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-3}
N=${N:-600}
SESSIONS=${SESSIONS:-10}
LIFETIME=${LIFETIME:-600}

[ $# -eq 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
BUILD=$(cd "$1" && pwd) || exit 2
MOATD=$BUILD/moatd
MOAT=$BUILD/moat
PFINJECT=$BUILD/pfinject

echo "== held mail through Postfix: moat's quarantine store against the hold queue"
skip() { echo "skipped: $1"; exit 0; }
[ "$(id -u)" = 0 ] || skip "must run as root (Postfix's master starts as root)"
for p in postfix smtp-sink python3; do
	command -v $p >/dev/null 2>&1 || skip "no $p (apt-get install postfix python3)"
done
for b in "$MOATD" "$MOAT" "$PFINJECT"; do
	[ -x "$b" ] || { echo "$0: no $b (build it first)" >&2; exit 1; }
done

. "$HERE/../lib.sh"	# stop_pid

T=
STORE_PID=
HOLD_PID=
PG_PID=
SINK_PID=
PF_STARTED=
PGDIR=
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$ROOT/tests/integration/postfix.sh" stop "$T"
	stop_pid "$STORE_PID"
	stop_pid "$HOLD_PID"
	stop_pid "$PG_PID"
	stop_pid "$SINK_PID"
	if [ -n "$PGDIR" ]; then
		sh "$ROOT/tests/pg.sh" stop "$PGDIR" >/dev/null 2>&1
		rm -rf "$PGDIR"
	fi
	[ -n "$T" ] && rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
	echo "$0: $1" >&2
	for f in postfix.log moatd-store.log moatd-hold.log; do
		[ -s "$T/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 5 "$T/$f" >&2; }
	done
	exit 1
}
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() {
	i=0
	until [ -S "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "no $1 after 10 s"
		sleep 0.1
	done
}

T=$(mktemp -d "$BUILD/held-bench.XXXXXX") || exit 1
chmod 0755 "$T"
mkdir -m 0700 "$T/spool" "$T/quarantine" "$T/msg"
chown nobody "$T/spool" "$T/quarantine"
# the bench's 2 KB message (pfmsg.py's headers and text, the marker pfinject
# makes unique in the Message-ID and the text) with a shortcut attached
python3 - "$HERE" "$T/msg/held.eml" <<'EOF' || fail "cannot write the held message"
import base64, sys
sys.path.insert(0, sys.argv[1])
import pfmsg
lnk = bytes.fromhex("4c0000000114020000000000c000000000000046") + bytes(56)
body = base64.b64encode(lnk).decode()
with open(sys.argv[2], "w") as f:
    f.write(pfmsg.HEADERS +
            'Content-Type: multipart/mixed; boundary="=_mix_held"\n\n'
            "--=_mix_held\nContent-Type: text/plain; charset=utf-8\n\n" + pfmsg.TEXT + "\n"
            "--=_mix_held\nContent-Type: application/octet-stream; name=\"statement.lnk\"\n"
            "Content-Disposition: attachment; filename=\"statement.lnk\"\n"
            "Content-Transfer-Encoding: base64\n\n" + body + "\n--=_mix_held--\n")
EOF
PGINFO=
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	PGDIR=$(mktemp -d /tmp/moat-heldpg.XXXXXX) || fail "mktemp"
	PGINFO=$(sh "$ROOT/tests/pg.sh" start "$PGDIR") || fail "the private PostgreSQL cluster did not start"
fi
for mode in store hold pg; do
	backend=sqlite
	[ $mode = pg ] && backend=postgresql
	cat >"$T/$mode.conf" <<EOF
[auth]
# Sender authentication asks the DNS: its cost is the resolver's, not moat's.
enabled = no

[quarantine]
mode = $([ $mode = hold ] && echo hold || echo store)
backend = $backend
pg_conninfo = $PGINFO
node = bench-$mode
dir = $T/quarantine

[milter]
spool_dir = $T/spool
socket_group = postfix
user = nobody
status_socket =
EOF
done

SINK_PORT=$(free_port)
timeout "$LIFETIME" smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 256 >/dev/null 2>&1 &
SINK_PID=$!
timeout "$LIFETIME" "$MOATD" -c "$T/store.conf" -p "unix:$T/store.sock" -f 2>"$T/moatd-store.log" &
STORE_PID=$!
timeout "$LIFETIME" "$MOATD" -c "$T/hold.conf" -p "unix:$T/hold.sock" -f 2>"$T/moatd-hold.log" &
HOLD_PID=$!
wait_for "$T/store.sock"
wait_for "$T/hold.sock"
if [ -n "$PGINFO" ]; then
	timeout "$LIFETIME" "$MOATD" -c "$T/pg.conf" -p "unix:$T/pg.sock" -f 2>"$T/moatd-pg.log" &
	PG_PID=$!
	wait_for "$T/pg.sock"
fi
sleep 0.2

NONE_PORT=$(free_port)
STORE_PORT=$(free_port)
HOLD_PORT=$(free_port)
PG_PORT=$(free_port)
PF_STARTED=1
POSTFIX_LIFETIME=$LIFETIME sh "$ROOT/tests/integration/postfix.sh" start "$T" "$NONE_PORT" \
	"$SINK_PORT" "" || fail "postfix.sh start"
cat >>"$T/etc/master.cf" <<EOF
127.0.0.1:$STORE_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/store.sock
127.0.0.1:$HOLD_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/hold.sock
127.0.0.1:$PG_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/pg.sock
EOF
postfix -c "$T/etc" reload >/dev/null 2>&1 || fail "postfix reload"
sleep 1

# send MODE PORT: N messages; prints msgs/s
send() {
	t0=$(date +%s%N)
	"$PFINJECT" -p "$2" -n "$N" -s "$SESSIONS" "$T/msg/held.eml" >/dev/null 2>"$T/inject.err" ||
		fail "$1: pfinject: $(cat "$T/inject.err")"
	t1=$(date +%s%N)
	echo "$N $t0 $t1" | awk '{ printf "%.1f\n", $1 / (($3 - $2) / 1e9) }'
}

: >"$T/rates"
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "store $(send store "$STORE_PORT")" >>"$T/rates"
	echo "hold $(send hold "$HOLD_PORT")" >>"$T/rates"
	[ -n "$PGINFO" ] && echo "pg $(send pg "$PG_PORT")" >>"$T/rates"
	postsuper -c "$T/etc" -d ALL hold >/dev/null 2>&1
	r=$((r + 1))
done

median() { grep "^$1 " "$T/rates" | cut -d' ' -f2 | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# p50/p99 of moatd's ms= per message from its summary lines
ms() {
	grep -o ' action=quarantine .* ms=[0-9]*' "$1" | sed 's/.* ms=//' | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) printf "%d / %d", v[int(NR * 0.5) + (NR == 1)], v[int(NR * 0.99) + (NR < 100)]; else print "-" }'
}
store=$(median store)
hold=$(median hold)
items=$("$MOAT" -c "$T/store.conf" quarantine list --status all --json 2>/dev/null |
    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
printf '%-36s %9s %8s %16s\n' "held mail, $N msgs x $ROUNDS rounds" "msgs/s" "ratio" "moatd p50/p99 ms"
printf '%-36s %9s %8s %16s\n' "hold: Postfix's hold queue" "$hold" "1.00" "$(ms "$T/moatd-hold.log")"
printf '%-36s %9s %8s %16s\n' "store: moat's quarantine store" "$store" \
    "$(echo "$store $hold" | awk '{ printf "%.2f", $1 / $2 }')" "$(ms "$T/moatd-store.log")"
echo "store: $items items for $((N * ROUNDS)) messages sent (each held once)"
[ "$items" = "$((N * ROUNDS))" ] || fail "the store holds $items items, not $((N * ROUNDS))"
if [ -n "$PGINFO" ]; then
	pg=$(median pg)
	printf '%-36s %9s %8s %16s\n' "store: PostgreSQL backend" "$pg" \
	    "$(echo "$pg $hold" | awk '{ printf "%.2f", $1 / $2 }')" "$(ms "$T/moatd-pg.log")"
	items=$("$MOAT" -c "$T/pg.conf" quarantine list --status all --json 2>/dev/null |
	    python3 -c 'import json, sys; print(len(json.load(sys.stdin)))')
	echo "postgresql: $items items for $((N * ROUNDS)) messages sent"
	[ "$items" = "$((N * ROUNDS))" ] || fail "the database holds $items items, not $((N * ROUNDS))"
else
	echo "postgresql: not installed, its row skipped"
fi
