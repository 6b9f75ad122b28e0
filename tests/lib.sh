# tests/lib.sh - shell helpers the test and benchmark scripts share
#
# Sourced (". tests/lib.sh") by the scripts of tests/integration/,
# tests/miltertest/run.sh and tests/bench/postfix.sh; POSIX sh.

# remove_temp_dir DIR: rm -rf DIR, or only say where it is when KEEP=1 (to
# look at after a failure); an empty DIR is a no-op
remove_temp_dir() {
	[ -n "$1" ] || return 0
	if [ "${KEEP:-0}" = 1 ]; then
		echo "kept $1"
	else
		rm -rf "$1"
	fi
}

# trap_cleanup: the caller's cleanup() runs on exit, and INT, TERM and HUP
# exit with the status a shell gives for them, so cleanup() runs then too
trap_cleanup() {
	trap cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

# stop_pid PID: SIGTERM, wait up to 5 s, then SIGKILL; reap it. An empty
# PID is a no-op. Uses the variable stop_n only.
stop_pid() {
	[ -n "$1" ] || return 0
	kill "$1" 2>/dev/null || { wait "$1" 2>/dev/null; return 0; }
	stop_n=0
	while kill -0 "$1" 2>/dev/null; do
		stop_n=$((stop_n + 1))
		if [ $stop_n -ge 50 ]; then
			kill -9 "$1" 2>/dev/null
			break
		fi
		sleep 0.1
	done
	wait "$1" 2>/dev/null
	return 0
}

# moatd_share TOP DIR MOATD: copy into DIR (made world-readable) what a
# moatd under test reads from the checkout TOP, for a moatd that drops
# privileges to [milter] user, who may not be able to read TOP (a clone in
# root's 0700 home): the binary MOATD (as DIR/moatd: a sanitizer symbolizes
# its reports from it), moat's signatures (DIR/signatures) and the
# LeakSanitizer suppressions (DIR/lsan.supp: the file LSAN_OPTIONS names,
# else TOP/tests/fuzz/lsan.supp), which LSan reads only when moatd exits;
# LSAN_OPTIONS is exported naming the copy. DIR must not exist yet, and its
# parents must let everyone in. Returns 1 when a copy failed (cp says why).
# Uses variables starting with share_ only.
moatd_share() {
	mkdir -m 0755 "$2" "$2/signatures" || return 1
	cp "$3" "$2/moatd" || return 1
	cp "$1"/conf/signatures/* "$2/signatures/" || return 1
	share_supp=$1/tests/fuzz/lsan.supp
	share_rest=
	share_ifs=$IFS
	IFS=:
	for share_o in ${LSAN_OPTIONS:-}; do
		case $share_o in
		suppressions=*) share_supp=${share_o#suppressions=} ;;
		*) share_rest=$share_rest:$share_o ;;
		esac
	done
	IFS=$share_ifs
	cp "$share_supp" "$2/lsan.supp" || return 1
	LSAN_OPTIONS=suppressions=$2/lsan.supp$share_rest
	export LSAN_OPTIONS
	chmod -R a+rX "$2"
}
