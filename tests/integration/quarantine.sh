#!/bin/sh
# tests/integration/quarantine.sh - moat's quarantine store behind a real Postfix
#
#   sh tests/integration/quarantine.sh build/moatd   (from the top of the tree;
#                                                      moat: the same directory)
#
# In a fresh temp dir T (kept when KEEP=1) this starts, as run.sh does:
#   - sink.py: an SMTP server that stores every message it gets in T/out;
#   - moatd, as user nobody, with [quarantine] mode = store: held mail goes
#     into the store T/var/quarantine (moatd makes it: T/var is nobody's);
#   - a private Postfix (postfix.sh) with RELEASE_PORT: smtpd on SMTP_PORT
#     with moatd as its milter, and a second smtpd on RELEASE_PORT without
#     milters, where `moat quarantine release` delivers; both relay to the
#     sink;
# then sends quarantined samples (unique copies: each its own Message-ID)
# and checks what a mail admin would: the SMTP replies, the store's items,
# files and modes, and `moat quarantine list/show/export/release/delete/
# purge` (run as root: moat becomes [milter] user itself). moatd is
# restarted with other configs for reply = reject, a full quota, a crash
# between the put and the answer (MOATD_TEST_STORE_PAUSE_MS) and a store on
# a read-only and on a full file system (tmpfs; skipped without mount).
# One line per check ("ok   name", "FAIL name" plus context, "skip name"),
# then "N passed, N failed". Exit status 1 on any failure. Everything
# started or mounted here is stopped or unmounted on exit, Ctrl-C included;
# every helper process has its own lifetime limit as a backstop.
# Needs root, python3 and Postfix (package postfix).
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

PASSED=0
FAILED=0
SKIPPED=0
T=
SINK_PID=
MOATD_PID=
PF_STARTED=
MOUNTS=		# what cleanup unmounts, innermost first

summary() {
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed ($SKIPPED skipped)"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
}

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
[ -x "$MOAT" ] || prereq "$MOAT is not an executable (build it first)"
id nobody >/dev/null 2>&1 || prereq "no user nobody"

. "$HERE/../lib.sh"	# stop_pid, moatd_share
. "$HERE/itlib.sh"	# check, fatal, expect_code, arrived, pyjson, ...

# unmount_all: every mount of this run, innermost first (moatd must be gone)
unmount_all() {
	for m in $MOUNTS; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	MOUNTS=
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$HERE/postfix.sh" stop "$T"
	stop_pid "$MOATD_PID"
	stop_pid "$SINK_PID"
	unmount_all
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-itq.XXXXXX) || exit 1
chmod 0755 "$T"		# the Postfix daemons (user postfix) walk into it
mkdir -m 0700 "$T/spool" "$T/out" "$T/msg" "$T/cli"
# moatd (nobody) makes its store in a folder of its own
mkdir -m 0755 "$T/var" && chown nobody "$T/var"
chown nobody "$T/spool"
Q=$T/var/quarantine
: >"$T/moatd.log"
: >"$T/moat-cli.err"	# every moat command's stderr, for sanitizer reports

# --- reporting ----------------------------------------------------------------

context() {
	echo "     --- postfix.log (last lines)"
	tail -n 6 "$T/postfix.log" 2>/dev/null | indent
	echo "     --- moatd.log (last lines)"
	tail -n 6 "$T/moatd.log" 2>/dev/null | indent
}

# --- helpers ------------------------------------------------------------------

# inject RCPT FILE...: send over one connection; the replies go to $reply
inject() {
	rcpt=$1
	shift
	reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --to "$rcpt" "$@" 2>&1)
}

# mkmsg NAME [SRC]: T/msg/NAME.eml, a copy of SRC ($LNK) whose Message-ID
# is <NAME.PID@moat-itq.example> (in $mid): the store tells a retry of the
# same message from another by it
mkmsg() {
	mid="<$1.$$@moat-itq.example>"
	sed "s/^Message-ID: .*/Message-ID: $mid/" "${2:-$LNK}" >"$T/msg/$1.eml"
	grep -q "^Message-ID: $mid" "$T/msg/$1.eml"
}

# moatq CONF ARGS...: `moat -c CONF quarantine ARGS` as root (bounded); its
# stdout in T/cli/q.out, stderr in T/cli/q.err, exit status in $qrc
moatq() {
	conf_=$1
	shift
	timeout 60 "$MOAT" -c "$conf_" quarantine "$@" >"$T/cli/q.out" 2>"$T/cli/q.err"
	qrc=$?
	cat "$T/cli/q.err" >>"$T/moat-cli.err"
}

# qlist ARGS... [-c CONF]: `moat -c CONF quarantine list ARGS --json` into
# T/cli/list.json (CONF: $CONF)
qlist() {
	ql_conf=$CONF
	ql_args=
	while [ $# -gt 0 ]; do
		if [ "$1" = -c ]; then ql_conf=$2; shift 2; else ql_args="$ql_args $1"; shift; fi
	done
	# shellcheck disable=SC2086
	moatq "$ql_conf" list $ql_args --json
	cp "$T/cli/q.out" "$T/cli/list.json"
	[ "$qrc" = 0 ] && return 0
	why="moat quarantine list$ql_args --json: exit $qrc: $(cat "$T/cli/q.err")"
	return 1
}

# count_mid STATUS MSGID [CONF]: items with that Message-ID in list
# --status STATUS (of the store of CONF, $CONF), into $n
count_mid() {
	qlist --status "$1" ${3:+-c "$3"} || return 1
	# blanks stripped: check 1 asserts the exact value
	pyjson "$T/cli/list.json" 'print(sum(1 for i in a if i["message_id"].strip() == sys.argv[2]))' "$2" ||
		{ why="list --json: $out"; return 1; }
	n=$out
}

# listed STATUS ID: ID is in the table of list --status STATUS
listed() {
	moatq "$CONF" list --status "$1"
	[ "$qrc" = 0 ] || { why="moat quarantine list --status $1: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	grep -q "^$2 " "$T/cli/q.out"
}

# history_has ID REGEX: a line of show ID's history matches REGEX (ERE,
# after the date and time)
history_has() {
	moatq "$CONF" show "$1"
	[ "$qrc" = 0 ] || { why="moat quarantine show $1: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	sed -n '/^history:/,$p' "$T/cli/q.out" | grep -Eq "^  [0-9-]+ [0-9:]+  $2" && return 0
	why="no history line matching '$2' in: $(sed -n '/^history:/,$p' "$T/cli/q.out")"
	return 1
}

# id_of QID: the store id moatd logged for the message with queue id QID
# (5 s), into $id
id_of() {
	n_=0
	while :; do
		id=$(grep -F "moatd: $1: " "$T/moatd.log" | sed -n 's/.* quarantine=\([A-Za-z0-9_-]*\).*/\1/p' |
		    head -n 1)
		[ -n "$id" ] && return 0
		n_=$((n_ + 1))
		if [ $n_ -gt 50 ]; then
			why="no quarantine=ID for queue id '$1' in moatd.log"
			return 1
		fi
		sleep 0.1
	done
}

# hold NAME: a unique copy of $LNK to NAME@example.org, which must get 250
# and be stored; its id in $id, its Message-ID in $mid
hold() {
	mkmsg "$1" || { why="cannot make $T/msg/$1.eml"; return 1; }
	inject "$1@example.org" "$T/msg/$1.eml"
	expect_code 250 || return 1
	qid=$(queue_id "$reply")
	[ -n "$qid" ] || { why="no queue id in: $reply"; return 1; }
	id_of "$qid" || return 1
	listed held "$id" || { why="${why:-$id (from moatd.log) is not listed as held}"; return 1; }
}

# msgfile ID: the path of ID's message file (DIR/msg/XY/ID)
msgfile() { echo "$Q/msg/$(printf '%s' "$1" | cut -c1-2)/$1"; }

# moatd_pid: the moatd process (timeout(1) runs it as its child)
moatd_pid() { pgrep -P "$MOATD_PID" | head -n 1; }

# wait_log COUNT TEXT: until moatd.log has COUNT lines holding TEXT (10 s)
wait_log() {
	n_=0
	while [ "$(grep -c -F -- "$2" "$T/moatd.log")" -lt "$1" ]; do
		n_=$((n_ + 1))
		[ $n_ -gt 100 ] && return 1
		sleep 0.1
	done
	return 0
}

# write_conf FILE [KEY = VALUE]...: the base config with [quarantine] lines
# added at its end (a later key wins over an earlier one)
write_conf() {
	wc_f=$1
	shift
	{
		cat <<EOF
[av]
signature_dirs = $T/share/signatures

[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
# Postfix's smtpd runs as user postfix: it reaches the socket through its group.
socket_group = postfix
# Started as root to bind, moatd then runs as nobody, who owns the store.
user = nobody
status_socket =
drain_seconds = 5

[auth]
# No DNS here: sender authentication is tests/integration/auth.sh's.
enabled = no

[quarantine]
mode = store
dir = $Q
reply = discard
release_host = 127.0.0.1:$RELEASE_PORT
release_helo = release.moat-itq.example
release_timeout = 10
EOF
		for l in "$@"; do echo "$l"; done
	} >"$wc_f"
}

# moatd in the foreground (-f), in the background of this script; timeout(1)
# stops it after $LIFETIME s should this script die without cleaning up.
# start_moatd CONF [VAR=VALUE]...: started with those in its environment;
# returns once it logged "listening on" (10 s)
start_moatd() {
	sm_conf=$1
	shift
	sm_n=$(grep -c -F "moatd: listening on " "$T/moatd.log")
	env "$@" timeout "$LIFETIME" "$T/share/moatd" -c "$sm_conf" -p "unix:$T/moatd.sock" -f \
	    2>>"$T/moatd.log" &
	MOATD_PID=$!
	sm_i=0
	until [ "$(grep -c -F "moatd: listening on " "$T/moatd.log")" -gt "$sm_n" ]; do
		sm_i=$((sm_i + 1))
		if ! kill -0 "$MOATD_PID" 2>/dev/null || [ $sm_i -gt 100 ]; then
			why="moatd -c $sm_conf did not start"
			return 1
		fi
		sleep 0.1
	done
	return 0
}

# restart_moatd CONF [VAR=VALUE]...: with nothing in flight, moatd is
# stopped with SIGINT: at once, where SIGTERM's stop waits for libmilter's
# listener to notice (up to 5 s, main.c); t_stop checks SIGTERM
restart_moatd() {
	stop_moatd INT
	start_moatd "$@"
}

# --- start everything -----------------------------------------------------------

moatd_share "$ROOT" "$T/share" "$MOATD" ||
	fatal "cannot copy moatd, conf/signatures and lsan.supp to $T/share"

# shellcheck disable=SC2046
set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
SMTP_PORT=$1
RELEASE_PORT=$2
DEAD_PORT=$3		# nothing listens there: a release host that is down
set --

CONF=$T/moat.conf
write_conf "$CONF"

python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!

start_moatd "$CONF" || fatal "$why"
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ]; do
	i=$((i + 1))
	kill -0 "$SINK_PID" 2>/dev/null || { cat "$T/sink.log"; fatal "sink.py exited"; }
	[ $i -gt 100 ] && fatal "no $T/moatd.sock or sink port after 10 s"
	sleep 0.1
done
SINK_PORT=$(cat "$T/sink.port")
sleep 0.2	# let moatd finish setting the socket's mode and group

PF_STARTED=1
RELEASE_PORT=$RELEASE_PORT POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T" \
	"$SMTP_PORT" "$SINK_PORT" "unix:$T/moatd.sock" || fatal "postfix.sh start"

WHO=${SUDO_USER:-}
[ -n "$WHO" ] || WHO=$(id -un)	# the login moat quarantine records

echo "# moatd $MOATD, Postfix on 127.0.0.1:$SMTP_PORT (release listener :$RELEASE_PORT)," \
    "sink on 127.0.0.1:$SINK_PORT, store $Q"

# --- checks ---------------------------------------------------------------------

CLEAN=$SAMPLES/demo/clean-text.eml
LNK=$SAMPLES/demo/lure-lnk-in-mail.eml	# quarantine: attach.shortcut, score 10

# 0. the path to the sink works: a clean message is delivered (so that
# "nothing delivered" below means something)
t_clean() {
	mkmsg clean "$CLEAN" || { why="cannot make the clean copy"; return 1; }
	inject clean@example.org "$T/msg/clean.eml"
	expect_code 250 || return 1
	arrived clean@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	python3 "$HERE/mailtool.py" body-equal "$T/msg/clean.eml" "$got" >"$T/cli/d.txt" ||
		{ why=$(cat "$T/cli/d.txt"); return 1; }
	count_mid all "$mid" || return 1
	[ "$n" = 0 ] || { why="a clean message is in the store"; return 1; }
}
check "clean-text: 250, delivered, not in the store" t_clean

# 1. quarantined (reply = discard): 250, not delivered, in the store with
# its envelope, Subject and findings
t_held() {
	hold q1 || return 1
	ID1=$id
	MID1=$mid
	if ! grep -F "moatd: $qid: from=<sender@example.com> rcpts=1 " "$T/moatd.log" |
	    grep -q "action=quarantine score=10 .*quarantine=$id"; then
		why="moatd.log has no summary line with action=quarantine and quarantine=$id"
		return 1
	fi
	# the table
	moatq "$CONF" list
	line=$(grep "^$id " "$T/cli/q.out")
	case $line in
	*" held "*sender@example.com*q1@example.org*"Your parcel could not be delivered"*) ;;
	*) why="list: '$line' (stderr: $(cat "$T/cli/q.err"))"; return 1 ;;
	esac
	grep -Eq '^[0-9]+ items?$' "$T/cli/q.err" || { why="list's stderr: $(cat "$T/cli/q.err")"; return 1; }
	# the JSON
	qlist || return 1
	pyjson "$T/cli/list.json" '
want = "id time time_utc status queue_id client_addr helo mail_from header_from subject message_id action findings rcpts size score".split()
it = [i for i in a if i["id"] == sys.argv[2]]
if len(it) != 1:
    sys.exit("%d items with id %s" % (len(it), sys.argv[2]))
it = it[0]
bad = [k for k in want if k not in it]
bad += [k for k, v in (("rcpts", ["q1@example.org"]), ("status", "held"), ("mail_from", "sender@example.com"),
        ("message_id", sys.argv[3]), ("queue_id", sys.argv[4]), ("score", 10), ("action", "quarantine"),
        ("subject", "Your parcel could not be delivered")) if it.get(k) != v]
if "attach.shortcut" not in it.get("findings", "").split(","):
    bad.append("findings")
if bad:
    sys.exit("wrong or missing %s in %s" % (", ".join(bad), json.dumps(it)))' "$id" "$mid" "$qid" ||
		{ why="list --json: $out"; return 1; }
	# show: the findings with their ATT&CK technique, the history
	moatq "$CONF" show "$id"
	[ "$qrc" = 0 ] || { why="show $id: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	grep -Eq '^  attach\.shortcut +10 +T1204\.002 ' "$T/cli/q.out" ||
		{ why="show $id has no 'attach.shortcut 10 T1204.002' finding: $(cat "$T/cli/q.out")"; return 1; }
	history_has "$id" "moatd +stored" || return 1
	# nothing reaches the sink (also checked at the end)
	sleep 2
	[ "$(deliveries q1@example.org)" = 0 ] || { why="a message to q1@example.org reached the sink: $got"; return 1; }
	echo "     stored as $id"
}
check "lure-lnk, reply = discard: 250, in the store (list, list --json, show: T1204.002, stored), not delivered" t_held

# 2. the store's files: nobody's, folders 2770, files 0660, one group
t_modes() {
	[ -n "${ID1:-}" ] || { why="no item from check 1"; return 1; }
	for f in "$Q/index.sqlite" "$Q/index.sqlite-wal" "$(msgfile "$ID1")"; do
		[ -f "$f" ] || { why="no file $f"; return 1; }
	done
	grp=$(stat -c %G "$Q")
	bad=$(find "$Q" -printf '%y %m %u %g %p\n' | awk -v g="$grp" '
		$1 == "d" && ($2 != "2770" || $3 != "nobody" || $4 != g) { print }
		$1 == "f" && ($2 != "660" || $3 != "nobody" || $4 != g) { print }
		$1 != "d" && $1 != "f" { print }')
	[ -z "$bad" ] || { why="expected folders 2770 and files 660 of nobody:$grp, got:
$bad"; return 1; }
	echo "     $(find "$Q" -type d | wc -l) folders 2770, $(find "$Q" -type f | wc -l) files 0660, nobody:$grp"
}
check "store files: index.sqlite, -wal and the message owned by nobody, folders 2770, files 0660" t_modes

# 3. export: the stored bytes, which are what Postfix passed on: the
# original message with CRLF line ends. (Postfix does not show a milter the
# Received: line it adds itself; an MTA that does would put it first: one
# Received: field before the original is accepted, nothing else.)
t_export() {
	[ -n "${ID1:-}" ] || { why="no item from check 1"; return 1; }
	timeout 60 "$MOAT" -c "$CONF" quarantine export "$ID1" >"$T/cli/export1.eml" 2>"$T/cli/q.err"
	rc=$?
	cat "$T/cli/q.err" >>"$T/moat-cli.err"
	[ $rc = 0 ] || { why="export $ID1: exit $rc: $(cat "$T/cli/q.err")"; return 1; }
	cmp "$T/cli/export1.eml" "$(msgfile "$ID1")" >"$T/cli/cmp.txt" 2>&1 ||
		{ why="export differs from the stored file: $(cat "$T/cli/cmp.txt")"; return 1; }
	python3 "$HERE/mailtool.py" body-equal "$T/msg/q1.eml" "$T/cli/export1.eml" >"$T/cli/d.txt" ||
		{ why="body: $(cat "$T/cli/d.txt")"; return 1; }
	out=$(python3 - "$T/msg/q1.eml" "$T/cli/export1.eml" 2>&1 <<'EOF_'
import re, sys
orig = open(sys.argv[1], "rb").read()
got = open(sys.argv[2], "rb").read()
orig = orig.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
if got.replace(b"\r\n", b"").find(b"\n") >= 0:
    sys.exit("a bare LF in the stored message")
if not got.endswith(orig):
    sys.exit("the stored message does not end with the original (CRLF): %r" % got[:300])
head = got[: len(got) - len(orig)]
if not re.fullmatch(rb"(?:Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*)?", head):
    sys.exit("before the original: %r, not one Received: field" % head)
print("the original (CRLF)" + (", after one Received: field" if head else ", nothing added"))
EOF_
) || { why=$out; return 1; }
	history_has "$ID1" "$WHO +exported" || return 1
	echo "     $(wc -c <"$T/cli/export1.eml") bytes: $out"
}
check "export: byte-identical to the stored file, which is the original (CRLF), same body" t_export

# 4. release: delivered through the release listener with the original
# envelope and body, X-Moat-Released first; once only
t_release() {
	[ -n "${ID1:-}" ] || { why="no item from check 1"; return 1; }
	moatq "$CONF" release "$ID1"
	[ "$qrc" = 0 ] || { why="release $ID1: exit $qrc: $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	grep -q "^$ID1 released to q1@example.org: 250 " "$T/cli/q.out" ||
		{ why="release printed: $(cat "$T/cli/q.out")"; return 1; }
	arrived q1@example.org "$MID1" || { why="the released message did not reach the sink in $WAIT s"; return 1; }
	env=$(tr -d '\r' <"${got%.eml}.env")
	[ "$env" = "MAIL FROM:<sender@example.com>
RCPT TO:<q1@example.org>" ] || { why="envelope at the sink: $env"; return 1; }
	rel=$(hdr "$got" X-Moat-Released)
	case $rel in
	"by $WHO on "*"(quarantine $ID1)") ;;
	*) why="X-Moat-Released: '$rel'"; return 1 ;;
	esac
	# the listener's Received:, X-Moat-Released, then the stored bytes as they are
	out=$(python3 - "$T/cli/export1.eml" "$got" 2>&1 <<'EOF_'
import re, sys
stored = open(sys.argv[1], "rb").read()
got = open(sys.argv[2], "rb").read()
if not got.endswith(stored):
    sys.exit("the delivered message does not end with the stored one: %r" % got[:400])
head = got[: len(got) - len(stored)]
if not re.fullmatch(rb"Received: [^\r\n]*\r\n(?:[ \t][^\r\n]*\r\n)*X-Moat-Released: [^\r\n]*\r\n", head):
    sys.exit("before the stored message: %r (expected the listener's Received:, then X-Moat-Released:)" % head)
EOF_
) || { why=$out; return 1; }
	python3 "$HERE/mailtool.py" body-equal "$T/msg/q1.eml" "$got" >"$T/cli/d.txt" ||
		{ why="body: $(cat "$T/cli/d.txt")"; return 1; }
	grep -q "postfix-moattest/release/smtpd\[" "$T/postfix.log" ||
		{ why="the release listener's smtpd logged nothing"; return 1; }
	listed released "$ID1" || { why="${why:-$ID1 not listed by list --status released}"; return 1; }
	! listed held "$ID1" || { why="$ID1 still listed as held"; return 1; }
	history_has "$ID1" "$WHO +released: to q1@example.org via 127.0.0.1:$RELEASE_PORT: 250 " || return 1
	# again: refused, nothing sent
	moatq "$CONF" release "$ID1"
	[ "$qrc" = 1 ] || { why="second release: exit $qrc (expected 1): $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	sleep 1
	n=$(deliveries q1@example.org)
	[ "$n" = 1 ] || { why="$n messages to q1@example.org at the sink"; return 1; }
	echo "     second release: $(cat "$T/cli/q.err")"
}
check "release: delivered via the release listener, original envelope and body, X-Moat-Released; twice: exit 1" t_release

# 5. release --to: only to that recipient
t_release_to() {
	hold q5 || return 1
	moatq "$CONF" release "$id" --to other@example.org
	[ "$qrc" = 0 ] || { why="release --to: exit $qrc: $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	grep -q "^$id released to other@example.org: 250 " "$T/cli/q.out" ||
		{ why="release printed: $(cat "$T/cli/q.out")"; return 1; }
	arrived other@example.org "$mid" || { why="not delivered to other@example.org in $WAIT s"; return 1; }
	env=$(tr -d '\r' <"${got%.eml}.env")
	[ "$env" = "MAIL FROM:<sender@example.com>
RCPT TO:<other@example.org>" ] || { why="envelope at the sink: $env"; return 1; }
	python3 "$HERE/mailtool.py" body-equal "$T/msg/q5.eml" "$got" >"$T/cli/d.txt" ||
		{ why="body: $(cat "$T/cli/d.txt")"; return 1; }
	[ "$(deliveries q5@example.org)" = 0 ] || { why="also delivered to q5@example.org: $got"; return 1; }
	listed released "$id" || { why="${why:-$id not listed as released}"; return 1; }
	history_has "$id" "$WHO +released: to other@example.org via " || return 1
}
check "release --to other@example.org: delivered to that recipient only, recorded" t_release_to

# 6. two admins release the same item at the same moment: one wins
# release_at_go K ID: once T/go is there, moat quarantine release ID (in
# the background: output in T/cli/raceK.*)
release_at_go() {
	while [ ! -e "$T/go" ]; do sleep 0.01; done
	exec timeout 60 "$MOAT" -c "$CONF" quarantine release "$2" >"$T/cli/race$1.out" 2>"$T/cli/race$1.err"
}

t_release_race() {
	hold q6 || return 1
	rm -f "$T/go"
	release_at_go 1 "$id" &
	race1=$!
	release_at_go 2 "$id" &
	race2=$!
	sleep 0.3
	touch "$T/go"
	wait "$race1"
	rc1=$?
	wait "$race2"
	rc2=$?
	cat "$T/cli/race1.err" "$T/cli/race2.err" >>"$T/moat-cli.err"
	rcs=$(printf '%s\n%s\n' "$rc1" "$rc2" | sort | tr '\n' ' ')
	[ "$rcs" = "0 1 " ] || { why="exit statuses $rc1 and $rc2 (expected one 0, one 1):
$(cat "$T/cli/race1.out" "$T/cli/race1.err" "$T/cli/race2.out" "$T/cli/race2.err")"; return 1; }
	arrived q6@example.org "$mid" || { why="not delivered in $WAIT s"; return 1; }
	sleep 1
	n=$(deliveries q6@example.org)
	[ "$n" = 1 ] || { why="$n deliveries to q6@example.org"; return 1; }
	listed released "$id" || { why="${why:-$id not listed as released}"; return 1; }
	echo "     the loser: $(cat "$T/cli/race1.err" "$T/cli/race2.err" | head -n 1)"
}
check "two releases of one item at the same moment: one exits 0, the other 1, one delivery" t_release_race

# 7. delete, then purge
t_delete_purge() {
	hold q7 || return 1
	f=$(msgfile "$id")
	[ -f "$f" ] || { why="no message file $f"; return 1; }
	moatq "$CONF" delete "$id"
	[ "$qrc" = 0 ] || { why="delete: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	! listed held "$id" || { why="$id still listed as held after delete"; return 1; }
	listed deleted "$id" || { why="${why:-$id not listed by list --status deleted}"; return 1; }
	[ ! -e "$f" ] || { why="$f is still there after delete"; return 1; }
	history_has "$id" "$WHO +deleted" || return 1
	moatq "$CONF" export "$id"
	[ "$qrc" = 1 ] || { why="export of a deleted item: exit $qrc (expected 1)"; return 1; }
	[ -s "$T/cli/q.out" ] && { why="export of a deleted item wrote $(wc -c <"$T/cli/q.out") bytes"; return 1; }
	moatq "$CONF" delete "$id"
	[ "$qrc" = 1 ] || { why="second delete: exit $qrc (expected 1): $(cat "$T/cli/q.err")"; return 1; }
	# purge --older-than 0: everything stored before now (wait for the next second)
	qlist --status all || return 1
	pyjson "$T/cli/list.json" 'print(len(a), max([i["time"] for i in a] or [0]))' || { why=$out; return 1; }
	before=${out% *}
	newest=${out#* }
	while [ "$(date +%s)" -le "$newest" ]; do sleep 0.1; done
	moatq "$CONF" purge --older-than 0
	[ "$qrc" = 0 ] || { why="purge: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	purged=$(sed -n 's/^\([0-9]*\) items\{0,1\} purged$/\1/p' "$T/cli/q.out")
	if [ -z "$purged" ] || [ "$purged" -eq 0 ] || [ "$purged" != "$before" ]; then
		why="purge printed '$(cat "$T/cli/q.out")', $before items were in the store"
		return 1
	fi
	qlist --status all || return 1
	[ "$(tr -d ' \n' <"$T/cli/list.json")" = "[]" ] ||
		{ why="after purge, list --status all: $(cat "$T/cli/list.json")"; return 1; }
	left=$(find "$Q/msg" "$Q/tmp" -type f)
	[ -z "$left" ] || { why="files left after purge: $left"; return 1; }
	moatq "$CONF" show "$ID1"
	[ "$qrc" = 1 ] || { why="show of a purged item: exit $qrc (expected 1)"; return 1; }
	echo "     purge --older-than 0: $purged of $before items"
}
check "delete: exit 0, listed as deleted, file gone, export exit 1; purge --older-than 0 empties the store" t_delete_purge

# 8. the release host is down: exit 1, still held, "release failed"; then a
# release that works
t_release_dead() {
	hold q8 || return 1
	write_conf "$T/moat-dead.conf" "release_host = 127.0.0.1:$DEAD_PORT"
	moatq "$T/moat-dead.conf" release "$id"
	[ "$qrc" = 1 ] || { why="release to a dead host: exit $qrc (expected 1): $(cat "$T/cli/q.out" "$T/cli/q.err")"; return 1; }
	err=$(cat "$T/cli/q.err")
	listed held "$id" || { why="${why:-$id no longer listed as held}"; return 1; }
	history_has "$id" "$WHO +release failed" || return 1
	moatq "$CONF" release "$id"
	[ "$qrc" = 0 ] || { why="then a release to the listener: exit $qrc: $(cat "$T/cli/q.err")"; return 1; }
	arrived q8@example.org "$mid" || { why="not delivered in $WAIT s after the second release"; return 1; }
	echo "     $err"
}
check "release to a dead release_host: exit 1, still held, 'release failed'; released later" t_release_dead

# 9. reply = reject: 550 5.7.1 with the id, which is in the store
t_reject() {
	write_conf "$T/moat-reject.conf" "reply = reject"
	restart_moatd "$T/moat-reject.conf" || return 1
	mkmsg q9 || return 1
	inject q9@example.org "$T/msg/q9.eml"
	expect_code 550 || return 1
	id=$(printf '%s\n' "$reply" | sed -n 's/^550 5\.7\.1 .*held as \([A-Za-z0-9_-]\{22\}\).*/\1/p')
	[ -n "$id" ] || { why="no '550 5.7.1 ... held as ID' in: $reply"; return 1; }
	listed held "$id" || { why="${why:-$id (from the reply) not listed as held}"; return 1; }
	count_mid held "$mid" || return 1
	[ "$n" = 1 ] || { why="$n items with Message-ID $mid"; return 1; }
	echo "     $reply"
}
check "reply = reject: 550 5.7.1 'held as ID', ID in the store" t_reject

# reload_conf: SIGHUP moatd and wait for its "reloaded" line
reload_conf() {
	rl0=$(grep -c -F "reloaded $CONF" "$T/moatd.log")
	kill -HUP "$(moatd_pid)" || { why="no moatd to SIGHUP"; return 1; }
	wait_log $((rl0 + 1)) "reloaded $CONF" || { why="moatd did not log the reload"; return 1; }
}

# 10. quota: the store would pass max_bytes: 451, nothing stored or
# delivered; the MTA's retry, once there is room, is stored. The quota
# comes and goes with SIGHUP: a running moatd takes the new value.
t_quota() {
	restart_moatd "$CONF" || return 1	# t_reject left it on another file
	cp "$CONF" "$T/moat-room.conf"
	write_conf "$CONF" "max_bytes = 1K"
	reload_conf || return 1
	full0=$(grep -c -F "quarantine full" "$T/moatd.log")
	mkmsg q10 || return 1
	inject q10@example.org "$T/msg/q10.eml"
	expect_code 451 || return 1
	case $reply in *4.3.0*) ;; *) why="451 without 4.3.0: $reply"; return 1 ;; esac
	wait_log $((full0 + 1)) "quarantine full" || { why="moatd did not log 'quarantine full'"; return 1; }
	count_mid all "$mid" || return 1
	[ "$n" = 0 ] || { why="$n items stored for a message over the quota"; return 1; }
	line=$(grep -F "quarantine full" "$T/moatd.log" | tail -n 1)
	cp "$T/moat-room.conf" "$CONF"
	reload_conf || return 1
	inject q10@example.org "$T/msg/q10.eml"
	expect_code 250 || { why="the retry with room again: $why"; return 1; }
	count_mid held "$mid" || return 1
	[ "$n" = 1 ] || { why="$n items with Message-ID $mid after the retry"; return 1; }
	echo "     $(echo "$line" | sed 's/.*moatd: //')"
}
check "max_bytes = 1K by SIGHUP: 451 4.3.0, 'quarantine full' logged, nothing stored; with room again, the retry is stored" t_quota

# 11. moatd killed after the put, before its answer: Postfix tempfails, the
# client retries, the restarted moatd finds the item (same key): one item,
# 250, nothing delivered
t_crash() {
	restart_moatd "$CONF" MOATD_TEST_STORE_PAUSE_MS=5000 || return 1
	mkmsg q11 || return 1
	python3 "$HERE/inject.py" --port "$SMTP_PORT" --to q11@example.org --retry-4xx 60 \
	    "$T/msg/q11.eml" >"$T/q11.reply" 2>"$T/q11.err" &
	sender=$!
	k=0
	until count_mid held "$mid" && [ "$n" = 1 ]; do
		k=$((k + 1))
		if [ $k -gt 100 ]; then
			kill "$sender" 2>/dev/null
			why="the item never appeared in the store within 10 s"
			return 1
		fi
		sleep 0.1
	done
	pyjson "$T/cli/list.json" 'print([i["id"] for i in a if i["message_id"].strip() == sys.argv[2]][0])' "$mid"
	first=$out
	[ ! -s "$T/q11.reply" ] || { why="the client had its answer before the kill: $(cat "$T/q11.reply")"; return 1; }
	victim=$(moatd_pid)
	[ -n "$victim" ] || { why="no moatd process under $MOATD_PID"; return 1; }
	kill -9 "$victim"
	wait "$MOATD_PID" 2>/dev/null
	MOATD_PID=
	k=0
	until grep -q "^retry after: 4" "$T/q11.err"; do
		k=$((k + 1))
		[ $k -gt 300 ] && { kill "$sender"; why="no 4xx for the client in 30 s: $(cat "$T/q11.err")"; return 1; }
		sleep 0.1
	done
	start_moatd "$CONF" || { kill "$sender"; return 1; }
	wait "$sender"
	reply=$(cat "$T/q11.reply")
	expect_code 250 || return 1
	count_mid all "$mid" || return 1
	[ "$n" = 1 ] || { why="$n items with Message-ID $mid (expected exactly one)"; return 1; }
	# the retry's summary line names the item the killed moatd stored
	id_of "$(queue_id "$reply")" || return 1
	[ "$id" = "$first" ] || { why="the retry was logged as quarantine=$id, the item is $first"; return 1; }
	[ "$(deliveries q11@example.org)" = 0 ] || { why="delivered: $got"; return 1; }
	echo "     client: $(grep -c '^retry after' "$T/q11.err") retries ($(head -n 1 "$T/q11.err" | cut -c1-60)), then $reply; item $first"
}
check "moatd SIGKILLed between put and answer: client tempfailed, retry gets 250, exactly one item" t_crash

# 12. a store on a read-only and on a full file system: 451, nothing
# delivered, nothing half-written. A tmpfs T/fs, where moatd makes the
# store; read-only: a read-only bind mount over the store (remount,ro of
# the tmpfs itself fails with EBUSY while moatd has the index open).
FS=$T/fs
FSQ=$FS/quarantine
t_readonly() {
	mkdir -m 0755 "$FS"
	if ! mount -t tmpfs -o "size=256k,mode=0755,uid=$(id -u nobody)" tmpfs "$FS" 2>"$T/mount.err"; then
		skip="cannot mount a tmpfs: $(cat "$T/mount.err")"
		return 0
	fi
	MOUNTS=$FS
	write_conf "$T/moat-fs.conf" "dir = $FSQ"
	restart_moatd "$T/moat-fs.conf" || return 1
	[ -f "$FSQ/index.sqlite" ] || { why="moatd made no store in $FSQ"; return 1; }
	mount --bind "$FSQ" "$FSQ" || { why="cannot bind-mount $FSQ"; return 1; }
	MOUNTS="$FSQ $MOUNTS"
	mount -o remount,bind,ro "$FSQ" || { why="cannot make $FSQ read-only"; return 1; }
	failed0=$(grep -c -F "quarantine: cannot store the message" "$T/moatd.log")
	mkmsg q12 || return 1
	inject q12@example.org "$T/msg/q12.eml"
	expect_code 451 || return 1
	wait_log $((failed0 + 1)) "quarantine: cannot store the message" ||
		{ why="moatd did not log 'cannot store the message'"; return 1; }
	line=$(grep -F "quarantine: cannot store the message" "$T/moatd.log" | tail -n 1)
	umount "$FSQ" || { why="cannot unmount the bind mount $FSQ"; return 1; }
	MOUNTS=$FS
	left=$(find "$FSQ/msg" "$FSQ/tmp" -type f)
	[ -z "$left" ] || { why="files left in the store: $left"; return 1; }
	count_mid all "$mid" "$T/moat-fs.conf" || return 1
	[ "$n" = 0 ] || { why="$n items stored on a read-only store"; return 1; }
	# writable again: the MTA's retry is stored
	inject q12@example.org "$T/msg/q12.eml"
	expect_code 250 || { why="the retry on a writable store: $why"; return 1; }
	count_mid held "$mid" "$T/moat-fs.conf" || return 1
	[ "$n" = 1 ] || { why="$n items for the retry"; return 1; }
	[ "$(deliveries q12@example.org)" = 0 ] || { why="delivered: $got"; return 1; }
	echo "     $(echo "$line" | sed 's/.*moatd: //')"
}
check "store read-only: 451, nothing stored or delivered; writable again, the retry is stored" t_readonly

t_fullfs() {
	if [ -z "$MOUNTS" ]; then
		skip="no tmpfs (see above)"
		return 0
	fi
	python3 "$HERE/mailtool.py" derive "$LNK" "$T/msg/big.eml" --grow 307200 ||
		{ why="mailtool derive failed"; return 1; }
	mkmsg q12big "$T/msg/big.eml" || return 1
	free=$(df -k "$FS" | awk 'NR == 2 { print $4 }')
	failed0=$(grep -c -F "quarantine: cannot store the message" "$T/moatd.log")
	inject q12big@example.org "$T/msg/q12big.eml"
	expect_code 451 || return 1
	wait_log $((failed0 + 1)) "quarantine: cannot store the message" ||
		{ why="moatd did not log 'cannot store the message'"; return 1; }
	line=$(grep -F "quarantine: cannot store the message" "$T/moatd.log" | tail -n 1)
	left=$(find "$FSQ/tmp" -type f)
	[ -z "$left" ] || { why="a partial file left in the store: $left"; return 1; }
	count_mid all "$mid" "$T/moat-fs.conf" || return 1
	[ "$n" = 0 ] || { why="the big message is in the store"; return 1; }
	# the store still works for what fits
	mkmsg q12small || return 1
	inject q12small@example.org "$T/msg/q12small.eml"
	expect_code 250 || { why="a small message after the full one: $why"; return 1; }
	count_mid held "$mid" "$T/moat-fs.conf" || return 1
	[ "$n" = 1 ] || { why="$n items for the small message"; return 1; }
	[ "$(deliveries q12big@example.org)" = 0 ] || { why="delivered: $got"; return 1; }
	echo "     ${free} KB free for $(wc -c <"$T/msg/q12big.eml") bytes: $(echo "$line" | sed 's/.*moatd: //')"
}
check "store on a full file system (tmpfs): 451 for a 300 KB message, nothing left; small ones still stored" t_fullfs

# back to the store in T/var; the tmpfs goes
t_back() {
	restart_moatd "$CONF" || return 1
	unmount_all
	mkmsg q13 || return 1
	inject q13@example.org "$T/msg/q13.eml"
	expect_code 250 || return 1
	count_mid held "$mid" || return 1
	[ "$n" = 1 ] || { why="$n items with Message-ID $mid"; return 1; }
}
check "moatd back on the first store: quarantined mail stored" t_back

# what reached the sink: the clean message and the four releases, nothing
# else; Postfix's hold queue is empty (mode = store)
t_sink() {
	for pair in clean:1 q1:1 other:1 q5:0 q6:1 q7:0 q8:1 q9:0 q10:0 q11:0 q12:0 q12big:0 \
	    q12small:0 q13:0; do
		n=$(deliveries "${pair%:*}@example.org")
		[ "$n" = "${pair#*:}" ] || { why="$n messages to ${pair%:*}@example.org at the sink, not ${pair#*:}"; return 1; }
	done
	total=$(find "$T/out" -name '*.eml' | wc -l)
	[ "$total" = 5 ] || { why="$total messages at the sink, not 5: $(ls "$T/out")"; return 1; }
	held=$(find "$T/queue/hold" -type f 2>/dev/null)
	[ -z "$held" ] || { why="Postfix's hold queue: $held"; return 1; }
}
check "the sink got the clean message and the 4 releases only; Postfix's hold queue is empty" t_sink

# 13. moatd stops cleanly; in the ASan build nothing is reported, by moatd
# or by moat
t_stop() {
	n0=$(grep -c -F "moatd: stopped" "$T/moatd.log")
	stop_moatd
	[ "$stop_rc" = 0 ] || { why="moatd exited $stop_rc"; return 1; }
	[ "$(grep -c -F "moatd: stopped" "$T/moatd.log")" -gt "$n0" ] ||
		{ why="no new 'stopped' line in moatd.log"; return 1; }
	for f in "$T/moatd.log" "$T/moat-cli.err"; do
		if grep -q "Sanitizer" "$f"; then
			why="$f: $(grep -A12 "Sanitizer" "$f" | head -n 20)"
			return 1
		fi
	done
	return 0
}
check "moatd stops on SIGTERM, no sanitizer report (moatd, moat)" t_stop

summary
[ "$FAILED" -eq 0 ]
