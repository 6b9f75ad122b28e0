#!/bin/sh
# tests/integration/postfix.sh - a private, throw-away Postfix instance
#
#   postfix.sh start DIR PORT SINKPORT MILTER
#   postfix.sh stop  DIR
#
# start writes DIR/etc/main.cf and DIR/etc/master.cf and starts a Postfix
# master whose every file lives under DIR:
#   DIR/etc      config_directory (main.cf, master.cf)
#   DIR/queue    queue_directory (incoming, active, deferred, hold, ...)
#   DIR/data     data_directory
#   DIR/postfix.log   maillog_file, written by the postlog service
# smtpd listens on 127.0.0.1:PORT only, passes every SMTP message to the
# milter MILTER (e.g. unix:/tmp/x/moatd.sock, or empty for no milter) and
# relays everything to an SMTP sink on [127.0.0.1]:SINKPORT. No chroot, no
# TLS, no local delivery, loopback only. The system Postfix and /etc/postfix
# are never touched (Postfix still reads its read-only meta files such as
# /etc/postfix/postfix-files from there).
#
# With RELEASE_PORT set, a second smtpd listens on 127.0.0.1:RELEASE_PORT
# without milters and relays to the same sink: what `moat quarantine
# release` delivers to (README's master.cf line).
#
# start also leaves a watchdog that aborts the master after
# $POSTFIX_LIFETIME seconds (default 900), so the instance stops by itself
# even if the caller dies without running stop.
#
# stop runs `postfix stop`, waits until the master is gone (then abort and
# finally SIGKILL if it lingers) and stops the watchdog.
#
# Tools against the instance (run as root):
#   postqueue -c DIR/etc -p          postsuper -c DIR/etc -d ALL
# Must run as root (the master starts as root and drops to user postfix).
set -u

usage() {
	echo "usage: $0 start DIR PORT SINKPORT MILTER | stop DIR" >&2
	exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
DIR=$2

# master_pid: print the pid of this instance's running master, or fail
master_pid() {
	pidfile=$DIR/queue/pid/master.pid
	[ -f "$pidfile" ] || return 1
	pid=$(tr -dc 0-9 <"$pidfile")
	[ -n "$pid" ] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	echo "$pid"
}

do_start() {
	[ $# -eq 5 ] || usage
	PORT=$3 SINKPORT=$4 MILTER=$5
	case $DIR in /*) ;; *) echo "$0: DIR must be absolute" >&2; exit 2 ;; esac
	command -v postfix >/dev/null 2>&1 || { echo "$0: postfix not installed" >&2; exit 1; }
	id postfix >/dev/null 2>&1 || { echo "$0: no user postfix" >&2; exit 1; }
	[ "$(id -u)" = 0 ] || { echo "$0: must run as root" >&2; exit 1; }

	mkdir -p "$DIR/etc" "$DIR/queue" "$DIR/data" || exit 1
	# The daemons run as user postfix: they must be able to walk into DIR
	# (mktemp -d makes it 0700) to reach the queue and the milter socket.
	chmod 0755 "$DIR" "$DIR/etc" "$DIR/queue" || exit 1
	chown root:root "$DIR/queue" || exit 1
	chown postfix:postfix "$DIR/data" && chmod 0700 "$DIR/data" || exit 1
	: >"$DIR/postfix.log"

	cat >"$DIR/etc/main.cf" <<EOF
# main.cf of a throw-away test instance written by tests/integration/postfix.sh
compatibility_level = 3.6
config_directory = $DIR/etc
queue_directory = $DIR/queue
data_directory = $DIR/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = postfix-moattest
maillog_file = $DIR/postfix.log
maillog_file_prefixes = $DIR

myhostname = moat-test.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mydestination =
relay_domains =
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
biff = no
append_dot_mydomain = no

relayhost = [127.0.0.1]:$SINKPORT
smtp_dns_support_level = disabled
smtp_connect_timeout = 5s
smtpd_relay_restrictions = permit_mynetworks, reject
smtpd_error_sleep_time = 0s
in_flow_delay = 0s
disable_mime_output_conversion = yes

smtpd_milters = $MILTER
non_smtpd_milters =
milter_default_action = tempfail
milter_protocol = 6
milter_connect_timeout = 10s
milter_content_timeout = 60s

smtpd_tls_security_level = none
smtp_tls_security_level = none

queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
delay_warning_time = 0
EOF

	# Every chroot column is n. No tlsmgr (TLS is off).
	cat >"$DIR/etc/master.cf" <<EOF
# master.cf of a throw-away test instance written by tests/integration/postfix.sh
# service type  private unpriv  chroot  wakeup  maxproc command
127.0.0.1:$PORT inet n  -       n       -       -       smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
	if [ -n "${RELEASE_PORT:-}" ]; then
		cat >>"$DIR/etc/master.cf" <<EOF
127.0.0.1:$RELEASE_PORT inet n  -       n       -       -       smtpd
  -o smtpd_milters=
  -o syslog_name=postfix-moattest/release
EOF
	fi

	if master_pid >/dev/null; then
		echo "$0: a master is already running for $DIR" >&2
		exit 1
	fi

	# set-permissions creates the missing queue directories (incoming,
	# hold, public, pid, ...) with the owners and modes Postfix expects;
	# `postfix start` then checks the instance (postfix-script check-fatal).
	postfix -c "$DIR/etc" set-permissions >>"$DIR/postfix-start.log" 2>&1 || {
		echo "$0: postfix set-permissions failed:" >&2
		tail -n 20 "$DIR/postfix-start.log" >&2
		exit 1
	}
	postfix -c "$DIR/etc" start >>"$DIR/postfix-start.log" 2>&1 || {
		echo "$0: postfix start failed:" >&2
		tail -n 20 "$DIR/postfix-start.log" >&2
		exit 1
	}
	# `postfix start` returns once the master has initialised (master -w);
	# still, wait for the pid file and the listening port.
	i=0
	until master_pid >/dev/null && port_open "$PORT"; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			echo "$0: Postfix did not come up on 127.0.0.1:$PORT" >&2
			tail -n 20 "$DIR/postfix.log" "$DIR/postfix-start.log" >&2
			exit 1
		fi
		sleep 0.1
	done

	# Watchdog: abort this instance after POSTFIX_LIFETIME seconds; it
	# ends by itself as soon as the master is gone.
	lifetime=${POSTFIX_LIFETIME:-900}
	mpid=$(master_pid)
	(
		trap '' HUP INT
		exec >/dev/null 2>&1 </dev/null
		t=0
		while kill -0 "$mpid" 2>/dev/null; do
			if [ $t -ge "$lifetime" ]; then
				postfix -c "$DIR/etc" abort
				sleep 2
				kill -9 "$mpid"
				exit 0
			fi
			sleep 1
			t=$((t + 1))
		done
	) &
	echo $! >"$DIR/postfix-watchdog.pid"
}

# port_open PORT: true when a socket listens on 127.0.0.1:PORT (read from
# /proc/net/tcp rather than by connecting, which would start an smtpd and a
# milter connection for nothing)
port_open() {
	python3 - "$1" <<'EOF'
import sys
want = "0100007F:%04X" % int(sys.argv[1])
with open("/proc/net/tcp") as f:
    for line in f.readlines()[1:]:
        cols = line.split()
        if cols[1] == want and cols[3] == "0A":  # 0A: LISTEN
            sys.exit(0)
sys.exit(1)
EOF
}

do_stop() {
	if pid=$(master_pid); then
		postfix -c "$DIR/etc" stop >>"$DIR/postfix-start.log" 2>&1
		i=0
		while kill -0 "$pid" 2>/dev/null; do
			i=$((i + 1))
			if [ $i -eq 100 ]; then
				postfix -c "$DIR/etc" abort >>"$DIR/postfix-start.log" 2>&1
			elif [ $i -ge 150 ]; then
				kill -9 "$pid" 2>/dev/null
				break
			fi
			sleep 0.1
		done
	fi
	if [ -f "$DIR/postfix-watchdog.pid" ]; then
		kill "$(cat "$DIR/postfix-watchdog.pid")" 2>/dev/null
		rm -f "$DIR/postfix-watchdog.pid"
	fi
	return 0
}

case $cmd in
start) do_start "$@" ;;
stop) do_stop ;;
*) usage ;;
esac
