#!/bin/sh
# tests/pg.sh - a private, throw-away PostgreSQL cluster for moat's tests
#
#   pg.sh start DIR      prints one line: the libpq conninfo
#   pg.sh stop DIR
#   pg.sh conninfo DIR   prints the conninfo of the running cluster
#
# start makes a cluster whose every file lives under DIR (absolute; must
# not exist or be empty; outside any checkout, e.g. from mktemp -d):
#   DIR                  0755, the unix socket directory (DIR/.s.PGSQL.PORT)
#   DIR/data             0700, the data directory (initdb -A trust)
#   DIR/postgres.log     the server's log (pg_ctl -l; no logging collector)
#   DIR/initdb.log       initdb's output; DIR/pg_ctl.log, pg_ctl's
#   DIR/watchdog.pid     the watchdog's pid
# The server listens on the unix socket only (listen_addresses = ''), made
# 0777 so that root (the tests) and nobody (moatd) both connect; every
# local connection is trusted. Settings: fsync = on (kept on: the tests
# measure what durability costs), shared_buffers = 32MB, max_connections
# = 50. initdb itself runs with --no-sync (a crash loses the test anyway).
# start waits until the server accepts connections (30 s at most), creates
# the database moat owned by the superuser and prints, on stdout and
# nothing else there:
#   host=DIR port=PORT dbname=moat user=USER
# On failure it prints the end of the logs on stderr and exits 1.
#
# initdb refuses to run as root: initdb, pg_ctl and postgres run as the
# unprivileged PG_USER (default nobody, through runuser), who owns DIR and
# is the cluster's superuser. Run as root (or as PG_USER itself). Every
# parent of DIR must let PG_USER in (mktemp -d's 0700 directory is fine
# as DIR itself: start makes it 0755).
#
# start also leaves a watchdog that stops the cluster after $PG_LIFETIME
# seconds (default 900), so it stops by itself even if the caller dies
# without running stop; the watchdog ends as soon as the postmaster is gone.
#
# stop runs pg_ctl stop -m fast, then -m immediate, then SIGKILLs the
# postmaster (and its children) if it lingers, and stops the watchdog. It
# removes nothing and exits 0 even when nothing was running.
#
# Environment: PG_USER (nobody), PG_PORT (5432: only the socket file's
# name here), PG_LIFETIME (900), PG_BIN (the directory of initdb, pg_ctl,
# ...; default pg_config --bindir, else the newest /usr/lib/postgresql/*/bin).
# libpq's own PG* variables (PGHOST, PGDATA, ...) are ignored.
#
# Example:
#   dir=$(mktemp -d /tmp/pgt.XXXXXX)
#   ci=$(sh tests/pg.sh start "$dir") || exit 1
#   psql "$ci" -c 'select 1'
#   sh tests/pg.sh stop "$dir"; rm -rf "$dir"
set -u

usage() {
	echo "usage: $0 start DIR | stop DIR | conninfo DIR" >&2
	exit 2
}

die() {
	echo "$0: $*" >&2
	exit 1
}

[ $# -eq 2 ] || usage
cmd=$1
DIR=$2
case $DIR in /*) ;; *) echo "$0: DIR must be absolute" >&2; exit 2 ;; esac
# DIR goes into postgresql.conf and into a conninfo: keep it plain
case $DIR in *[!A-Za-z0-9/._+-]*)
	echo "$0: DIR may hold only letters, digits and / . _ + -" >&2; exit 2 ;;
esac
while :; do
	case $DIR in */) DIR=${DIR%/} ;; *) break ;; esac
done
[ -n "$DIR" ] || usage
DATA=$DIR/data
LOG=$DIR/postgres.log

# libpq and pg_ctl read these; the cluster is named on every command line
for v in $(env | sed -n 's/^\(PG[A-Z]*\)=.*/\1/p'); do
	unset "$v"
done

PG_USER=${PG_USER:-nobody}
PG_PORT=${PG_PORT:-5432}
PG_LIFETIME=${PG_LIFETIME:-900}

pg_bin() {
	if [ -n "${PG_BIN:-}" ]; then
		echo "$PG_BIN"
		return
	fi
	b=$(pg_config --bindir 2>/dev/null)
	if [ -n "$b" ] && [ -x "$b/initdb" ]; then
		echo "$b"
		return
	fi
	for b in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V); do :; done
	[ -x "$b/initdb" ] || b=
	echo "${b:-/usr/lib/postgresql/15/bin}"
}
BIN=$(pg_bin)

# as_pg CMD...: run CMD as PG_USER, from DIR (not the caller's directory,
# which PG_USER may not be allowed into)
as_pg() {
	if [ "$(id -un)" = "$PG_USER" ]; then
		(cd "$DIR" && "$@")
	else
		(cd "$DIR" && runuser -u "$PG_USER" -- "$@")
	fi
}

# alive PID: true when PID is a live (not zombie) postgres process
alive() {
	kill -0 "$1" 2>/dev/null || return 1
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = postgres ] || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case $st in Z*|X*) return 1 ;; esac
	return 0
}

# pm_line N: print line N of DIR/data/postmaster.pid (1 pid, 4 port,
# 5 socket directory)
pm_line() {
	sed -n "${1}p" "$DATA/postmaster.pid" 2>/dev/null
}

# pm_pid: print the pid of this cluster's running postmaster, or fail
pm_pid() {
	pid=$(pm_line 1 | tr -dc 0-9)
	[ -n "$pid" ] || return 1
	alive "$pid" || return 1
	echo "$pid"
}

conninfo() {
	port=$(pm_line 4 | tr -dc 0-9)
	sock=$(pm_line 5)
	user=$(stat -c %U "$DATA")
	echo "host=${sock:-$DIR} port=${port:-$PG_PORT} dbname=moat user=$user"
}

# stop_cluster: fast, then immediate, then SIGKILL; true when none runs
stop_cluster() {
	pid=$(pm_pid) || return 0
	as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 10 \
		>>"$DIR/pg_ctl.log" 2>&1
	alive "$pid" || return 0
	as_pg "$BIN/pg_ctl" stop -D "$DATA" -m immediate -w -t 10 \
		>>"$DIR/pg_ctl.log" 2>&1
	alive "$pid" || return 0
	# the children notice their postmaster's death, but do not wait
	kids=$(ps -o pid= --ppid "$pid" 2>/dev/null)
	# shellcheck disable=SC2086 # one word a pid
	kill -9 "$pid" $kids 2>/dev/null
	i=0
	while alive "$pid"; do
		i=$((i + 1))
		[ $i -le 50 ] || return 1
		sleep 0.1
	done
	return 0
}

# fail MSG: report MSG and the end of the logs, stop what was started,
# exit 1
fail() {
	echo "$0: $*" >&2
	for f in "$DIR/initdb.log" "$DIR/pg_ctl.log" "$LOG"; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f:" >&2
		tail -n 20 "$f" >&2
	done
	stop_cluster
	exit 1
}

do_start() {
	[ "$(id -u)" = 0 ] || [ "$(id -un)" = "$PG_USER" ] ||
		die "must run as root (or as PG_USER=$PG_USER)"
	id "$PG_USER" >/dev/null 2>&1 || die "no user $PG_USER"
	[ "$(id -u "$PG_USER")" != 0 ] || die "PG_USER must not be root"
	for t in initdb pg_ctl postgres pg_isready createdb; do
		[ -x "$BIN/$t" ] || die "no $BIN/$t (PostgreSQL not installed? set PG_BIN)"
	done
	case $PG_PORT in
	'' | *[!0-9]*) die "PG_PORT must be a number" ;;
	esac
	if [ "$PG_PORT" -lt 1 ] || [ "$PG_PORT" -gt 65535 ]; then
		die "PG_PORT must be 1 to 65535"
	fi
	case $PG_LIFETIME in
	'' | *[!0-9]*) die "PG_LIFETIME must be a number of seconds" ;;
	esac
	# sun_path holds 107 bytes and a NUL
	sock=$DIR/.s.PGSQL.$PG_PORT
	[ ${#sock} -le 107 ] || die "DIR is too long for a socket path ($sock)"
	d=${DIR%/*}
	while [ -n "$d" ]; do
		[ ! -e "$d/.git" ] || die "DIR must be outside any checkout ($d)"
		d=${d%/*}
	done

	if [ -e "$DIR" ]; then
		[ -d "$DIR" ] || die "$DIR exists and is not a directory"
		[ -z "$(ls -A "$DIR")" ] || die "$DIR is not empty"
	else
		mkdir "$DIR" || die "cannot create $DIR"
	fi
	group=$(id -gn "$PG_USER")
	if ! { mkdir "$DATA" && chmod 0755 "$DIR" && chmod 0700 "$DATA" &&
		chown "$PG_USER:$group" "$DIR" "$DATA"; }; then
		die "cannot prepare $DIR for $PG_USER"
	fi
	as_pg test -w "$DATA" 2>/dev/null ||
		die "$PG_USER cannot reach $DIR (is a parent directory 0700?)"

	as_pg "$BIN/initdb" -D "$DATA" -U "$PG_USER" -A trust -E UTF8 \
		--no-locale --no-sync --no-instructions \
		>"$DIR/initdb.log" 2>&1 || fail "initdb failed"

	cat >>"$DATA/postgresql.conf" <<EOF

# written by tests/pg.sh: a throw-away test cluster, unix socket only
listen_addresses = ''
port = $PG_PORT
unix_socket_directories = '$DIR'
unix_socket_permissions = 0777
fsync = on
shared_buffers = 32MB
max_connections = 50
logging_collector = off
EOF

	# pg_ctl sends the postmaster's output to the log, not to our stdout
	# (which is the caller's $(...))
	as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$LOG" -w -t 30 \
		>>"$DIR/pg_ctl.log" 2>&1 || fail "the server did not start"
	pid=$(pm_pid) || fail "no postmaster after pg_ctl start"

	# Watchdog, from now on: stop this cluster after PG_LIFETIME seconds;
	# it ends by itself as soon as the postmaster is gone.
	(
		trap '' HUP INT
		cd /
		end=$(($(date +%s) + PG_LIFETIME))
		while alive "$pid"; do
			if [ "$(date +%s)" -ge "$end" ]; then
				echo "$0: watchdog: stopping after $PG_LIFETIME s" >>"$LOG"
				stop_cluster
				exit 0
			fi
			sleep 1
		done
	) </dev/null >/dev/null 2>&1 &
	echo $! >"$DIR/watchdog.pid"

	# the tests connect as root: wait until root gets in, 30 s at most
	i=0
	until "$BIN/pg_isready" -q -h "$DIR" -p "$PG_PORT" -U "$PG_USER" \
		-d postgres -t 1; do
		i=$((i + 1))
		[ $i -le 300 ] || fail "the server does not accept connections"
		sleep 0.1
	done
	as_pg "$BIN/createdb" -h "$DIR" -p "$PG_PORT" -U "$PG_USER" \
		-O "$PG_USER" moat >>"$DIR/pg_ctl.log" 2>&1 ||
		fail "createdb moat failed"

	conninfo
}

do_stop() {
	stop_cluster || echo "$0: the postmaster survived SIGKILL" >&2
	# the watchdog is a sh running this script for DIR (not another
	# process that got its pid since)
	if [ -f "$DIR/watchdog.pid" ]; then
		w=$(tr -dc 0-9 <"$DIR/watchdog.pid")
		if [ -n "$w" ] && [ -r "/proc/$w/cmdline" ] &&
			tr '\0' '\n' <"/proc/$w/cmdline" | grep -q 'pg\.sh$' &&
			tr '\0' '\n' <"/proc/$w/cmdline" | sed 's,//*$,,' |
			grep -qxF "$DIR"; then
			kill "$w" 2>/dev/null
		fi
	fi
	return 0
}

do_conninfo() {
	pm_pid >/dev/null || die "no cluster runs in $DIR"
	conninfo
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
conninfo) do_conninfo ;;
*) usage ;;
esac
