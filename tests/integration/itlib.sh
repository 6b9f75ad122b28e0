#!/bin/sh
# tests/integration/itlib.sh - helpers the end-to-end tests share
#
# Sourced by quarantine.sh, multinode.sh, auth.sh and banner.sh after they set HERE, T and
# WAIT, PASSED and FAILED, and define context() (what to show after a
# failed check) and summary(). POSIX sh; variables end in _ where a helper
# needs its own.

indent() { sed 's/^/     /'; }

# check NAME FUNCTION [ARGS...]: run FUNCTION; on failure it has put the
# reason in $why; a check that cannot run here sets $skip and returns 0
check() {
	name=$1
	shift
	why=
	skip=
	if "$@"; then
		if [ -n "$skip" ]; then
			SKIPPED=$((SKIPPED + 1))
			echo "skip $name ($skip)"
		else
			PASSED=$((PASSED + 1))
			echo "ok   $name"
		fi
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

# queue_id REPLY: the queue id in a "250 ... queued as ID" line
queue_id() {
	printf '%s\n' "$1" | sed -n 's/.*queued as \([0-9A-Za-z]*\).*/\1/p'
}

# expect_code CODE: the last line of $reply starts with CODE
expect_code() {
	case $(printf '%s\n' "$reply" | tail -n 1) in
	"$1 "*) return 0 ;;
	esac
	why="expected a $1 reply, got: $reply"
	return 1
}

# found RCPT [MSGID]: the sink's files for RCPT, one per line, into $got
found() { got=$(python3 "$HERE/mailtool.py" find "$T/out" "$@"); }

# arrived RCPT [MSGID]: wait up to $WAIT s for a message to RCPT in the
# sink; its file goes to $got
arrived() {
	n_=0
	while :; do
		found "$@"
		got=$(printf '%s' "$got" | head -n 1)
		[ -n "$got" ] && return 0
		n_=$((n_ + 1))
		[ $n_ -gt $((WAIT * 10)) ] && return 1
		sleep 0.1
	done
}

# deliveries RCPT: how many messages to RCPT the sink holds
deliveries() {
	found "$1"
	count_lines "$got"
}

hdr() { python3 "$HERE/mailtool.py" header "$1" "$2"; }
count_lines() { if [ -z "$1" ]; then echo 0; else printf '%s\n' "$1" | wc -l | tr -d ' '; fi; }

# pyjson FILE CODE [ARGS...]: python CODE with the JSON of FILE as a, into $out
pyjson() {
	pj_f=$1
	pj_c=$2
	shift 2
	out=$(python3 -c "import json, sys
a = json.load(open(sys.argv[1]))
$pj_c" "$pj_f" "$@" 2>&1)
}

# stop_moatd [SIGNAL]: SIGNAL (TERM) to moatd itself (moatd_pid, the
# caller's: the process under `timeout` or `ip netns exec`), wait for
# MOATD_PID; its exit status in $stop_rc
stop_moatd() {
	victim=$(moatd_pid)
	[ -n "$victim" ] && kill -"${1:-TERM}" "$victim"
	wait "$MOATD_PID" 2>/dev/null
	stop_rc=$?
	MOATD_PID=
}
