#!/bin/sh
# tests/integration/multinode.sh - two gateways, one quarantine in PostgreSQL
#
#   sh tests/integration/multinode.sh build/moatd    (from the top of the tree;
#                                                     moat: the same directory)
#
# In a fresh temp dir T (kept when KEEP=1) this starts:
#   - sink.py: an SMTP server that stores every message it gets in T/out;
#   - a private PostgreSQL cluster in T/pg (tests/pg.sh): the shared store;
#   - two gateways, a and b, each with its own moatd (user nobody,
#     [quarantine] backend = postgresql, node = a or b; socket, spool, log
#     and status socket in T/a or T/b) and its own private Postfix
#     (postfix.sh, DIR T/a or T/b) with a release listener (RELEASE_PORT);
#     both relay to the sink, and each node's release_host is its own
#     Postfix's release listener;
# then checks what a mail admin of the two gateways would see: mail held
# through one gateway is listed, shown and released on the other; two
# admins on two nodes releasing one item at once deliver it once; a
# gateway killed between its put and its answer makes the client's retry
# through the other gateway one item; with the database down quarantined
# mail is tempfailed (451), logged and counted, clean mail still flows; the
# database back, both moatd reconnect by themselves. One line per check
# ("ok   name", "FAIL name" plus context), then "N passed, N failed". Exit
# status 1 on any failure. Everything started here is stopped on exit,
# Ctrl-C included; every helper process has its own lifetime limit.
# Needs root, python3, Postfix and PostgreSQL's server binaries.
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SAMPLES=$ROOT/samples
LIFETIME=${LIFETIME:-600}	# seconds any helper process may live
WAIT=${WAIT:-20}		# seconds to wait for a delivery

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac
MOAT=${MOAT:-$(dirname "$MOATD")/moat}	# the moat command of the same build
PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null)}
[ -x "${PG_BIN:-/nonexistent}/pg_ctl" ] ||
	PG_BIN=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

PASSED=0
SKIPPED=0	# checks that could not run here (itlib.sh check)
FAILED=0
T=
SINK_PID=
MOATD_PID_a=
MOATD_PID_b=
PF_a=
PF_b=
PG_STARTED=
PGW_PID=	# the watchdog of a cluster this script restarted itself

summary() { echo "$PASSED passed, $FAILED failed"; }

prereq() {
	echo "FAIL prerequisites: $1"
	FAILED=1
	summary
	exit 1
}
command -v postfix >/dev/null 2>&1 ||
	prereq "postfix is not installed (apt-get install postfix); the integration test needs it"
command -v python3 >/dev/null 2>&1 || prereq "python3 is not installed"
[ -x "${PG_BIN:-/nonexistent}/pg_ctl" ] ||
	prereq "no PostgreSQL server binaries (apt-get install postgresql; or set PG_BIN)"
[ "$(id -u)" = 0 ] || prereq "must run as root (Postfix's master starts as root)"
[ -x "$MOATD" ] || prereq "$MOATD is not an executable (build it first)"
[ -x "$MOAT" ] || prereq "$MOAT is not an executable (build it first)"
id nobody >/dev/null 2>&1 || prereq "no user nobody"

. "$HERE/../lib.sh"	# stop_pid, moatd_share
. "$HERE/itlib.sh"	# check, fatal, expect_code, arrived, pyjson, ...

# mpid N: the timeout(1) process that runs moatd of node N
mpid() { eval "echo \"\${MOATD_PID_$1:-}\""; }

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_a" ] && sh "$HERE/postfix.sh" stop "$T/a"
	[ -n "$PF_b" ] && sh "$HERE/postfix.sh" stop "$T/b"
	stop_pid "$MOATD_PID_a"
	stop_pid "$MOATD_PID_b"
	stop_pid "$SINK_PID"
	[ -n "$PG_STARTED" ] && sh "$ROOT/tests/pg.sh" stop "$T/pg"
	stop_pid "$PGW_PID"
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-itmn.XXXXXX) || exit 1
chmod 0755 "$T"		# the Postfix daemons (user postfix) walk into it
mkdir -m 0700 "$T/out" "$T/msg" "$T/cli"
for N in a b; do
	# T/N: Postfix's DIR (postfix.sh), moatd's socket and log; spool and
	# status socket in folders of nobody's (moatd removes its socket)
	mkdir -m 0755 "$T/$N" "$T/$N/run"
	mkdir -m 0700 "$T/$N/spool"
	chown nobody "$T/$N/run" "$T/$N/spool"
	: >"$T/$N/moatd.log"
done
: >"$T/moat-cli.err"	# every moat command's stderr, for sanitizer reports
PGD=$T/pg

# --- reporting ----------------------------------------------------------------

context() {
	for N in a b; do
		echo "     --- $N/postfix.log (last lines)"
		tail -n 4 "$T/$N/postfix.log" 2>/dev/null | indent
		echo "     --- $N/moatd.log (last lines)"
		tail -n 4 "$T/$N/moatd.log" 2>/dev/null | indent
	done
}

# --- helpers ------------------------------------------------------------------

# smtp_port N / release_port N: node N's Postfix listeners
smtp_port() { if [ "$1" = a ]; then echo "$SMTP_a"; else echo "$SMTP_b"; fi; }
release_port() { if [ "$1" = a ]; then echo "$RELEASE_a"; else echo "$RELEASE_b"; fi; }

# inject N RCPT FILE [inject.py options]: send FILE to gateway N; the
# replies go to $reply
inject() {
	in_port=$(smtp_port "$1")
	in_rcpt=$2
	shift 2
	reply=$(python3 "$HERE/inject.py" --port "$in_port" --to "$in_rcpt" "$@" 2>&1)
}

# mkmsg NAME [SRC]: T/msg/NAME.eml, a copy of SRC ($LNK) whose Message-ID
# is <NAME.PID@moat-itmn.example> (in $mid)
mkmsg() {
	mid="<$1.$$@moat-itmn.example>"
	sed "s/^Message-ID: .*/Message-ID: $mid/" "${2:-$LNK}" >"$T/msg/$1.eml"
	grep -q "^Message-ID: $mid" "$T/msg/$1.eml"
}

# moatq N ARGS...: `moat -c T/N/moat.conf quarantine ARGS` as root
# (bounded); stdout in T/cli/q.out, stderr in T/cli/q.err, status in $qrc
moatq() {
	mq_n=$1
	shift
	timeout 60 "$MOAT" -c "$T/$mq_n/moat.conf" quarantine "$@" >"$T/cli/q.out" 2>"$T/cli/q.err"
	qrc=$?
	cat "$T/cli/q.err" >>"$T/moat-cli.err"
}

# items N STATUS MSGID: the items with that Message-ID in node N's
# `list --status STATUS --json`, as "id node status" lines, into $items;
# their number into $n
items() {
	moatq "$1" list --status "$2" --json
	[ "$qrc" = 0 ] || { why="moat quarantine list --status $2 --json on $1: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	cp "$T/cli/q.out" "$T/cli/list.json"
	pyjson "$T/cli/list.json" 'for i in a:
    if i["message_id"].strip() == sys.argv[2]:
        print(i["id"], i["node"], i["status"])' "$3" || { why="list --json: $out"; return 1; }
	items=$out
	n=$(count_lines "$items")
}

# listed N STATUS ID: ID is in the table of node N's list --status STATUS
listed() {
	moatq "$1" list --status "$2"
	[ "$qrc" = 0 ] || { why="moat quarantine list --status $2 on $1: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	grep -q "^$3 " "$T/cli/q.out"
}

# id_of N QID: the store id node N's moatd logged for queue id QID (5 s),
# into $id; the summary line into $line
id_of() {
	n_=0
	while :; do
		line=$(grep -F "moatd: $2: " "$T/$1/moatd.log" | grep -F " quarantine=" | head -n 1)
		id=$(printf '%s\n' "$line" | sed -n 's/.* quarantine=\([A-Za-z0-9_-]*\).*/\1/p')
		[ -n "$id" ] && return 0
		n_=$((n_ + 1))
		if [ $n_ -gt 50 ]; then
			why="no quarantine=ID for queue id '$2' in $1/moatd.log"
			return 1
		fi
		sleep 0.1
	done
}

# hold N NAME: a unique copy of $LNK to NAME@example.org through gateway
# N, which must get 250 and be stored; its id in $id, Message-ID in $mid
hold() {
	mkmsg "$2" || { why="cannot make $T/msg/$2.eml"; return 1; }
	inject "$1" "$2@example.org" "$T/msg/$2.eml"
	expect_code 250 || return 1
	qid=$(queue_id "$reply")
	[ -n "$qid" ] || { why="no queue id in: $reply"; return 1; }
	id_of "$1" "$qid"
}

# moatd_pid N: node N's moatd process (timeout(1) runs it as its child)
moatd_pid() { pgrep -P "$(mpid "$1")" | head -n 1; }

# wait_log N COUNT TEXT: until node N's moatd.log has COUNT lines holding
# TEXT (10 s)
wait_log() {
	n_=0
	while [ "$(grep -c -F -- "$3" "$T/$1/moatd.log")" -lt "$2" ]; do
		n_=$((n_ + 1))
		[ $n_ -gt 100 ] && return 1
		sleep 0.1
	done
	return 0
}

# counter N RESULT: moat_quarantine_total{result="RESULT"} of node N's
# moatd (moat stats --raw), into $val
counter() {
	timeout 30 "$MOAT" -c "$T/$1/moat.conf" stats --raw >"$T/cli/stats.$1" 2>"$T/cli/stats.err"
	st_rc=$?
	cat "$T/cli/stats.err" >>"$T/moat-cli.err"
	[ $st_rc = 0 ] || { why="moat stats --raw on $1: exit $st_rc: $(cat "$T/cli/stats.err")"; return 1; }
	val=$(python3 "$HERE/metrics.py" value "$T/cli/stats.$1" moat_quarantine_total "result=$2")
	[ -n "$val" ] || val=0
}

# write_conf N: node N's moat.conf
write_conf() {
	cat >"$T/$1/moat.conf" <<EOF
[av]
signature_dirs = $T/share/signatures

[milter]
spool_dir = $T/$1/spool
spool_memory_bytes = 65536
# Postfix's smtpd runs as user postfix: it reaches the socket through its group.
socket_group = postfix
# Started as root to bind, moatd then runs as nobody.
user = nobody
# The counters (moat stats): in a folder of nobody's, who removes the socket.
status_socket = unix:$T/$1/run/status.sock
drain_seconds = 5

[auth]
# No DNS here: sender authentication is tests/integration/auth.sh's.
enabled = no

[quarantine]
mode = store
backend = postgresql
pg_conninfo = $PG_CONNINFO
node = $1
# not used with backend = postgresql: check 1 asserts moatd made nothing there
dir = $T/$1/quarantine
reply = discard
release_host = 127.0.0.1:$(release_port "$1")
release_helo = release-$1.moat-itmn.example
release_timeout = 10
EOF
}

# start_moatd N [VAR=VALUE]...: node N's moatd in the foreground (-f), in
# the background of this script; timeout(1) stops it after $LIFETIME s
# should this script die without cleaning up. Returns once it logged
# "listening on" (10 s).
start_moatd() {
	sm_node=$1
	shift
	sm_log=$T/$sm_node/moatd.log
	sm_n=$(grep -c -F "moatd: listening on " "$sm_log")
	env "$@" timeout "$LIFETIME" "$T/share/moatd" -c "$T/$sm_node/moat.conf" \
	    -p "unix:$T/$sm_node/moatd.sock" -f 2>>"$sm_log" &
	eval "MOATD_PID_$sm_node=\$!"
	sm_i=0
	until [ "$(grep -c -F "moatd: listening on " "$sm_log")" -gt "$sm_n" ]; do
		sm_i=$((sm_i + 1))
		if ! kill -0 "$(mpid "$sm_node")" 2>/dev/null || [ $sm_i -gt 100 ]; then
			why="moatd of node $sm_node did not start: $(tail -n 3 "$sm_log")"
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# signal_moatd N SIGNAL: SIGNAL to node N's moatd itself
signal_moatd() {
	victim=$(moatd_pid "$1")
	[ -n "$victim" ] && kill -"$2" "$victim"
}

# reap_moatd N: wait for node N's moatd; its exit status in $stop_rc
reap_moatd() {
	wait "$(mpid "$1")" 2>/dev/null
	stop_rc=$?
	eval "MOATD_PID_$1="
}

# restart_moatd N [VAR=VALUE]...: with nothing in flight, SIGINT (at once,
# where SIGTERM waits for libmilter's listener) and start again
restart_moatd() {
	signal_moatd "$1" INT
	reap_moatd "$1"
	rm_node=$1
	shift
	start_moatd "$rm_node" "$@"
}

# pg_watchdog: stops the cluster after $LIFETIME s, should this script die
# (pg.sh start leaves one; a cluster restarted here by pg_ctl has none)
pg_watchdog() {
	(
		trap '' HUP INT
		end=$(($(date +%s) + LIFETIME))
		while [ -f "$PGD/data/postmaster.pid" ]; do
			if [ "$(date +%s)" -ge "$end" ]; then
				sh "$ROOT/tests/pg.sh" stop "$PGD"
				exit 0
			fi
			sleep 1
		done
	) </dev/null >/dev/null 2>&1 &
	PGW_PID=$!
}

# --- start everything -----------------------------------------------------------

moatd_share "$ROOT" "$T/share" "$MOATD" ||
	fatal "cannot copy moatd, conf/signatures and lsan.supp to $T/share"

# shellcheck disable=SC2046
set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(4)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
SMTP_a=$1
RELEASE_a=$2
SMTP_b=$3
RELEASE_b=$4
set --

python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!

PG_STARTED=1
PG_CONNINFO=$(PG_LIFETIME=$LIFETIME sh "$ROOT/tests/pg.sh" start "$PGD" 2>"$T/pg-start.err") ||
	fatal "pg.sh start $PGD: $(cat "$T/pg-start.err")"

write_conf a
write_conf b
# a first, alone: it makes the tables (check 1)
start_moatd a || fatal "$why"
start_moatd b || fatal "$why"
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/a/moatd.sock" ] && [ -S "$T/b/moatd.sock" ]; do
	i=$((i + 1))
	kill -0 "$SINK_PID" 2>/dev/null || { cat "$T/sink.log"; fatal "sink.py exited"; }
	[ $i -gt 100 ] && fatal "no moatd sockets or sink port after 10 s"
	sleep 0.1
done
SINK_PORT=$(cat "$T/sink.port")
sleep 0.2	# let moatd finish setting the sockets' mode and group

PF_a=1
RELEASE_PORT=$RELEASE_a POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T/a" \
	"$SMTP_a" "$SINK_PORT" "unix:$T/a/moatd.sock" || fatal "postfix.sh start $T/a"
PF_b=1
RELEASE_PORT=$RELEASE_b POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T/b" \
	"$SMTP_b" "$SINK_PORT" "unix:$T/b/moatd.sock" || fatal "postfix.sh start $T/b"

WHO=${SUDO_USER:-}
[ -n "$WHO" ] || WHO=$(id -un)	# the login moat quarantine records

echo "# moatd $MOATD; gateway a: Postfix :$SMTP_a (release :$RELEASE_a)," \
    "gateway b: Postfix :$SMTP_b (release :$RELEASE_b); sink :$SINK_PORT; $PG_CONNINFO"

# --- checks ---------------------------------------------------------------------

CLEAN=$SAMPLES/demo/clean-text.eml
LNK=$SAMPLES/demo/lure-lnk-in-mail.eml	# quarantine: attach.shortcut, score 10

# 0. both paths to the sink work: a clean message through each gateway is
# delivered (so that "nothing delivered" below means something)
t_clean() {
	for N in a b; do
		mkmsg "clean-$N" "$CLEAN" || { why="cannot make the clean copy"; return 1; }
		inject "$N" "clean-$N@example.org" "$T/msg/clean-$N.eml"
		expect_code 250 || { why="gateway $N: $why"; return 1; }
		arrived "clean-$N@example.org" "$mid" ||
			{ why="not delivered through gateway $N within $WAIT s"; return 1; }
	done
}
check "clean-text through gateway a and through b: 250, delivered" t_clean

# 1. the schema: moatd a made the tables on the empty database, b found
# them; migrate has nothing to do; both say where their store is
t_schema() {
	moatq a migrate
	[ "$qrc" = 0 ] || { why="migrate: exit $qrc: $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	grep -Eq '^schema version [0-9]+: nothing to do$' "$T/cli/q.out" ||
		{ why="migrate printed: $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	for N in a b; do
		grep -q "moatd: quarantine store: postgresql as node $N\$" "$T/$N/moatd.log" ||
			{ why="no 'quarantine store: postgresql as node $N' in $N/moatd.log"; return 1; }
		[ ! -e "$T/$N/quarantine" ] || { why="moatd $N made $T/$N/quarantine (dir) with backend = postgresql"; return 1; }
	done
	echo "     $(cat "$T/cli/q.out")"
}
check "schema: moatd a made the tables, 'moat quarantine migrate' on a: nothing to do" t_schema

# 2. held through gateway a, seen from node b
t_held() {
	hold a h2 || return 1
	ID2=$id
	MID2=$mid
	case $line in
	*" quarantine=$id node=a"*) ;;
	*) why="a's summary line lacks ' quarantine=$id node=a': $line"; return 1 ;;
	esac
	items b held "$mid" || return 1
	[ "$items" = "$id a held" ] ||
		{ why="b's list --json for $mid: '$items' (expected '$id a held')"; return 1; }
	moatq b show "$id"
	[ "$qrc" = 0 ] || { why="show $id on b: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	grep -Eq "^stored: .* UTC on a \\(queue id $qid\\)" "$T/cli/q.out" ||
		{ why="show on b has no 'stored: ... on a (queue id $qid)': $(head -n 4 "$T/cli/q.out")"; return 1; }
	sleep 1
	[ "$(deliveries h2@example.org)" = 0 ] || { why="delivered: $got"; return 1; }
	echo "     $(grep '^stored:' "$T/cli/q.out")"
}
check "held through a: 250, not delivered; b's list --json has it with node \"a\", show on b: 'on a'" t_held

# 3. released from node b: through b's release listener
t_release_b() {
	[ -n "${ID2:-}" ] || { why="no item from check 2"; return 1; }
	moatq b release "$ID2"
	[ "$qrc" = 0 ] || { why="release on b: exit $qrc: $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	grep -q "^$ID2 released to h2@example.org: 250 " "$T/cli/q.out" ||
		{ why="release printed: $(cat "$T/cli/q.out")"; return 1; }
	arrived h2@example.org "$MID2" || { why="not delivered in $WAIT s"; return 1; }
	rel=$(python3 "$HERE/mailtool.py" header "$got" X-Moat-Released)
	case $rel in
	"by $WHO on "*"(quarantine $ID2)") ;;
	*) why="X-Moat-Released: '$rel'"; return 1 ;;
	esac
	python3 "$HERE/mailtool.py" body-equal "$T/msg/h2.eml" "$got" >"$T/cli/d.txt" ||
		{ why="body: $(cat "$T/cli/d.txt")"; return 1; }
	grep -q "postfix-moattest/release/smtpd\[" "$T/b/postfix.log" ||
		{ why="b's release listener logged nothing"; return 1; }
	! grep -q "postfix-moattest/release/smtpd\[" "$T/a/postfix.log" ||
		{ why="a's release listener was used"; return 1; }
	listed a released "$ID2" || { why=${why:-"$ID2 is not in node a's list --status released"}; return 1; }
	! listed a held "$ID2" || { why="$ID2 still in a's list of held items"; return 1; }
	moatq a show "$ID2"
	grep -Eq "^  [0-9-]+ [0-9:]+  $WHO +released: to h2@example.org via 127\\.0\\.0\\.1:$RELEASE_b: 250 " \
	    "$T/cli/q.out" || { why="a's show has no 'released ... via :$RELEASE_b' line: $(sed -n '/^history:/,$p' "$T/cli/q.out")"; return 1; }
}
check "released from b: via b's release listener, X-Moat-Released, same body; a lists it released" t_release_b

# 4. two admins, one on a, one on b, release one item at the same moment
# release_at_go N K ID: once T/go is there, node N's moat releases ID (in
# the background: output in T/cli/raceK.*)
release_at_go() {
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	exec timeout 60 "$MOAT" -c "$T/$1/moat.conf" quarantine release "$3" \
	    >"$T/cli/race$2.out" 2>"$T/cli/race$2.err"
}

t_release_race() {
	hold b h4 || return 1
	rm -f "$T/go"
	release_at_go a 1 "$id" &
	race1=$!
	release_at_go b 2 "$id" &
	race2=$!
	sleep 0.3
	touch "$T/go"
	wait "$race1"
	rc1=$?
	wait "$race2"
	rc2=$?
	cat "$T/cli/race1.err" "$T/cli/race2.err" >>"$T/moat-cli.err"
	rcs=$(printf '%s\n%s\n' "$rc1" "$rc2" | sort | tr '\n' ' ')
	[ "$rcs" = "0 1 " ] || { why="exit statuses a $rc1, b $rc2 (expected one 0, one 1):
$(cat "$T/cli/race1.out" "$T/cli/race1.err" "$T/cli/race2.out" "$T/cli/race2.err")"; return 1; }
	arrived h4@example.org "$mid" || { why="not delivered in $WAIT s"; return 1; }
	sleep 1
	n=$(deliveries h4@example.org)
	[ "$n" = 1 ] || { why="$n deliveries to h4@example.org"; return 1; }
	listed b released "$id" || { why=${why:-"$id not listed as released"}; return 1; }
	if [ "$rc1" = 0 ]; then w=a; l=2; else w=b; l=1; fi
	echo "     $w won; the loser: $(head -n 1 "$T/cli/race$l.err")"
}
check "two admins on a and b release one item at once: one exits 0, the other 1, one delivery" t_release_race

# 5. moatd a killed between its put and its answer: the client is
# tempfailed, sends the message to gateway b (the next MX): 250, one item
t_crash() {
	restart_moatd a MOATD_TEST_STORE_PAUSE_MS=5000 || return 1
	mkmsg h5 || return 1
	python3 "$HERE/inject.py" --port "$SMTP_a" --to h5@example.org "$T/msg/h5.eml" \
	    >"$T/h5.reply" 2>&1 &
	sender=$!
	k=0
	until items b held "$mid" && [ "$n" = 1 ]; do
		k=$((k + 1))
		if [ $k -gt 100 ]; then
			kill "$sender" 2>/dev/null
			why="the item never appeared in b's list within 10 s: ${why:-}"
			return 1
		fi
		sleep 0.1
	done
	first=${items%% *}
	[ ! -s "$T/h5.reply" ] || { why="the client had its answer before the kill: $(cat "$T/h5.reply")"; return 1; }
	victim=$(moatd_pid a)
	[ -n "$victim" ] || { why="no moatd process under $(mpid a)"; return 1; }
	kill -9 "$victim"
	reap_moatd a
	wait "$sender"
	reply=$(cat "$T/h5.reply")
	case $(printf '%s\n' "$reply" | tail -n 1) in
	4[0-9][0-9]" "*) ;;
	*) why="gateway a, moatd killed: expected a 4xx reply, got: $reply"; return 1 ;;
	esac
	areply=$reply
	dup0=$(grep -c -F "was stored by an earlier attempt" "$T/b/moatd.log")
	inject b h5@example.org "$T/msg/h5.eml"
	expect_code 250 || { why="the retry through b: $why"; return 1; }
	items b all "$mid" || return 1
	[ "$n" = 1 ] || { why="$n items with Message-ID $mid: $items"; return 1; }
	[ "$items" = "$first a held" ] || { why="the item: '$items' (expected '$first a held')"; return 1; }
	id_of b "$(queue_id "$reply")" || return 1
	[ "$id" = "$first" ] || { why="b logged quarantine=$id, the item is $first"; return 1; }
	wait_log b $((dup0 + 1)) "quarantine=$first was stored by an earlier attempt" ||
		{ why="b's log has no 'quarantine=$first was stored by an earlier attempt'"; return 1; }
	counter b duplicate || return 1
	[ "$val" -ge 1 ] || { why="b: moat_quarantine_total{result=\"duplicate\"} is $val"; return 1; }
	start_moatd a || return 1
	[ "$(deliveries h5@example.org)" = 0 ] || { why="delivered: $got"; return 1; }
	echo "     a: $areply; b: $reply; item $first"
}
check "moatd a SIGKILLed between put and answer: client 4xx; retry via b: 250, one item, duplicate" t_crash

# 6. the database is down: quarantined mail tempfailed on both gateways,
# logged and counted; clean mail still delivered
t_db_down() {
	sh "$ROOT/tests/pg.sh" stop "$PGD" || { why="pg.sh stop failed"; return 1; }
	[ ! -S "$PGD/.s.PGSQL.5432" ] || { why="the cluster's socket is still there"; return 1; }
	for N in a b; do
		f0=$(grep -c -F "quarantine: cannot store the message" "$T/$N/moatd.log")
		mkmsg "down-$N" || return 1
		eval "MID_down_$N=\$mid"
		inject "$N" "down-$N@example.org" "$T/msg/down-$N.eml"
		expect_code 451 || { why="gateway $N: $why"; return 1; }
		case $reply in
		*"4.3.0 moat: cannot quarantine the message now, try again later"*) ;;
		*) why="gateway $N: $reply (expected 4.3.0 moat: cannot quarantine ...)"; return 1 ;;
		esac
		wait_log "$N" $((f0 + 1)) "quarantine: cannot store the message" ||
			{ why="$N/moatd.log has no 'quarantine: cannot store the message'"; return 1; }
		counter "$N" failed || return 1
		[ "$val" -ge 1 ] || { why="$N: moat_quarantine_total{result=\"failed\"} is $val"; return 1; }
		echo "     $N: $reply; failed=$val; $(grep -F "quarantine: cannot store the message" "$T/$N/moatd.log" | tail -n 1 | sed 's/.*moatd: //' | cut -c1-150)"
	done
	for N in a b; do
		mkmsg "downclean-$N" "$CLEAN" || return 1
		inject "$N" "downclean-$N@example.org" "$T/msg/downclean-$N.eml"
		expect_code 250 || { why="clean mail through $N, database down: $why"; return 1; }
		arrived "downclean-$N@example.org" "$mid" ||
			{ why="clean mail through $N not delivered in $WAIT s"; return 1; }
	done
	for N in a b; do
		[ "$(deliveries "down-$N@example.org")" = 0 ] || { why="delivered: $got"; return 1; }
	done
}
check "database down: a lure to a and to b: 451 4.3.0, 'cannot store' logged, result=\"failed\" counted; clean mail delivered" t_db_down

# 7. the database back (pg.sh start wants an empty DIR: pg_ctl starts the
# same cluster again): the lures resent once are stored, by the same moatd
t_db_back() {
	pa=$(moatd_pid a)
	pb=$(moatd_pid b)
	(cd "$PGD" && runuser -u nobody -- "$PG_BIN/pg_ctl" start -D "$PGD/data" -l "$PGD/postgres.log" \
	    -w -t 30) >>"$T/pg-restart.log" 2>&1 || { why="pg_ctl start: $(tail -n 5 "$T/pg-restart.log")"; return 1; }
	pg_watchdog
	for N in a b; do
		eval "mid=\$MID_down_$N"
		[ -n "$mid" ] || { why="no message from check 6"; return 1; }
		# once: moatd reconnects on the first message after the outage
		inject "$N" "down-$N@example.org" "$T/msg/down-$N.eml"
		expect_code 250 || { why="gateway $N, database back: $why"; return 1; }
		items b all "$mid" || return 1
		[ "$n" = 1 ] || { why="$n items with Message-ID $mid: '$items'"; return 1; }
		case $items in *" $N held") ;; *) why="the item: '$items' (expected node $N, held)"; return 1 ;; esac
	done
	if [ "$(moatd_pid a)" != "$pa" ] || [ "$(moatd_pid b)" != "$pb" ]; then
		why="a moatd was restarted (pids $pa $pb, now $(moatd_pid a) $(moatd_pid b))"
		return 1
	fi
	for N in a b; do
		[ "$(deliveries "down-$N@example.org")" = 0 ] || { why="delivered: $got"; return 1; }
	done
}
check "database back: the two lures resent once are stored (250, one item each), same moatd processes" t_db_back

# what reached the sink: the clean messages and the two releases
t_sink() {
	for pair in clean-a:1 clean-b:1 h2:1 h4:1 h5:0 down-a:0 down-b:0 downclean-a:1 downclean-b:1; do
		n=$(deliveries "${pair%:*}@example.org")
		[ "$n" = "${pair#*:}" ] || { why="$n messages to ${pair%:*}@example.org at the sink, not ${pair#*:}"; return 1; }
	done
	total=$(find "$T/out" -name '*.eml' | wc -l)
	[ "$total" = 6 ] || { why="$total messages at the sink, not 6: $(ls "$T/out")"; return 1; }
}
check "the sink got the 4 clean messages and the 2 releases only" t_sink

# 8. both moatd stop cleanly on SIGTERM; no sanitizer report
t_stop() {
	# both at once: each waits for libmilter's listener (up to 5 s, main.c)
	for N in a b; do
		grep -c -F "moatd: stopped" "$T/$N/moatd.log" >"$T/$N/stopped.n0"
		signal_moatd "$N" TERM
	done
	for N in a b; do
		reap_moatd "$N"
		[ "$stop_rc" = 0 ] || { why="moatd $N exited $stop_rc"; return 1; }
		[ "$(grep -c -F "moatd: stopped" "$T/$N/moatd.log")" -gt "$(cat "$T/$N/stopped.n0")" ] ||
			{ why="no new 'stopped' line in $N/moatd.log"; return 1; }
	done
	for f in "$T/a/moatd.log" "$T/b/moatd.log" "$T/moat-cli.err"; do
		if grep -q "Sanitizer" "$f"; then
			why="$f: $(grep -A12 "Sanitizer" "$f" | head -n 20)"
			return 1
		fi
	done
}
check "both moatd stop on SIGTERM, no sanitizer report (moatd a, b, moat)" t_stop

summary
[ "$FAILED" -eq 0 ]
