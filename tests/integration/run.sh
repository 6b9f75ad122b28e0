#!/bin/sh
# tests/integration/run.sh - moatd behind a real Postfix, end to end
#
#   sh tests/integration/run.sh build/moatd        (from the top of the tree)
#
# In a fresh temp dir T (kept when KEEP=1) this starts:
#   - sink.py: an SMTP server on 127.0.0.1 that stores every message it gets
#     in T/out (NNNN.eml + NNNN.env);
#   - moatd -c T/moat.conf -p unix:T/moatd.sock -f (log: T/moatd.log);
#   - a private Postfix (postfix.sh) under T: smtpd on 127.0.0.1:PORT with
#     smtpd_milters=unix:T/moatd.sock, relaying everything to the sink
#     (log: T/postfix.log, queue: T/queue);
# then sends the sample messages with inject.py and checks the SMTP replies,
# what reaches the sink (mailtool.py) and the hold queue. One line per check
# ("ok   name" or "FAIL name" plus context), then "N passed, N failed".
# Exit status 1 on any failure. Everything started here is stopped on exit,
# Ctrl-C included, and has its own lifetime limit as a backstop.
# Needs root, python3 and Postfix (package postfix; never configured or
# started system-wide: /etc/postfix is only read).
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SAMPLES=$ROOT/samples
LIFETIME=${LIFETIME:-900}	# seconds any helper process may live
WAIT=${WAIT:-30}		# seconds to wait for a delivery

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac

PASSED=0
FAILED=0
T=
SINK_PID=
MOATD_PID=
PF_STARTED=

summary() {
	echo "$PASSED passed, $FAILED failed"
}

# Missing prerequisites: say why, count it as a failure.
prereq() {
	echo "FAIL prerequisites: $1"
	FAILED=1
	summary
	exit 1
}
command -v postfix >/dev/null 2>&1 ||
	prereq "postfix is not installed (apt-get install postfix); the integration test needs it"
command -v python3 >/dev/null 2>&1 || prereq "python3 is not installed"
[ "$(id -u)" = 0 ] || prereq "must run as root (Postfix's master starts as root)"
[ -x "$MOATD" ] || prereq "$MOATD is not an executable (build it first)"

# stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL; reap it
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		if [ $i -ge 50 ]; then
			kill -9 "$1" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$1" 2>/dev/null
	return 0
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$HERE/postfix.sh" stop "$T"
	stop_pid "$MOATD_PID"
	stop_pid "$SINK_PID"
	if [ -n "$T" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "kept $T"
		else
			rm -rf "$T"
		fi
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

T=$(mktemp -d /tmp/moat-it.XXXXXX) || exit 1
chmod 0755 "$T"		# the Postfix daemons (user postfix) walk into it
mkdir -m 0700 "$T/spool" "$T/out" "$T/msg"

# --- reporting --------------------------------------------------------------

indent() { sed 's/^/     /'; }

context() {
	echo "     --- postfix.log (last lines)"
	tail -n 8 "$T/postfix.log" 2>/dev/null | indent
	echo "     --- moatd.log (last lines)"
	tail -n 8 "$T/moatd.log" 2>/dev/null | indent
}

# check NAME FUNCTION [ARGS...]: run FUNCTION; on failure it has put the
# reason in $why.
check() {
	name=$1
	shift
	why=
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok   $name"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name"
		[ -n "$why" ] && printf '%s\n' "$why" | indent
		context
	fi
}

# fatal WHAT: a setup step failed; nothing else can run
fatal() {
	FAILED=$((FAILED + 1))
	echo "FAIL setup: $1"
	context
	summary
	exit 1
}

# --- helpers ----------------------------------------------------------------

# inject RCPT FILE...: send over one connection; the replies go to $reply
# (one line per FILE)
inject() {
	rcpt=$1
	shift
	reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --to "$rcpt" "$@" 2>&1)
}

# queue_id: the queue id in a "250 ... queued as ID" $reply line
queue_id() {
	printf '%s\n' "$1" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p'
}

# arrived RCPT [MSGID]: wait up to $WAIT s for a message to RCPT in the
# sink; its file goes to $got
arrived() {
	i=0
	while :; do
		got=$(python3 "$HERE/mailtool.py" find "$T/out" "$@" | head -n 1)
		[ -n "$got" ] && return 0
		i=$((i + 1))
		[ $i -gt $((WAIT * 2)) ] && return 1
		sleep 0.5
	done
}

hdr() { python3 "$HERE/mailtool.py" header "$1" "$2"; }
count_lines() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi; }

# expect_code CODE: the last line of $reply starts with CODE
expect_code() {
	case $(printf '%s\n' "$reply" | tail -n 1) in
	"$1 "*) return 0 ;;
	esac
	why="expected a $1 reply, got: $reply"
	return 1
}

# delivered_body_same ORIGINAL: $got has the original's body
body_same() {
	d=$(python3 "$HERE/mailtool.py" body-equal "$1" "$got") && return 0
	why="$got: $d"
	return 1
}

# not_tagged ORIGINAL: no X-Moat-Verdict in $got, Subject as in ORIGINAL
not_tagged() {
	v=$(hdr "$got" X-Moat-Verdict)
	if [ -n "$v" ]; then
		why="$got has X-Moat-Verdict: $v"
		return 1
	fi
	s0=$(hdr "$1" Subject)
	s1=$(hdr "$got" Subject)
	if [ "$s0" != "$s1" ]; then
		why="Subject changed: '$s0' -> '$s1'"
		return 1
	fi
	return 0
}

# tagged ORIGINAL SCORE FINDING [SUBJECT]: $got carries exactly one verdict
# header "tag...", X-Moat-Score SCORE, FINDING in X-Moat-Findings, and the
# Subject is "[SUSPICIOUS] " + the original's (or SUBJECT when given)
tagged() {
	v=$(hdr "$got" X-Moat-Verdict)
	n=$(count_lines "$v")
	if [ "$n" != 1 ]; then
		why="$got has $n X-Moat-Verdict headers: $(printf '%s' "$v" | tr '\n' '|')"
		return 1
	fi
	case $v in
	tag*) ;;
	*) why="X-Moat-Verdict: $v (expected tag...)"; return 1 ;;
	esac
	sc=$(hdr "$got" X-Moat-Score)
	case $sc in
	"$2" | "$2 "* | "$2;"*) ;;
	*) why="X-Moat-Score: '$sc' (expected $2)"; return 1 ;;
	esac
	fi_=$(hdr "$got" X-Moat-Findings)
	case $fi_ in
	*"$3"*) ;;
	*) why="X-Moat-Findings: '$fi_' (expected to contain $3)"; return 1 ;;
	esac
	s1=$(hdr "$got" Subject)
	if [ $# -ge 4 ]; then
		want=$4
	else
		want="[SUSPICIOUS] $(hdr "$1" Subject)"
	fi
	if [ "$s1" != "$want" ]; then
		why="Subject: '$s1' (expected '$want')"
		return 1
	fi
	return 0
}

# spool_empty: moatd left no temp file in its spool_dir (waits up to 5 s)
spool_empty() {
	i=0
	while [ -n "$(ls -A "$T/spool")" ]; do
		i=$((i + 1))
		if [ $i -gt 10 ]; then
			why="left in $T/spool: $(ls -lA "$T/spool")"
			return 1
		fi
		sleep 0.5
	done
	return 0
}

# --- start everything ---------------------------------------------------------

cat >"$T/moat.conf" <<EOF
[policy]
subject_tag = [SUSPICIOUS]

[lists]
block_networks = 127.0.0.2
allow_networks = 127.0.0.3/32

[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
# Postfix's smtpd runs as user postfix: it reaches the socket through its group.
socket_group = postfix
# Started as root to bind, moatd then runs as nobody (who owns the spool).
user = nobody
EOF
chown nobody "$T/spool"

python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!

# moatd in the foreground (-f), in the background of this script; timeout(1)
# stops it after $LIFETIME s should this script die without cleaning up, and
# passes our SIGTERM on to it.
start_moatd() {
	timeout "$LIFETIME" "$MOATD" -c "$T/moat.conf" -p "unix:$T/moatd.sock" -f 2>>"$T/moatd.log" &
	MOATD_PID=$!
}
start_moatd

i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ]; do
	i=$((i + 1))
	kill -0 "$SINK_PID" 2>/dev/null || { cat "$T/sink.log"; fatal "sink.py exited"; }
	kill -0 "$MOATD_PID" 2>/dev/null || fatal "moatd exited before creating its socket"
	[ $i -gt 100 ] && fatal "no $T/moatd.sock or sink port after 10 s"
	sleep 0.1
done
SINK_PORT=$(cat "$T/sink.port")
sleep 0.2	# let moatd finish setting the socket's mode and group

SMTP_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PF_STARTED=1
POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T" "$SMTP_PORT" "$SINK_PORT" \
	"unix:$T/moatd.sock" || fatal "postfix.sh start"

echo "# moatd $MOATD, Postfix on 127.0.0.1:$SMTP_PORT, sink on 127.0.0.1:$SINK_PORT, dir $T"

# --- checks -------------------------------------------------------------------

CLEAN=$SAMPLES/demo/clean-text.eml
LNK=$SAMPLES/demo/lure-lnk-in-mail.eml
DOUBLE=$SAMPLES/demo/lure-double-extension.eml
CONFLICT=$SAMPLES/mime/name-conflict.eml
PDF=$SAMPLES/demo/clean-pdf-invoice.eml

# 1. a clean message passes unchanged
t_clean() {
	inject clean@example.org "$CLEAN"
	expect_code 250 || return 1
	arrived clean@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	body_same "$CLEAN" && not_tagged "$CLEAN"
}
check "clean-text: 250, delivered, body and Subject unchanged, no verdict" t_clean

# 2. score 8: tagged
t_tag() {
	inject tag@example.org "$LNK"
	expect_code 250 || return 1
	arrived tag@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	tagged "$LNK" 8 attach.shortcut
}
check "lure-lnk: 250, delivered tagged (verdict, score 8, attach.shortcut, Subject)" t_tag

# 3. a forged verdict header is replaced
t_forged() {
	python3 "$HERE/mailtool.py" derive "$LNK" "$T/msg/forged.eml" \
		--add-header 'X-Moat-Verdict: accept' || { why="mailtool derive failed"; return 1; }
	inject forged@example.org "$T/msg/forged.eml"
	expect_code 250 || return 1
	arrived forged@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	tagged "$LNK" 8 attach.shortcut
}
check "lure-lnk with forged X-Moat-Verdict: accept: exactly one verdict, tag" t_forged

# 3b. a forged verdict on clean mail is removed, nothing else changes
t_forged_clean() {
	python3 "$HERE/mailtool.py" derive "$CLEAN" "$T/msg/forged-clean.eml" \
		--add-header 'X-Moat-Verdict: accept' || { why="mailtool derive failed"; return 1; }
	inject forgedclean@example.org "$T/msg/forged-clean.eml"
	expect_code 250 || return 1
	arrived forgedclean@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	v=$(hdr "$got" X-Moat-Verdict)
	[ -z "$v" ] || { why="forged X-Moat-Verdict survived: $v"; return 1; }
	body_same "$CLEAN"
}
check "clean-text with a forged X-Moat-Verdict: delivered without it, body unchanged" t_forged_clean

# 4. an already tagged Subject is not tagged twice
t_pretagged() {
	python3 "$HERE/mailtool.py" derive "$LNK" "$T/msg/pretagged.eml" \
		--subject-prefix '[SUSPICIOUS] ' || { why="mailtool derive failed"; return 1; }
	inject pretagged@example.org "$T/msg/pretagged.eml"
	expect_code 250 || return 1
	arrived pretagged@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	tagged "$LNK" 8 attach.shortcut "[SUSPICIOUS] $(hdr "$LNK" Subject)"
}
check "lure-lnk with Subject already tagged: tag not added twice" t_pretagged

# 5. score 22: rejected at end of DATA
t_reject() {
	inject reject@example.org "$DOUBLE"
	expect_code 550 || return 1
	case $reply in
	*5.7.1*name.double_extension*) return 0 ;;
	esac
	why="550 reply without 5.7.1 and name.double_extension: $reply"
	return 1
}
check "lure-double-extension: 550 5.7.1 naming name.double_extension" t_reject

# 6. score 11: quarantined in Postfix's hold queue
t_quarantine() {
	inject quarantine@example.org "$CONFLICT"
	expect_code 250 || return 1
	qid=$(queue_id "$reply")
	i=0
	while :; do
		if [ -n "$qid" ]; then
			[ -f "$T/queue/hold/$qid" ] && return 0
		else
			[ -n "$(find "$T/queue/hold" -type f)" ] && return 0
		fi
		i=$((i + 1))
		if [ $i -gt 20 ]; then
			why="no file ${qid:-at all} in $T/queue/hold after 10 s; queue:
$(postqueue -c "$T/etc" -p 2>&1)"
			return 1
		fi
		sleep 0.5
	done
}
check "name-conflict: 250 and held in the Postfix hold queue" t_quarantine

# 7. a message above spool_memory_bytes goes through a temp file
t_large() {
	python3 "$HERE/mailtool.py" derive "$PDF" "$T/msg/large.eml" --grow 204800 ||
		{ why="mailtool derive failed"; return 1; }
	inject large@example.org "$T/msg/large.eml"
	expect_code 250 || return 1
	arrived large@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	body_same "$T/msg/large.eml" && not_tagged "$T/msg/large.eml" && spool_empty
}
check "large (>200 KB, spooled to disk): 250, delivered unchanged, spool_dir empty" t_large

# 8. two messages over one SMTP connection
t_two() {
	inject two@example.org "$CLEAN" "$LNK"
	n=$(count_lines "$reply")
	if [ "$n" != 2 ] || printf '%s\n' "$reply" | grep -qv '^250 '; then
		why="expected two 250 replies, got: $reply"
		return 1
	fi
	arrived two@example.org "$(hdr "$CLEAN" Message-ID)" ||
		{ why="first message not delivered within $WAIT s"; return 1; }
	body_same "$CLEAN" && not_tagged "$CLEAN" || return 1
	arrived two@example.org "$(hdr "$LNK" Message-ID)" ||
		{ why="second message not delivered within $WAIT s"; return 1; }
	tagged "$LNK" 8 attach.shortcut
}
check "two messages on one connection: first untagged, second tagged" t_two

# 8b. [lists]: the milter sees the SMTP client's address; Linux answers on
# all of 127.0.0.0/8, so a sender bound to 127.0.0.2 is another client.
t_blocked_network() {
	reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --source 127.0.0.2 \
	    --to blocked@example.org "$CLEAN" 2>&1)
	expect_code 550 || return 1
	case $reply in
	*5.7.1*policy.blocked_network*) ;;
	*) why="550 without 5.7.1 and policy.blocked_network: $reply"; return 1 ;;
	esac
	grep -q "from=<sender@example.com> rcpts=1 dir=inbound .*action=reject score=20 findings=policy.blocked_network" \
	    "$T/moatd.log" || { why="no summary line with dir=inbound and the block in moatd.log"; return 1; }
}
check "client 127.0.0.2 in [lists] block_networks: 550 5.7.1 policy.blocked_network" t_blocked_network

t_allowed_network() {
	reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --source 127.0.0.3 \
	    --to allowed@example.org "$DOUBLE" 2>&1)
	expect_code 250 || return 1
	arrived allowed@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	body_same "$DOUBLE" && not_tagged "$DOUBLE" || return 1
	grep -q "action=accept score=0 findings=- allowed=network" "$T/moatd.log" ||
		{ why="no summary line with allowed=network in moatd.log"; return 1; }
}
check "client 127.0.0.3 in [lists] allow_networks: a lure scoring 22 delivered untouched" t_allowed_network

# 9. what must not have arrived (checked last, after the other deliveries)
t_not_delivered() {
	for r in reject@example.org quarantine@example.org blocked@example.org; do
		f=$(python3 "$HERE/mailtool.py" find "$T/out" "$r")
		if [ -n "$f" ]; then
			why="a message to $r reached the sink: $f"
			return 1
		fi
	done
	return 0
}
check "rejected and quarantined messages never reached the sink" t_not_delivered

# 10. moatd survived it all and left nothing in its spool
t_alive() {
	kill -0 "$MOATD_PID" 2>/dev/null || { why="moatd is no longer running"; return 1; }
	who=$(ps -o user= -p "$(pgrep -P "$MOATD_PID" | head -n 1)" | tr -d ' ')
	[ "$who" = nobody ] || { why="moatd runs as '$who', not as [milter] user nobody"; return 1; }
	spool_empty
}
check "moatd still running as [milter] user, spool_dir empty" t_alive

# 11. moatd SIGKILLed while mail flows: Postfix tempfails (milter_default_action
# = tempfail), the senders retry (as real MTAs do; smtp-source would not), and
# once moatd is back every message is delivered or rejected: none is lost.
# send_wave FIRST LAST: one retrying sender per message, in the background
send_wave() {
	k=$1
	while [ $k -le $2 ]; do
		case $((k % 3)) in
		0) f=$CLEAN ;; 1) f=$LNK ;; 2) f=$DOUBLE ;;
		esac
		echo "$f" >"$T/kill$k.file"
		python3 "$HERE/inject.py" --port "$SMTP_PORT" --to "kill$k@example.org" \
		    --retry-4xx 90 "$f" >"$T/kill$k.reply" 2>"$T/kill$k.err" &
		echo $! >>"$T/kill.pids"
		k=$((k + 1))
	done
}

t_killed() {
	# k, not i: arrived() uses i.
	n=24
	# Wave 1 while moatd runs; then moatd is killed hard; wave 2 arrives while
	# it is down (Postfix must tempfail those); then moatd comes back.
	send_wave 1 12
	sleep 0.3
	victim=$(pgrep -P "$MOATD_PID" | head -n 1)	# timeout(1) runs moatd as its child
	[ -n "$victim" ] || { why="no moatd process under $MOATD_PID"; return 1; }
	kill -9 "$victim"
	wait "$MOATD_PID" 2>/dev/null
	send_wave 13 24
	sleep 3
	start_moatd
	for p in $(cat "$T/kill.pids"); do wait "$p"; done
	lost=""
	delivered=0
	rejected=0
	k=1
	while [ $k -le $n ]; do
		code=$(tail -n 1 "$T/kill$k.reply" | cut -c1-3)
		case $code in
		250)
			if arrived "kill$k@example.org"; then delivered=$((delivered + 1));
			else lost="$lost kill$k(250, never arrived)"; fi ;;
		550)
			if [ "$(cat "$T/kill$k.file")" = "$DOUBLE" ]; then rejected=$((rejected + 1));
			else lost="$lost kill$k(550 for a deliverable message)"; fi ;;
		*)	lost="$lost kill$k($(tail -n 1 "$T/kill$k.reply"))" ;;
		esac
		k=$((k + 1))
	done
	retried=$(cat "$T"/kill*.err | grep -c "^retry after: 4")
	echo "     $delivered delivered, $rejected rejected, of $n; $retried tempfails retried"
	[ -z "$lost" ] || { why="lost:$lost"; return 1; }
	[ $((delivered + rejected)) -eq $n ] || { why="$delivered + $rejected != $n"; return 1; }
	[ "$retried" -gt 0 ] || { why="no sender saw a 4xx: moatd was never down for it"; return 1; }
	return 0
}
check "moatd SIGKILLed mid-flow: every message delivered or rejected, none lost" t_killed

# 12. SIGTERM: moatd stops cleanly; in the ASan build nothing is reported
t_stop() {
	victim=$(pgrep -P "$MOATD_PID" | head -n 1)
	[ -n "$victim" ] && kill "$victim"
	wait "$MOATD_PID" 2>/dev/null
	MOATD_PID=
	grep -q "stopped" "$T/moatd.log" || { why="no 'stopped' line in moatd.log"; return 1; }
	if grep -q "Sanitizer" "$T/moatd.log"; then
		why=$(grep -A12 "Sanitizer" "$T/moatd.log" | head -n 20)
		return 1
	fi
	return 0
}
check "moatd stops on SIGTERM, no sanitizer report" t_stop

summary
[ "$FAILED" -eq 0 ]
