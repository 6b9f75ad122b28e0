#!/bin/sh
# tests/miltertest/run.sh - moatd against the Sendmail flavour of the milter protocol
#
#   sh tests/miltertest/run.sh build/moatd        (from the top of the tree)
#
# In a fresh temp dir T (kept when KEEP=1) this starts three moatd, each on
# its own unix socket with its own config and log (T/NAME.sock, T/NAME.log),
# all from T/share, where what moatd reads of the checkout is copied
# (tests/lib.sh, moatd_share: the binary, moat's signatures, the
# LeakSanitizer suppressions):
#   - main:   a normal config (spool in T/spool);
#   - broken: spool_memory_bytes = 0 and a spool_dir that does not exist, so
#             every message hits an internal error (tempfail);
#   - poison: the same broken config, for 07-poison.lua alone, so that its
#             per-message failure count starts from zero.
#   - banner: main's config with [banner] enabled and templates = a copy of
#             conf/banners (T/share/banners), its own spool, for
#             10-banner.lua alone (main has banners off).
# Then it runs every NN-*.lua here with `miltertest -s`; lib.lua is their
# shared library (see its header for what "as Sendmail does" means). A script
# passes when miltertest exits 0; its "checks: N" line is added up. Last,
# the moatd instances must still be running, stop on SIGTERM and have logged
# no sanitizer report (this also runs under `make asan`).
# One line per test ("ok   name" or "FAIL name" plus its output), then
# "N passed, N failed" and the number of checks. Exit status 1 on any
# failure. Every moatd runs under timeout(1) ($LIFETIME s) and is stopped on
# exit, Ctrl-C included; each script gets $SCRIPT_TIMEOUT s.
# Needs miltertest (Debian package miltertest); no root, no MTA.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIFETIME=${LIFETIME:-300}		# seconds a moatd may live
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-120}	# seconds one miltertest script may take
INSTANCES="main broken poison banner"

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac

PASSED=0
FAILED=0
CHECKS=0
T=
PIDS=

summary() {
	echo "$PASSED passed, $FAILED failed ($CHECKS checks in the scripts that passed)"
}

# Missing prerequisites: say why, count it as a failure.
prereq() {
	echo "FAIL prerequisites: $1"
	FAILED=1
	summary
	exit 1
}
command -v miltertest >/dev/null 2>&1 ||
	prereq "miltertest is not installed (apt-get install miltertest)"
command -v timeout >/dev/null 2>&1 || prereq "timeout(1) is missing (coreutils)"
[ -x "$MOATD" ] || prereq "$MOATD is not an executable (build it first)"

. "$HERE/../lib.sh"	# moatd_share

# stop_all PID...: SIGTERM to each timeout(1) wrapper (it passes the signal
# on to its moatd), wait up to 20 s for all of them (libmilter notices a
# stop request only between two polls, about every 5 s), then SIGKILL moatd
# and its wrapper; reap them
stop_all() {
	for p in "$@"; do
		kill "$p" 2>/dev/null
	done
	i=0
	while :; do
		alive=
		for p in "$@"; do
			kill -0 "$p" 2>/dev/null && alive="$alive $p"
		done
		[ -z "$alive" ] && break
		i=$((i + 1))
		if [ $i -ge 200 ]; then
			for p in $alive; do
				kill -9 $(pgrep -P "$p") "$p" 2>/dev/null
			done
			break
		fi
		sleep 0.1
	done
	for p in "$@"; do
		wait "$p" 2>/dev/null
	done
	return 0
}

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	# shellcheck disable=SC2086
	stop_all $PIDS
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-mt.XXXXXX) || exit 1
chmod 0755 "$T"
mkdir -m 0700 "$T/spool"

indent() { sed 's/^/     /'; }

# fatal WHAT: a setup step failed; nothing else can run
fatal() {
	FAILED=$((FAILED + 1))
	echo "FAIL setup: $1"
	for n in $INSTANCES; do
		[ -s "$T/$n.log" ] && { echo "     --- $n.log"; tail -n 8 "$T/$n.log" | indent; }
	done
	summary
	exit 1
}

# --- configs and moatd --------------------------------------------------------

# What moatd reads of the checkout (itself, moat's signatures, the
# LeakSanitizer suppressions: libclamav's own leaks are not ours, as in
# `make asan`) goes to T/share, readable by whatever user moatd runs as.
moatd_share "$ROOT" "$T/share" "$MOATD" ||
	fatal "cannot copy moatd, conf/signatures and lsan.supp to $T/share"
mkdir -m 0755 "$T/share/banners" && cp "$ROOT"/conf/banners/*.conf "$T/share/banners/" ||
	fatal "cannot copy conf/banners to $T/share/banners"

cat >"$T/main.conf" <<EOF
[policy]
subject_tag = [SUSPICIOUS]

[scores]
# The protocol scripts keep the scores the demo samples had before moat's
# default policy held shortcuts, scripts and disk images (10): the tag path
# is tested with the shortcut (8) and the disk image (6), the quarantine
# reason with the script (8: score 11).
attach.shortcut = 8
attach.disk_image = 6
attach.script = 8

[av]
signature_dirs = $T/share/signatures

[auth]
# No DNS here: sender authentication is tests/integration/auth.sh's.
enabled = no

[quarantine]
# the MTA's hold queue: SMFIR_QUARANTINE is what these scripts check
mode = hold

[banner]
# no banners but in the banner instance (10-banner.lua)
enabled = no

[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
EOF
cat >"$T/broken.conf" <<EOF
[policy]
subject_tag = [SUSPICIOUS]

[scores]
attach.shortcut = 8
attach.disk_image = 6
attach.script = 8

[av]
signature_dirs = $T/share/signatures

[auth]
# No DNS here: sender authentication is tests/integration/auth.sh's.
enabled = no

[quarantine]
# the MTA's hold queue: SMFIR_QUARANTINE is what these scripts check
mode = hold

[milter]
# Every message goes to the spool at once, and the spool cannot be created.
spool_dir = $T/no-such-dir
spool_memory_bytes = 0
poison_attempts = 3
EOF
cp "$T/broken.conf" "$T/poison.conf"
# banner: main's config with the banner templates (10-banner.lua), its own spool
mkdir -m 0700 "$T/spool-banner"
sed "s|^spool_dir = .*|spool_dir = $T/spool-banner|" "$T/main.conf" >"$T/banner.conf"
printf '\n[banner]\nenabled = yes\ntemplates = %s\n' "$T/share/banners" >>"$T/banner.conf"

# moatd in the foreground (-f) in the background of this script; timeout(1)
# stops it after $LIFETIME s should this script die without cleaning up, and
# passes our SIGTERM on to it.
for n in $INSTANCES; do
	timeout -k 10 "$LIFETIME" "$T/share/moatd" -c "$T/$n.conf" -p "unix:$T/$n.sock" -f \
	    2>"$T/$n.log" &
	PIDS="$PIDS $!"
	eval "PID_$n=\$!"
done

i=0
for n in $INSTANCES; do
	eval "p=\$PID_$n"
	until [ -S "$T/$n.sock" ]; do
		i=$((i + 1))
		kill -0 "$p" 2>/dev/null || fatal "moatd ($n) exited before creating its socket"
		[ $i -gt 300 ] && fatal "no $T/$n.sock after 30 s"
		sleep 0.1
	done
done

echo "# moatd $MOATD, miltertest $(miltertest -V 2>&1 | sed 's/.* v//'), dir $T"

# --- the scripts ----------------------------------------------------------------

for script in "$HERE"/[0-9]*.lua; do
	name=$(basename "$script" .lua)
	title=$(sed -n 's/^-- test: //p' "$script" | head -n 1)
	out=$(timeout "$SCRIPT_TIMEOUT" miltertest -s "$script" \
	    -D MTLIB="$HERE/lib.lua" -D SAMPLES="$ROOT/samples" \
	    -D MAIN="unix:$T/main.sock" -D MAIN_LOG="$T/main.log" \
	    -D BROKEN="unix:$T/broken.sock" -D BROKEN_LOG="$T/broken.log" \
	    -D POISON="unix:$T/poison.sock" -D POISON_LOG="$T/poison.log" \
	    -D BANNER="unix:$T/banner.sock" -D BANNER_LOG="$T/banner.log" 2>&1)
	rc=$?
	n=$(printf '%s\n' "$out" | sed -n 's/^checks: \([0-9]*\)$/\1/p' | tail -n 1)
	if [ $rc -eq 0 ] && [ -n "$n" ]; then
		PASSED=$((PASSED + 1))
		CHECKS=$((CHECKS + n))
		echo "ok   $name ($n checks): ${title#*: }"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL $name: ${title#*: }"
		[ $rc -eq 124 ] && echo "     (killed after $SCRIPT_TIMEOUT s)"
		[ -n "$out" ] && printf '%s\n' "$out" | indent
	fi
done

# --- moatd survived it all and stops cleanly --------------------------------------

why=
for n in $INSTANCES; do
	eval "p=\$PID_$n"
	kill -0 "$p" 2>/dev/null || why="$why moatd ($n) is no longer running;"
done
# shellcheck disable=SC2086
stop_all $PIDS
PIDS=
for n in $INSTANCES; do
	grep -q "stopped" "$T/$n.log" || why="$why no 'stopped' line in $n.log;"
	if grep -q "Sanitizer" "$T/$n.log"; then
		why="$why sanitizer report in $n.log:
$(grep -A12 "Sanitizer" "$T/$n.log" | head -n 20)"
	fi
done
if [ -z "$why" ]; then
	PASSED=$((PASSED + 1))
	echo "ok   moatd: all instances still running, stopped on SIGTERM, no sanitizer report"
else
	FAILED=$((FAILED + 1))
	echo "FAIL moatd: all instances still running, stopped on SIGTERM, no sanitizer report"
	printf '%s\n' "$why" | indent
fi

summary
[ "$FAILED" -eq 0 ]
