#!/bin/sh
# run.sh - run one libFuzzer harness for a while, then replay its regressions
#
#   sh tests/fuzz/run.sh BUILD_DIR NAME SECONDS SEED_DIR...
#
# The growing corpus lives in BUILD_DIR/corpus/NAME (never in the seed
# directories: ../shared is read-only); crashes go to BUILD_DIR/artifacts/NAME/.
# Every file in tests/fuzz/regressions/NAME/ is replayed once. Exits non-zero on
# any crash, leak or timeout.
set -eu
BUILD=$1 NAME=$2 SECONDS_=$3
shift 3
BIN="$BUILD/fuzz_$NAME"
REG="$(dirname "$0")/regressions/$NAME"
mkdir -p "$BUILD/corpus/$NAME" "$BUILD/artifacts/$NAME"

seeds=""
LSAN_OPTIONS="suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
for d in "$@"; do [ -d "$d" ] && seeds="$seeds $d"; done

# -rss_limit_mb: memory per process; -timeout: seconds per input.
# shellcheck disable=SC2086
"$BIN" -max_total_time="$SECONDS_" -rss_limit_mb=2048 -timeout=10 -max_len=262144 \
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
	"$BIN" -rss_limit_mb=2048 -timeout=10 $inputs >"$BUILD/replay-$NAME.log" 2>&1 || {
		tail -40 "$BUILD/replay-$NAME.log"
		echo "fuzz $NAME: a regression input fails"
		exit 1
	}
	echo "fuzz $NAME: $(echo "$inputs" | wc -l) regression inputs replayed"
fi
