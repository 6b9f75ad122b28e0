#!/bin/sh
# tests/bench/postfix.sh BUILD - `make bench`, part 2: mail through a real
# Postfix alone, with a null milter (two forms) and with moatd (unix, TCP)
#
# In a temp dir T this starts, all on loopback:
#   - smtp-sink (Postfix's test server): takes every message, counts it
#     (its -c counter, in T/sink.count) and throws it away;
#   - two null milters (BUILD/nullmilter, tests/bench/nullmilter.c: every
#     stage moatd asks for, nothing done, accept at end of message): -r
#     answering every command on unix:T/null-r.sock, -n negotiating the
#     no-reply flags on unix:T/null-n.sock;
#   - two moatds (BUILD/moatd -f, built-in defaults but for the spool and
#     the user): unix:T/moatd.sock and inet:PORT@127.0.0.1, logs in
#     T/moatd-unix.log and T/moatd-tcp.log;
#   - a private Postfix (tests/integration/postfix.sh) with five smtpd
#     services that all relay to the sink: one with no milter, one per
#     null milter, one per moatd;
# then pfbench.py sends the load with BUILD/pfinject (tests/bench/pfinject.c,
# SESSIONS parallel sessions, one message per connection): SMALL_N messages
# of 2 KB, then LARGE_N of 150 KB with a PDF attachment, made from VARIANTS
# files per load (pfmsg.py) with a token of their own in every text part
# and in the attachment's bytes, so no two messages sent are alike. ROUNDS
# rounds per load, the modes taking turns; the sink alone is measured the
# same way, as the check that the injector and the sink are not the limit.
# It prints the table (median time from the first connection to the last
# delivery, msgs/s, ratio to Postfix alone, moatd's p50/p99 ms per message,
# the milter's peak RSS, and CPU per message: the machine's and the
# milter's own). About 5 minutes on 2 cores.
#
# Environment: ROUNDS (5), SESSIONS (20), SMALL_N (2000), LARGE_N (500),
# VARIANTS (20), LIFETIME (900: seconds any process started here may live),
# KEEP=1 keeps T. Needs root, Postfix (package postfix: postfix, smtp-sink),
# and python3; without them it says why and exits 0 (the rest of
# `make bench` stands on its own). Everything started here stops on exit,
# Ctrl-C included.
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-5}
SESSIONS=${SESSIONS:-20}
SMALL_N=${SMALL_N:-2000}
LARGE_N=${LARGE_N:-500}
LIFETIME=${LIFETIME:-900}
VARIANTS=${VARIANTS:-20}

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
BUILD=$(cd "$1" && pwd) || exit 2
MOATD=$BUILD/moatd
NULLMILTER=$BUILD/nullmilter
PFINJECT=$BUILD/pfinject

echo "== mail through Postfix: alone, null milters, moatd on a unix socket and on TCP"
skip() {
	echo "skipped: $1"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "must run as root (Postfix's master starts as root)"
for p in postfix smtp-sink python3; do
	command -v $p >/dev/null 2>&1 || skip "no $p (apt-get install postfix python3)"
done
for b in "$MOATD" "$NULLMILTER" "$PFINJECT"; do
	[ -x "$b" ] || { echo "$0: no $b (build it first)" >&2; exit 1; }
done

T=
SCAN=
SINK_PID=
UNIX_PID=
TCP_PID=
NULLR_PID=
NULLN_PID=
PF_STARTED=

. "$HERE/../lib.sh"	# stop_pid

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$ROOT/tests/integration/postfix.sh" stop "$T"
	stop_pid "$UNIX_PID"
	stop_pid "$TCP_PID"
	stop_pid "$NULLR_PID"
	stop_pid "$NULLN_PID"
	stop_pid "$SINK_PID"
	if [ -n "$T" ]; then
		if [ "${KEEP:-0}" = 1 ]; then echo "kept $T"; else rm -rf "$T"; fi
	fi
	[ -n "$SCAN" ] && rm -rf "$SCAN"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

fail() {
	echo "$0: $1" >&2
	for f in postfix.log moatd-unix.log moatd-tcp.log null-r.log null-n.log; do
		[ -s "$T/$f" ] && { echo "--- $f (last lines)" >&2; tail -n 5 "$T/$f" >&2; }
	done
	exit 1
}

# free_port: a TCP port on 127.0.0.1 nobody listens on right now
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for WHAT TEST...: retry TEST for up to 10 s
wait_for() {
	what=$1
	shift
	i=0
	until "$@"; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "no $what after 10 s"
		sleep 0.1
	done
}

listening() {
	python3 - "$1" <<'EOF'
import sys
want = "0100007F:%04X" % int(sys.argv[1])
with open("/proc/net/tcp") as f:
    sys.exit(0 if any(l.split()[1] == want and l.split()[3] == "0A"
                      for l in f.readlines()[1:]) else 1)
EOF
}

T=$(mktemp -d /tmp/moat-pfbench.XXXXXX) || exit 1
chmod 0755 "$T"		# the Postfix daemons (user postfix) walk into it
mkdir -m 0700 "$T/spool"
chown nobody "$T/spool"
# libclamav's temp files on a tmpfs, as moatd.service sets it up (/run/moat/scan):
# on a disk file system their inodes cost half of moatd's CPU ([av] temp_dir).
SCAN=$(mktemp -d /dev/shm/moat-pfbench-scan.XXXXXX 2>/dev/null) || SCAN=""
[ -n "$SCAN" ] && chown nobody "$SCAN"
python3 "$HERE/pfmsg.py" "$T/msg" "$VARIANTS" || fail "pfmsg.py"

mkdir -m 0700 "$T/quarantine"
chown nobody "$T/quarantine"
cat >"$T/moat.conf" <<EOF
[auth]
# Sender authentication asks the DNS: its cost is the resolver's, not moat's.
enabled = no

[quarantine]
dir = $T/quarantine

[milter]
spool_dir = $T/spool
socket_group = postfix
user = nobody

[av]
temp_dir = $SCAN
EOF

SINK_PORT=$(free_port)
timeout "$LIFETIME" smtp-sink -u nobody -c "127.0.0.1:$SINK_PORT" 256 >"$T/sink.count" 2>"$T/sink.log" &
SINK_PID=$!

MILTER_PORT=$(free_port)
timeout "$LIFETIME" "$MOATD" -c "$T/moat.conf" -p "unix:$T/moatd.sock" -f 2>"$T/moatd-unix.log" &
UNIX_PID=$!
timeout "$LIFETIME" "$MOATD" -c "$T/moat.conf" -p "inet:$MILTER_PORT@127.0.0.1" -f 2>"$T/moatd-tcp.log" &
TCP_PID=$!
"$NULLMILTER" -r -p "unix:$T/null-r.sock" -t "$LIFETIME" 2>"$T/null-r.log" &
NULLR_PID=$!
"$NULLMILTER" -n -p "unix:$T/null-n.sock" -t "$LIFETIME" 2>"$T/null-n.log" &
NULLN_PID=$!
wait_for "moatd socket $T/moatd.sock" test -S "$T/moatd.sock"
wait_for "null milter socket $T/null-r.sock" test -S "$T/null-r.sock"
wait_for "null milter socket $T/null-n.sock" test -S "$T/null-n.sock"
wait_for "moatd on 127.0.0.1:$MILTER_PORT" listening "$MILTER_PORT"
wait_for "smtp-sink on 127.0.0.1:$SINK_PORT" listening "$SINK_PORT"
sleep 0.2	# let moatd finish setting the socket's mode and group

NONE_PORT=$(free_port)
PF_STARTED=1
POSTFIX_LIFETIME=$LIFETIME sh "$ROOT/tests/integration/postfix.sh" start "$T" "$NONE_PORT" \
	"$SINK_PORT" "" || fail "postfix.sh start"
# Four more smtpd services, the same but for their milter.
NULLR_PORT=$(free_port)
NULLN_PORT=$(free_port)
UNIX_PORT=$(free_port)
TCP_PORT=$(free_port)
cat >>"$T/etc/master.cf" <<EOF
127.0.0.1:$NULLR_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/null-r.sock
127.0.0.1:$NULLN_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/null-n.sock
127.0.0.1:$UNIX_PORT inet n - n - - smtpd -o smtpd_milters=unix:$T/moatd.sock
127.0.0.1:$TCP_PORT inet n - n - - smtpd -o smtpd_milters=inet:127.0.0.1:$MILTER_PORT
EOF
postfix -c "$T/etc" reload >>"$T/postfix-start.log" 2>&1 || fail "postfix reload"
for port in "$NULLR_PORT" "$NULLN_PORT" "$UNIX_PORT" "$TCP_PORT"; do
	wait_for "smtpd on 127.0.0.1:$port" listening "$port"
done

# timeout(1) runs each moatd as its child: VmHWM is the child's.
pid_unix=$(pgrep -P "$UNIX_PID" | head -n 1)
pid_tcp=$(pgrep -P "$TCP_PID" | head -n 1)
if [ -z "$pid_unix" ] || [ -z "$pid_tcp" ]; then fail "moatd is not running"; fi

if commit=$(git -C "$ROOT" log -1 --format='%h %s' 2>/dev/null); then
	git -C "$ROOT" diff --quiet HEAD -- milter scanners include ||
		commit="$commit (+ uncommitted changes in milter/, scanners/ or include/)"
else
	commit="unknown, $ROOT is not a git checkout"
fi
echo "moatd: commit $commit"
python3 "$HERE/pfbench.py" --sink "$T/sink.count" --inject "$PFINJECT" \
	--rounds "$ROUNDS" --sessions "$SESSIONS" \
	--load "small:$SMALL_N:$T/msg/small-*.eml" --load "large:$LARGE_N:$T/msg/large-*.eml" \
	--check "sink alone:$SINK_PORT" \
	--mode "Postfix alone:$NONE_PORT" \
	--mode "null replies:$NULLR_PORT::$NULLR_PID" \
	--mode "null no-reply:$NULLN_PORT::$NULLN_PID" \
	--mode "moatd unix:$UNIX_PORT:$T/moatd-unix.log:$pid_unix" \
	--mode "moatd TCP:$TCP_PORT:$T/moatd-tcp.log:$pid_tcp" || fail "pfbench.py failed"
