#!/bin/sh
# tests/integration/banner.sh - recipients' warning banners behind a real Postfix
#
#   sh tests/integration/banner.sh build/moatd   (from the top of the tree)
#
# In a fresh temp dir T (kept when KEEP=1) this starts, as quarantine.sh
# does: sink.py (every delivered message in T/out), moatd as user nobody on
# a unix socket with [banner] templates = a copy of conf/banners in T/share,
# and a private Postfix (postfix.sh) whose smtpd has moatd as its milter.
# [scores] attach.shortcut = 8 tags the demo shortcut lure, as run.sh does.
# The messages (bannertool.py make) are sent over SMTP and what the sink
# gets is checked (bannertool.py check):
#   - a tagged text message: the banner ("⚠" lines) at the top of its text,
#     the text after it unchanged, the attachment's decoded SHA-256 too, one
#     X-Moat-Banner (our authserv-id), banner=yes in the summary line;
#   - multipart/alternative: both parts; HTML only; ISO-8859-2 quoted-
#     printable (decodes right, still quoted-printable);
#   - the delivered copy sent again: not bannered twice;
#   - a forged X-Moat-Banner: removed, the banner still added;
#   - multipart/signed: the body unchanged, "no banner: signed" logged;
#   - a clean message: byte for byte the body it was sent with;
#   - [banner] language = de (moatd restarted): the German banner;
#   - [banner] external_notice = yes: a clean message from outside gets the
#     one-line notice;
#   - in a real browser (headless Chromium, python3-pil): the bannered HTML
#     and text parts rendered, light and dark, the banner at the top as a
#     band of its colour with readable text; screenshots kept in
#     BUILD/artifacts/banner/ (BUILD: the directory of moatd), with the two
#     pages rendered. Skipped when chromium ($CHROMIUM, default chromium) is
#     not installed.
# One line per check ("ok   name", "FAIL name" plus context, "skip name"),
# then "banner: N passed, N failed". Exit status 1 on any failure.
# Everything started here is stopped on exit, Ctrl-C included; every helper
# process has its own lifetime limit as a backstop.
# Needs root, python3 and Postfix (package postfix).
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
SAMPLES=$ROOT/samples
LIFETIME=${LIFETIME:-300}	# seconds any helper process may live
WAIT=${WAIT:-20}		# seconds to wait for a delivery
AUTHSERV=mx.moat-banner.example	# [auth] authserv_id: X-Moat-Banner's value

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac
ART=$(dirname "$MOATD")/artifacts/banner	# the screenshots

PASSED=0
FAILED=0
SKIPPED=0
T=
SINK_PID=
MOATD_PID=
PF_STARTED=

summary() {
	if [ "$SKIPPED" -gt 0 ]; then
		echo "banner: $PASSED passed, $FAILED failed ($SKIPPED skipped)"
	else
		echo "banner: $PASSED passed, $FAILED failed"
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
id nobody >/dev/null 2>&1 || prereq "no user nobody"

. "$HERE/../lib.sh"	# stop_pid, moatd_share
. "$HERE/itlib.sh"	# check, fatal, expect_code, arrived, hdr, ...

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	[ -n "$PF_STARTED" ] && sh "$HERE/postfix.sh" stop "$T"
	stop_pid "$MOATD_PID"
	stop_pid "$SINK_PID"
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-bnr.XXXXXX) || exit 1
chmod 0755 "$T"		# the Postfix daemons (user postfix) walk into it
mkdir -m 0700 "$T/spool" "$T/out" "$T/msg" "$T/cli"
chown nobody "$T/spool"
: >"$T/moatd.log"

# --- reporting ----------------------------------------------------------------

context() {
	echo "     --- postfix.log (last lines)"
	tail -n 4 "$T/postfix.log" 2>/dev/null | indent
	echo "     --- moatd.log (last lines)"
	tail -n 6 "$T/moatd.log" 2>/dev/null | indent
}

# --- helpers ------------------------------------------------------------------

# inject RCPT FILE: send FILE to RCPT; the replies go to $reply
inject() {
	reply=$(python3 "$HERE/inject.py" --port "$SMTP_PORT" --to "$1" "$2" 2>&1)
}

# deliver NAME [FILE]: send FILE (T/msg/NAME.eml) to NAME@example.org, which
# must get 250 and arrive; the delivered file in $got, the queue id in $qid
deliver() {
	inject "$1@example.org" "${2:-$T/msg/$1.eml}"
	expect_code 250 || return 1
	qid=$(queue_id "$reply")
	arrived "$1@example.org" || { why="not delivered to the sink within $WAIT s"; return 1; }
}

# bt KIND SENT DELIVERED [ARGS...]: bannertool.py check; its complaint in $why
bt() {
	why=$(python3 "$HERE/bannertool.py" check "$@" 2>&1)
}

# summary_line QID: moatd's summary line for queue id QID (5 s), in $line
summary_line() {
	n_=0
	while :; do
		line=$(grep -F "moatd: $1: from=<" "$T/moatd.log" | tail -n 1)
		[ -n "$line" ] && return 0
		n_=$((n_ + 1))
		[ $n_ -gt 50 ] && { why="no summary line for queue id $1 in moatd.log"; return 1; }
		sleep 0.1
	done
}

# marked FILE: FILE has exactly one X-Moat-Banner, our authserv-id
marked() {
	v=$(hdr "$1" X-Moat-Banner)
	[ "$v" = "$AUTHSERV" ] && return 0
	why="X-Moat-Banner: expected exactly '$AUTHSERV', got: '$v'"
	return 1
}

# bannered: $qid's summary line says tag and banner=yes
bannered() {
	summary_line "$qid" || return 1
	case $line in
	*" action=tag "*" banner=yes"*) return 0 ;;
	esac
	why="summary line without action=tag ... banner=yes: $line"
	return 1
}

# write_conf FILE [LINE]...: the base config, then LINEs (a later key wins)
write_conf() {
	wc_f=$1
	shift
	{
		cat <<EOF
[policy]
subject_tag = [SUSPICIOUS]

[scores]
# The demo shortcut lure is tagged (8), as in run.sh, not held.
attach.shortcut = 8

[av]
signature_dirs = $T/share/signatures

[auth]
# No DNS here: sender authentication is tests/integration/auth.sh's.
enabled = no
authserv_id = $AUTHSERV

[quarantine]
mode = hold

[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
socket_group = postfix
user = nobody
status_socket =
drain_seconds = 5

[banner]
templates = $T/share/banners
EOF
		for l in "$@"; do echo "$l"; done
	} >"$wc_f"
}

# start_moatd CONF: moatd in the foreground (-f) in our background, stopped
# by timeout(1) after $LIFETIME s should this script die; returns once it
# logged "listening on" (10 s)
start_moatd() {
	sm_n=$(grep -c -F "moatd: listening on " "$T/moatd.log")
	timeout "$LIFETIME" "$T/share/moatd" -c "$1" -p "unix:$T/moatd.sock" -f 2>>"$T/moatd.log" &
	MOATD_PID=$!
	sm_i=0
	until [ "$(grep -c -F "moatd: listening on " "$T/moatd.log")" -gt "$sm_n" ]; do
		sm_i=$((sm_i + 1))
		if ! kill -0 "$MOATD_PID" 2>/dev/null || [ $sm_i -gt 100 ]; then
			why="moatd -c $1 did not start"
			return 1
		fi
		sleep 0.1
	done
	sleep 0.2	# the socket's mode and group
	return 0
}

# restart_moatd CONF: stop moatd at once (SIGINT), start it with CONF
restart_moatd() {
	victim=$(pgrep -P "$MOATD_PID" | head -n 1)
	[ -n "$victim" ] && kill -INT "$victim"
	wait "$MOATD_PID" 2>/dev/null
	MOATD_PID=
	start_moatd "$1"
}

# --- start everything -----------------------------------------------------------

moatd_share "$ROOT" "$T/share" "$MOATD" ||
	fatal "cannot copy moatd, conf/signatures and lsan.supp to $T/share"
# moatd (nobody) reads the banner templates from a copy, as the signatures
mkdir -m 0755 "$T/share/banners" && cp "$ROOT"/conf/banners/*.conf "$T/share/banners/" &&
	chmod -R a+rX "$T/share/banners" || fatal "cannot copy conf/banners to $T/share/banners"

python3 "$HERE/bannertool.py" make "$SAMPLES" "$T/msg" "$$" || fatal "bannertool.py make"

SMTP_PORT=$(python3 -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

write_conf "$T/moat.conf"
write_conf "$T/de.conf" "language = de"
write_conf "$T/external.conf" "external_notice = yes"

python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!

start_moatd "$T/moat.conf" || fatal "$why"
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ]; do
	i=$((i + 1))
	kill -0 "$SINK_PID" 2>/dev/null || { cat "$T/sink.log"; fatal "sink.py exited"; }
	[ $i -gt 100 ] && fatal "no $T/moatd.sock or sink port after 10 s"
	sleep 0.1
done
SINK_PORT=$(cat "$T/sink.port")

PF_STARTED=1
POSTFIX_LIFETIME=$LIFETIME sh "$HERE/postfix.sh" start "$T" \
	"$SMTP_PORT" "$SINK_PORT" "unix:$T/moatd.sock" || fatal "postfix.sh start"

echo "# moatd $MOATD, Postfix on 127.0.0.1:$SMTP_PORT, sink on 127.0.0.1:$SINK_PORT, dir $T"

M=$T/msg

# --- checks ---------------------------------------------------------------------

# 1. the demo shortcut lure, text and a .lnk: the banner on top of the text
t_plain() {
	deliver plain || return 1
	PLAIN=$got
	bannered || return 1
	marked "$got" || return 1
	bt plain "$M/plain.eml" "$got" --templates "$ROOT/conf/banners/en.conf" || return 1
	TITLE_EN=$(python3 "$HERE/bannertool.py" check title "$M/plain.eml" "$got")
}
check "text/plain tagged: banner on top, text and attachment unchanged" t_plain

# 2. multipart/alternative: both the text and the HTML part
t_alt() {
	deliver alt || return 1
	ALT=$got
	bannered || return 1
	marked "$got" || return 1
	bt alt "$M/alt.eml" "$got" --templates "$ROOT/conf/banners/en.conf"
}
check "multipart/alternative tagged: text and HTML part bannered" t_alt

# 3. an HTML part alone (and the attachment)
t_html() {
	deliver html || return 1
	bannered || return 1
	marked "$got" || return 1
	bt html "$M/html.eml" "$got"
}
check "text/html only tagged: banner after <body>" t_html

# 4. ISO-8859-2, quoted-printable: decodes right, the text intact under it
t_latin2() {
	deliver latin2 || return 1
	bannered || return 1
	bt latin2 "$M/latin2.eml" "$got"
}
check "ISO-8859-2 quoted-printable tagged: decodes, text intact" t_latin2

# 5. the bannered copy passes again (a reply chain): not bannered twice
t_again() {
	[ -n "${PLAIN:-}" ] || { why="no delivered copy from the first check"; return 1; }
	deliver again "$PLAIN" || return 1
	bt once "$PLAIN" "$got" || return 1
	python3 "$HERE/mailtool.py" body-equal "$PLAIN" "$got" >"$T/cli/d.txt" ||
		{ why="the body changed: $(cat "$T/cli/d.txt")"; return 1; }
	n=$(hdr "$got" X-Moat-Banner | wc -l)
	[ "$n" -le 1 ] || { why="$n X-Moat-Banner fields"; return 1; }
}
check "already bannered: not bannered twice" t_again

# 6. a sender's X-Moat-Banner: deleted, our banner added all the same
t_forged() {
	deliver forged || return 1
	bannered || return 1
	marked "$got" || return 1
	bt plain "$M/forged.eml" "$got"
}
check "forged X-Moat-Banner from outside: removed, banner added" t_forged

# 7. multipart/signed: headers only, the body as it was, the reason logged
t_signed() {
	deliver signed || return 1
	summary_line "$qid" || return 1
	case $line in
	*" action=tag "*) ;;
	*) why="not tagged (the test needs a tagged signed message): $line"; return 1 ;;
	esac
	case $line in *" banner=yes"*) why="banner=yes: $line"; return 1 ;; esac
	grep -F "moatd: $qid: " "$T/moatd.log" | grep -q "no banner: signed" ||
		{ why="no 'no banner: signed' line for $qid"; return 1; }
	python3 "$HERE/mailtool.py" body-equal "$M/signed.eml" "$got" >"$T/cli/d.txt" ||
		{ why=$(cat "$T/cli/d.txt"); return 1; }
	[ -z "$(hdr "$got" X-Moat-Banner)" ] || { why="X-Moat-Banner added"; return 1; }
}
check "multipart/signed tagged: body unchanged, 'no banner: signed' logged" t_signed

# 8. clean mail: not one byte of the body changed, no marker
t_clean() {
	deliver clean || return 1
	python3 "$HERE/mailtool.py" body-equal "$M/clean.eml" "$got" >"$T/cli/d.txt" ||
		{ why=$(cat "$T/cli/d.txt"); return 1; }
	[ -z "$(hdr "$got" X-Moat-Banner)" ] || { why="X-Moat-Banner added to clean mail"; return 1; }
}
check "clean message: body byte-identical, no X-Moat-Banner" t_clean

# 9. in a browser: the bannered alternative's two parts
t_browser() {
	if ! command -v "${CHROMIUM:-chromium}" >/dev/null 2>&1; then
		skip="chromium is not installed (apt-get install chromium)"
		return 0
	fi
	[ -n "${ALT:-}" ] || { why="no delivered multipart/alternative"; return 1; }
	py=
	for p in python3 /usr/bin/python3; do
		if "$p" -c 'import PIL' 2>/dev/null; then py=$p; break; fi
	done
	[ -n "$py" ] || { why="no python3 with PIL (apt-get install python3-pil)"; return 1; }
	mkdir -p "$ART" || { why="cannot make $ART"; return 1; }
	rm -f "$ART"/*.png
	mkdir -m 0700 "$T/chromium"
	why=$(CHROMIUM_PROFILE=$T/chromium "$py" "$HERE/bannertool.py" browser "$ALT" "$ART" 2>&1) ||
		return 1
	printf '%s\n' "$why" | sed 's/^/     /'
	why=
}
check "chromium: banner at the top of the HTML and text parts, light and dark" t_browser

# 10. German (moatd restarted with [banner] language = de)
t_german() {
	restart_moatd "$T/de.conf" || return 1
	sed 's/^Message-ID: <plain\./Message-ID: <de./' "$M/plain.eml" >"$M/de.eml"
	deliver de || return 1
	bannered || return 1
	bt plain "$M/de.eml" "$got" --title "${TITLE_EN:-}" --templates "$ROOT/conf/banners/de.conf"
}
check "language = de: the German banner" t_german

# 11. external_notice = yes: clean mail from outside gets the one-line notice
t_external() {
	restart_moatd "$T/external.conf" || return 1
	sed 's/^Message-ID: <clean\./Message-ID: <external./' "$M/clean.eml" >"$M/external.eml"
	deliver external || return 1
	marked "$got" || return 1
	bt external "$M/external.eml" "$got" --templates "$ROOT/conf/banners/en.conf"
}
check "external_notice = yes: a clean message gets the one-line notice" t_external

# moatd said nothing a developer must look at
if grep -q "Sanitizer" "$T/moatd.log"; then
	FAILED=$((FAILED + 1))
	echo "FAIL sanitizer report in moatd.log"
	grep -A12 "Sanitizer" "$T/moatd.log" | head -n 20 | indent
else
	PASSED=$((PASSED + 1))
	echo "ok   no sanitizer report in moatd.log"
fi
if grep -Eq -- "-(CRITICAL|WARNING) \*\*" "$T/moatd.log"; then
	FAILED=$((FAILED + 1))
	echo "FAIL GLib criticals or warnings in moatd.log"
	grep -E -- "-(CRITICAL|WARNING) \*\*" "$T/moatd.log" | sort | uniq -c | head -n 5 | indent
else
	PASSED=$((PASSED + 1))
	echo "ok   no GLib critical or warning in moatd.log"
fi

summary
[ "$FAILED" -eq 0 ]
