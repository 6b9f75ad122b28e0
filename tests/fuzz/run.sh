#!/bin/sh
# run.sh - run one libFuzzer harness for a while, then replay its regressions
#
#   sh tests/fuzz/run.sh BUILD_DIR NAME SECONDS SEED_DIR...
#
# The growing corpus lives in BUILD_DIR/corpus/NAME (never in the seed
# directories: ../shared is read-only); crashes go to BUILD_DIR/artifacts/NAME/.
# Every file in tests/fuzz/regressions/NAME/ is replayed once. Exits non-zero on
# any crash, leak, timeout or memory blow-up. tests/fuzz/NAME.dict, when
# present, is the run's dictionary; FUZZ_MAX_LEN overrides the input size cap.
set -eu
BUILD=$1 NAME=$2 SECONDS_=$3
shift 3
BIN="$BUILD/fuzz_$NAME"
HERE=$(cd "$(dirname "$0")" && pwd)
REG="$HERE/regressions/$NAME"

# Whole messages may be large (a 1 MB mail holds a real archive); an
# attachment for the walk less so.
case $NAME in
scan) max_len=1048576 ;;
*) max_len=262144 ;;
esac
max_len=${FUZZ_MAX_LEN:-$max_len}
dict=""
[ -f "$HERE/$NAME.dict" ] && dict="-dict=$HERE/$NAME.dict"
# -rss_limit_mb: memory per process; -malloc_limit_mb: one allocation;
# -timeout: seconds per input. Past any of them the input is a crash: the
# limits in moat.conf must keep every path far below them.
limits="-rss_limit_mb=512 -malloc_limit_mb=256 -timeout=10"
# ASan holds 256 MB of freed blocks in quarantine by default and keeps the
# freed pages: fuzz_scan passed 512 MB in 20 s (live heap 34 MB, the input
# alone 48 MB). A smaller quarantine, handed back to the system, leaves
# the RSS limit measuring moat; use-after-free is still caught for blocks
# freed within the last 32 MB.
ASAN_OPTIONS="quarantine_size_mb=32:allocator_release_to_os_interval_ms=1000${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export ASAN_OPTIONS
mkdir -p "$BUILD/corpus/$NAME" "$BUILD/artifacts/$NAME"

seeds=""
LSAN_OPTIONS="suppressions=$HERE/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
for d in "$@"; do [ -d "$d" ] && seeds="$seeds $d"; done

# shellcheck disable=SC2086
"$BIN" -max_total_time="$SECONDS_" $limits -max_len="$max_len" $dict \
    -print_final_stats=1 -artifact_prefix="$BUILD/artifacts/$NAME/" \
    "$BUILD/corpus/$NAME" $seeds 2>"$BUILD/fuzz-$NAME.log" || {
	tail -40 "$BUILD/fuzz-$NAME.log"
	echo "fuzz $NAME: FAILED (artifacts in $BUILD/artifacts/$NAME/)"
	exit 1
}
execs=$(LC_ALL=C sed -n 's/^stat::number_of_executed_units: *//p' "$BUILD/fuzz-$NAME.log")
cov=$(grep -a -o 'cov: [0-9]*' "$BUILD/fuzz-$NAME.log" | tail -1)
echo "fuzz $NAME: ${execs:-?} executions in ${SECONDS_}s, $cov"

inputs=$(find "$REG" -type f ! -name '.*' 2>/dev/null | sort)
if [ -n "$inputs" ]; then
	# shellcheck disable=SC2086
	"$BIN" $limits $inputs >"$BUILD/replay-$NAME.log" 2>&1 || {
		tail -40 "$BUILD/replay-$NAME.log"
		echo "fuzz $NAME: a regression input fails"
		exit 1
	}
	echo "fuzz $NAME: $(echo "$inputs" | wc -l) regression inputs replayed"
fi
