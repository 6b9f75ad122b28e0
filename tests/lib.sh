# tests/lib.sh - shell helpers the test and benchmark scripts share
#
# Sourced (". tests/lib.sh") by tests/integration/run.sh and
# tests/bench/postfix.sh; POSIX sh.

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
