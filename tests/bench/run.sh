#!/bin/sh
# run.sh BUILD TESTDATA - `make bench`: moat's scan rate on real and generated
# mail, and moat against clamscan on the same files in the same run.
#
# Timings are best of 3 on a warm page cache. clamscan gets a one-line EICAR
# database (the public ones cannot be downloaded here), so both programs do
# what they do with every message: parse the MIME, decode the parts, look at
# every attachment. moat's figure is the whole `moat scan` process over the
# same file list, so start-up counts on both sides.
#
# Then signature scale: the ham corpus again with libclamav loading, beside
# moat's own signature, synthetic databases (synthsigs.py, in BUILD/bench/
# sigs-*): SYNTH_HASHES MD5 (.hdb) and as many SHA-256 (.hsb) hash
# signatures, then those plus SYNTH_PATTERNS body patterns (.ndb); each line
# gives msgs/s, peak RSS and the engine's load time.
#
# Environment: SYNTH_HASHES (100000), SYNTH_PATTERNS (20000).
set -eu
BUILD=$1
TESTDATA=$2
HAM="$TESTDATA/ham-spamassassin"
if [ -z "$TESTDATA" ] || [ ! -d "$HAM/easy_ham" ]; then
	echo "bench: needs the ham corpus, not found (test data: ${TESTDATA:-none});" \
	    "sh scripts/testdata.sh puts it in tests/data (README, \"Test data\")" >&2
	exit 1
fi
OUT="$BUILD/bench"
mkdir -p "$OUT"
: >"$OUT/empty.conf"	# built-in defaults, whatever /etc/moat holds

[ -f "$OUT/gen/gen-0299.eml" ] || python3 "$(dirname "$0")/gen.py" "$OUT/gen" 300

TOP=$(cd "$(dirname "$0")/../.." && pwd)
printf '[av]\nenabled = no\n' >"$OUT/mime-only.conf"
printf '[av]\nsignature_dirs = %s/conf/signatures\n' "$TOP" >"$OUT/av.conf"

# rate NAME CONF DIR - one moat-bench line, and its messages/s in $RATE
rate() {
	line=$("$BUILD/moat-bench" -c "$2" "$1" "$3")
	echo "$line"
	RATE=$(echo "$line" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "msgs/s") print $i }')
}

echo "== scan_message() in one process (best of 3): MIME only, then with libclamav and the container walk"
rate ham-mime "$OUT/mime-only.conf" "$HAM"; ham_mime=$RATE
rate ham-av "$OUT/av.conf" "$HAM"; ham_av=$RATE
rate gen-mime "$OUT/mime-only.conf" "$OUT/gen"; gen_mime=$RATE
rate gen-av "$OUT/av.conf" "$OUT/gen"; gen_av=$RATE
awk -v a="$ham_av" -v m="$ham_mime" -v ga="$gen_av" -v gm="$gen_mime" 'BEGIN {
	printf "cost of av + walk: ham %.2fx the time of MIME only, generated %.2fx\n", m / a, gm / ga }'

echo "== sender authentication's own CPU (SPF with include, a and mx; DKIM; DMARC; DNS from memory)"
line=$("$BUILD/moat-bench" -c "$OUT/av.conf" -a ham-auth "$HAM"); echo "$line"
ham_auth=$(echo "$line" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "msgs/s") print $i }')
awk -v a="$ham_av" -v x="$ham_auth" 'BEGIN {
	printf "cost of the checks: ham %.2fx the time of the scan without them\n", a / x }'

echo "== warning banners: every ham message bannered as if tagged (words + MIME rewrite)"
printf '[av]\nsignature_dirs = %s/conf/signatures\n[banner]\ntemplates = %s/conf/banners\n' \
    "$TOP" "$TOP" >"$OUT/banner.conf"
line=$("$BUILD/moat-bench" -c "$OUT/banner.conf" -b ham-banner "$HAM"); echo "$line"
ham_banner=$(echo "$line" | awk '{ for (i = 1; i < NF; i++) if ($(i + 1) == "msgs/s") print $i }')
awk -v a="$ham_av" -v x="$ham_banner" 'BEGIN {
	printf "cost of a banner: ham %.2fx the time of the scan alone\n", a / x }'

echo "== lure detectors of issue 15 (smuggled files, scripts, OneNote/CHM, passwords, Office," \
    "decryption) against the pipeline without them ([lure] skip), on ham and on the lure fixtures"
# the fixture mails only (lures.py also writes each file bare)
FIX="$OUT/lure-mails"
if [ ! -f "$OUT/lure-fixtures/MANIFEST-lures.tsv" ]; then
	rm -rf "$OUT/lure-fixtures" "$FIX"
	python3 "$TOP/tests/fixtures/lures.py" "$OUT/lure-fixtures" >/dev/null
fi
mkdir -p "$FIX"
ln -f "$OUT"/lure-fixtures/mail-*.eml "$FIX/"
printf '[av]\nsignature_dirs = %s/conf/signatures\n[lure]\nskip = %s\n' "$TOP" \
    "smuggle;script;embedded;password;office;derive" >"$OUT/lure-before.conf"
rate ham-before "$OUT/lure-before.conf" "$HAM"; lure_ham_before=$RATE
rate ham-after "$OUT/av.conf" "$HAM"; lure_ham_after=$RATE
rate lures-before "$OUT/lure-before.conf" "$FIX"; lure_fix_before=$RATE
rate lures-after "$OUT/av.conf" "$FIX"; lure_fix_after=$RATE
awk -v hb="$lure_ham_before" -v ha="$lure_ham_after" -v fb="$lure_fix_before" -v fa="$lure_fix_after" 'BEGIN {
	printf "cost of the part-2 detectors: ham %.2fx the time without them, lure fixtures %.2fx\n",
	    hb / ha, fb / fa }'

SYNTH_HASHES=${SYNTH_HASHES:-100000}
SYNTH_PATTERNS=${SYNTH_PATTERNS:-20000}
echo "== signature scale: ham with libclamav on moat's signature, + $SYNTH_HASHES .hdb and" \
    "$SYNTH_HASHES .hsb synthetic hashes, + $SYNTH_PATTERNS .ndb body patterns (best of 3)"
# sigs-hash: the hashes alone; sigs-all: the hashes and the patterns
SIGS="$OUT/sigs-$SYNTH_HASHES-$SYNTH_PATTERNS"
if [ ! -f "$SIGS/all/synth.ndb" ]; then
	rm -rf "$SIGS"
	python3 "$(dirname "$0")/synthsigs.py" "$SIGS/all" "$SYNTH_HASHES" "$SYNTH_PATTERNS"
	mkdir "$SIGS/hash"
	ln "$SIGS/all/synth.hdb" "$SIGS/all/synth.hsb" "$SIGS/hash/"
	cp "$TOP"/conf/signatures/*.ndb "$SIGS/all/"
	cp "$TOP"/conf/signatures/*.ndb "$SIGS/hash/"
fi
printf '[av]\nsignature_dirs = %s\n' "$SIGS/hash" >"$OUT/synth-hash.conf"
printf '[av]\nsignature_dirs = %s\n' "$SIGS/all" >"$OUT/synth-all.conf"
rate ham-av "$OUT/av.conf" "$HAM"; sig_one=$RATE
rate ham-hashes "$OUT/synth-hash.conf" "$HAM"; sig_hash=$RATE
rate ham-h+ndb "$OUT/synth-all.conf" "$HAM"; sig_all=$RATE
awk -v o="$sig_one" -v h="$sig_hash" -v a="$sig_all" 'BEGIN {
	printf "cost per message: %.2f ms with one signature, %.2f ms with the hashes, %.2f ms with hashes and patterns\n",
	    1000 / o, 1000 / h, 1000 / a }'

# The EICAR test string as ClamAV's own test signature, hex-encoded.
printf 'Eicar-Test-Signature:0:*:%s\n' \
    58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a \
    >"$OUT/eicar.ndb"
find "$HAM" -name '*.txt' ! -name 'LICENSE*' | sort >"$OUT/ham.list"
n=$(wc -l <"$OUT/ham.list")

# best_ms CMD... - the best wall time of 3 runs, in milliseconds
best_ms() {
	best=""
	for _ in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		ms=$(( (t1 - t0) / 1000000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
	done
	echo "$best"
}

echo "== moat scan vs clamscan, $n ham messages, whole processes (best of 3)"
# shellcheck disable=SC2046
moat_ms=$(best_ms "$BUILD/moat" -c "$OUT/empty.conf" scan $(cat "$OUT/ham.list"))
clam_ms=$(best_ms clamscan --no-summary -d "$OUT/eicar.ndb" --file-list="$OUT/ham.list")
echo "moat scan   ${moat_ms} ms  $(( n * 1000 / (moat_ms > 0 ? moat_ms : 1) )) msgs/s"
echo "clamscan    ${clam_ms} ms  $(( n * 1000 / (clam_ms > 0 ? clam_ms : 1) )) msgs/s"
awk -v m="$moat_ms" -v c="$clam_ms" 'BEGIN { printf "ratio       moat is %.1fx clamscan'"'"'s rate (goal: 2x)\n", c / (m > 0 ? m : 1) }'
