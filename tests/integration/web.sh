#!/bin/sh
# tests/integration/web.sh - moat-web, the quarantine in a browser, behind a real Postfix
#
#   sh tests/integration/web.sh build/moatd   (from the top of the tree;
#                                               moat and moat-web: the same directory)
#
# In a fresh temp dir T (kept when KEEP=1), as quarantine.sh: sink.py (every
# delivered message in T/out), moatd as user nobody with [quarantine] mode =
# store, a private Postfix (postfix.sh) with a release listener without
# milters. `moat web user add` makes an admin and a reviewer (T/web-users,
# 0640, group of nobody); moat-web starts as root and becomes nobody. Then:
#   - three copies of the demo shortcut lure are held; one has a Subject, a
#     From display name and a file name with <script>, <img onerror> and
#     U+202E (webtool.py make);
#   - in headless Chromium (DevTools protocol on a pipe, webtool.py browser):
#     log in, filter the list by attach.shortcut, open the hostile item, see
#     its findings, ATT&CK id and tree, every hostile text shown as text
#     (no script element, no image, no dialog, the RLO as a visible code),
#     release it; the sink gets it, with X-Moat-Released by web:admin, and
#     the history says so;
#   - over HTTP: a reviewer's delete is refused (403), a POST without a CSRF
#     token is refused, a logged-out session's cookie cannot act;
#   - the same item released from the CLI and from the web at once: one
#     delivery, the other told it was taken;
#   - screenshots in BUILD/artifacts/web (BUILD: the directory of moatd);
#     list.png becomes docs/web-list.png (README's) when that is missing or
#     WEB_SCREENSHOT=1, so that a test run leaves the tree as it was.
# Skipped when chromium ($CHROMIUM, default chromium) is not installed.
# One line per check, then "web: N passed, N failed"; exit 1 on any failure.
# Needs root, python3, Postfix.
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SAMPLES=$ROOT/samples
LIFETIME=${LIFETIME:-300}	# seconds any helper process may live
WAIT=${WAIT:-20}		# seconds to wait for a delivery

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac
MOAT=${MOAT:-$(dirname "$MOATD")/moat}
MOATWEB=${MOATWEB:-$(dirname "$MOATD")/moat-web}
ART=$(dirname "$MOATD")/artifacts/web

PASSED=0
FAILED=0
SKIPPED=0
T=
SINK_PID=
MOATD_PID=
WEB_PID=
PF_STARTED=
HOSTILE=
SECOND=
THIRD=

summary() {
	if [ "$SKIPPED" -gt 0 ]; then
		echo "web: $PASSED passed, $FAILED failed ($SKIPPED skipped)"
	else
		echo "web: $PASSED passed, $FAILED failed"
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
for b in "$MOATD" "$MOAT" "$MOATWEB"; do
	[ -x "$b" ] || prereq "$b is not an executable (build it first)"
done
id nobody >/dev/null 2>&1 || prereq "no user nobody"
if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
	echo "skip web.sh (chromium is not installed: apt-get install chromium)"
	exit 0
fi

. "$HERE/../lib.sh"	# stop_pid, moatd_share, trap_cleanup, remove_temp_dir
. "$HERE/itlib.sh"	# check, fatal, expect_code, arrived, ...

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$HERE/postfix.sh" stop "$T"
	stop_pid "$WEB_PID"
	stop_pid "$MOATD_PID"
	stop_pid "$SINK_PID"
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-web.XXXXXX) || exit 1
chmod 0755 "$T"
mkdir -m 0700 "$T/spool" "$T/out" "$T/msg" "$T/cli" "$T/chromium"
mkdir -m 0755 "$T/var" && chown nobody "$T/var" "$T/spool"
Q=$T/var/quarantine
: >"$T/moatd.log"
: >"$T/web.log"

context() {
	echo "     --- moat-web (last lines)"
	tail -n 6 "$T/web.log" 2>/dev/null | indent
	echo "     --- moatd.log (last lines)"
	tail -n 4 "$T/moatd.log" 2>/dev/null | indent
}

# inject RCPT FILE: send it; the replies in $reply
inject() { reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --to "$1" "$2" 2>&1); }

# hold NAME: T/msg/NAME.eml to NAME@example.org, held; its store id in $id
hold() {
	inject "$1@example.org" "$T/msg/$1.eml"
	expect_code 250 || return 1
	qid=$(queue_id "$reply")
	n_=0
	while :; do
		id=$(grep -F "moatd: $qid: " "$T/moatd.log" | sed -n 's/.* quarantine=\([A-Za-z0-9_-]*\).*/\1/p' |
		    head -n 1)
		[ -n "$id" ] && return 0
		n_=$((n_ + 1))
		[ $n_ -gt 100 ] && { why="no quarantine=ID for $qid in moatd.log"; return 1; }
		sleep 0.1
	done
}

# wt ARGS...: webtool.py; its complaint in $why
wt() { why=$(python3 "$HERE/webtool.py" "$@" 2>&1); }

# status_of ID: the item's status by moat quarantine list --json, in $st
status_of() {
	st=$(timeout 30 "$MOAT" -c "$CONF" quarantine list --status all --json 2>>"$T/cli/q.err" |
	    python3 -c 'import json, sys
print([i["status"] for i in json.load(sys.stdin) if i["id"] == sys.argv[1]][0])' "$1" 2>&1)
}

# --- start everything -----------------------------------------------------------

moatd_share "$ROOT" "$T/share" "$MOATD" || fatal "cannot copy moatd and its files to $T/share"
# shellcheck disable=SC2046
set -- $(python3 -c 'import socket
s = [socket.socket() for _ in range(3)]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))')
SMTP_PORT=$1
RELEASE_PORT=$2
WEB_PORT=$3
set --
URL=http://127.0.0.1:$WEB_PORT

CONF=$T/moat.conf
cat >"$CONF" <<EOF
[av]
signature_dirs = $T/share/signatures
[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
socket_group = postfix
user = nobody
status_socket =
drain_seconds = 5
[auth]
enabled = no
[policy]
# the hostile file name's RLO adds name.bidi_control: held, not rejected
reject_score = 100
[quarantine]
mode = store
dir = $Q
reply = discard
release_host = 127.0.0.1:$RELEASE_PORT
release_helo = release.moat-web.example
release_timeout = 10
[web]
listen = inet:$WEB_PORT@127.0.0.1
users = $T/web-users
EOF

python3 "$HERE/webtool.py" make "$SAMPLES" "$T/msg" "$$" || fatal "webtool.py make"
python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" >"$T/sink.log" 2>&1 &
SINK_PID=$!
timeout "$LIFETIME" "$T/share/moatd" -c "$CONF" -p "unix:$T/moatd.sock" -f 2>>"$T/moatd.log" &
MOATD_PID=$!
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ] && grep -q "listening on" "$T/moatd.log"; do
	i=$((i + 1))
	[ $i -gt 150 ] && fatal "moatd or the sink did not start in 15 s"
	sleep 0.1
done
sleep 0.2
PF_STARTED=1
RELEASE_PORT=$RELEASE_PORT POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T" \
	"$SMTP_PORT" "$(cat "$T/sink.port")" "unix:$T/moatd.sock" || fatal "postfix.sh start"
echo "# moatd, Postfix on :$SMTP_PORT (release :$RELEASE_PORT), moat-web on $URL, dir $T"

# --- checks ---------------------------------------------------------------------

# 1. users: the file moat web user writes, 0640, group of [milter] user
t_users() {
	echo admin-password-1 | "$MOAT" -c "$CONF" web user add admin admin >/dev/null 2>"$T/cli/u.err" &&
		echo reviewer-password-1 | "$MOAT" -c "$CONF" web user add rev reviewer >/dev/null \
		    2>>"$T/cli/u.err" || { why=$(cat "$T/cli/u.err"); return 1; }
	m=$(stat -c '%a %G' "$T/web-users")
	[ "$m" = "640 $(id -gn nobody)" ] || { why="web-users: mode and group $m"; return 1; }
	grep -q '^admin:admin:\$argon2id\$' "$T/web-users" || { why="no Argon2id hash: $(cat "$T/web-users")"; return 1; }
}
check "moat web user add: Argon2id hashes, mode 0640, group of [milter] user" t_users

# 2. moat-web: as root, becomes nobody, listens
t_start() {
	timeout "$LIFETIME" "$MOATWEB" -c "$CONF" -f 2>>"$T/web.log" &
	WEB_PID=$!
	i=0
	until grep -q "listening on" "$T/web.log"; do
		i=$((i + 1))
		kill -0 "$WEB_PID" 2>/dev/null && [ $i -le 100 ] || { why="moat-web did not start"; return 1; }
		sleep 0.1
	done
	u=$(ps -o user= -p "$(pgrep -P "$WEB_PID" | head -n 1)")
	[ "$u" = nobody ] || { why="moat-web runs as '$u', not nobody"; return 1; }
}
check "moat-web started as root runs as [milter] user nobody" t_start

# 3. three lures held
t_hold() {
	hold hostile && HOSTILE=$id && hold second && SECOND=$id && hold third && THIRD=$id
}
check "three shortcut lures held in the store" t_hold

# 4. the browser: log in, filter, open, see, release
t_browser() {
	mkdir -p "$ART" && rm -f "$ART"/*.png
	subject=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); import webtool; print(webtool.HOSTILE_SUBJECT)' "$HERE")
	CHROMIUM_PROFILE=$T/chromium wt browser "http://localhost:$WEB_PORT" admin admin-password-1 "$HOSTILE" attach.shortcut "$subject" "$ART" || return 1
	printf '%s\n' "$why" | indent
	why=
	arrived hostile@example.org || { why="not delivered to the sink within $WAIT s"; return 1; }
	rel=$(hdr "$got" X-Moat-Released)
	case $rel in
	"by web:admin on "*"(quarantine $HOSTILE)") ;;
	*) why="X-Moat-Released: '$rel'"; return 1 ;;
	esac
	timeout 30 "$MOAT" -c "$CONF" quarantine show "$HOSTILE" >"$T/cli/show.txt" 2>&1
	grep -Eq "web:admin +released: to hostile@example.org" "$T/cli/show.txt" ||
		{ why="history: $(sed -n '/^history:/,$p' "$T/cli/show.txt")"; return 1; }
}
check "chromium: log in, filter, open, hostile texts escaped, release; delivered" t_browser

# 5. HTTP: roles, CSRF, logout
t_reviewer() { wt http "$URL" reviewer-delete rev reviewer-password-1 "$SECOND"; }
check "a reviewer's delete is refused (403)" t_reviewer
t_nocsrf() { wt http "$URL" no-csrf admin admin-password-1 "$SECOND"; }
check "a POST without the CSRF token is refused (403)" t_nocsrf
t_logout() { wt http "$URL" after-logout admin admin-password-1 "$SECOND"; }
check "a logged-out session's cookie cannot act" t_logout
t_still() {
	status_of "$SECOND"
	[ "$st" = held ] || { why="$SECOND is '$st' after the refused requests"; return 1; }
}
check "the refused item is still held" t_still

# 6. CLI and web release the same item at once: one delivery
t_race() {
	timeout 60 "$MOAT" -c "$CONF" quarantine release "$THIRD" >"$T/cli/race.out" 2>&1 &
	cli=$!
	python3 "$HERE/webtool.py" http "$URL" release admin admin-password-1 "$THIRD" >"$T/cli/race.web" 2>&1
	wait "$cli"
	arrived third@example.org || { why="not delivered"; return 1; }
	sleep 2	# a second delivery would be here by now
	n=$(deliveries third@example.org)
	[ "$n" = 1 ] || { why="$n deliveries (cli: $(cat "$T/cli/race.out"); web: $(cat "$T/cli/race.web"))"; return 1; }
	echo "     cli: $(head -c 120 "$T/cli/race.out"); web: HTTP $(cat "$T/cli/race.web")"
}
check "CLI and web release at once: delivered once" t_race

# 7. the screenshot for README
t_shots() {
	for p in login list message released; do
		[ -s "$ART/$p.png" ] || { why="no $ART/$p.png"; return 1; }
	done
	if [ ! -e "$ROOT/docs/web-list.png" ] || [ "${WEB_SCREENSHOT:-0}" = 1 ]; then
		cp "$ART/list.png" "$ROOT/docs/web-list.png"
	fi
}
check "screenshots in $ART" t_shots

# moat-web stopped first: LeakSanitizer reports when it exits
stop_pid "$WEB_PID"
WEB_PID=
t_stopped() { grep -q "stopping on signal 15" "$T/web.log" || { why="moat-web did not stop on SIGTERM"; return 1; }; }
check "moat-web stops on SIGTERM" t_stopped

if grep -q "Sanitizer" "$T/web.log" "$T/moatd.log"; then
	FAILED=$((FAILED + 1))
	echo "FAIL sanitizer report"
	grep -h -A12 "Sanitizer" "$T/web.log" "$T/moatd.log" | head -n 20 | indent
else
	PASSED=$((PASSED + 1))
	echo "ok   no sanitizer report from moat-web or moatd"
fi
summary
[ "$FAILED" -eq 0 ]
