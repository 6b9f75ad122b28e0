#!/bin/sh
# run.sh - the `moat` command as an admin uses it: exit codes, output, config errors
#
#   sh tests/cli/run.sh path/to/moat
#
# Prints one line per check and "N passed, N failed" at the end; exits 1 on any failure.
set -u
MOAT=${1:?usage: run.sh MOAT}
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
DEMO="$TOP/samples/demo"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
pass=0
fail=0

ok() { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; [ -s "$TMP/err" ] && sed 's/^/     /' "$TMP/err" | head -5; }

# expect_status NAME WANT CMD... - run CMD, compare its exit status
expect_status() {
	name=$1 want=$2
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name (exit $got)"; else bad "$name: exit $got, want $want"; fi
}

# expect_grep NAME FILE PATTERN - FILE contains PATTERN
expect_grep() {
	if grep -q -- "$3" "$2"; then ok "$1"; else bad "$1: no '$3' in $(basename "$2")"; fi
}

printf '[policy]\ntag_score = 5\n' >"$TMP/good.conf"
printf '[limits]\nmax_depth = many\n' >"$TMP/bad.conf"
printf '[limits]\nmax_dpeth = 3\n' >"$TMP/typo.conf"
printf '[scores]\nattach.shortcut = off\n' >"$TMP/off.conf"

expect_status "clean message exits 0" 0 "$MOAT" -c "$TMP/good.conf" scan "$DEMO/clean-text.eml"
expect_grep "clean message says accept" "$TMP/out" "accept (score 0)"
expect_status "lure exits 1" 1 "$MOAT" -c "$TMP/good.conf" scan "$DEMO/lure-double-extension.eml"
expect_grep "lure names the finding" "$TMP/out" "name.double_extension"
expect_grep "lure shows the ATT&CK id" "$TMP/out" "T1036.007"
expect_status "mixed clean and lure exits 1" 1 "$MOAT" -c "$TMP/good.conf" scan \
    "$DEMO/clean-text.eml" "$DEMO/lure-rlo-name.eml"
expect_status "unreadable file exits 2" 2 "$MOAT" -c "$TMP/good.conf" scan "$TMP/nope.eml"
expect_grep "unreadable file is named on stderr" "$TMP/err" "nope.eml"
expect_status "error wins over flagged" 2 "$MOAT" -c "$TMP/good.conf" scan \
    "$DEMO/lure-rlo-name.eml" "$TMP/nope.eml"
expect_status "bad option exits 2" 2 "$MOAT" scan --bogus "$DEMO/clean-text.eml"
expect_status "no file exits 2" 2 "$MOAT" scan
expect_status "unknown command exits 2" 2 "$MOAT" frobnicate
expect_status "stdin is read with -" 1 sh -c "\"$MOAT\" -c \"$TMP/good.conf\" scan - <\"$DEMO/lure-rlo-name.eml\""
expect_grep "stdin verdict" "$TMP/out" "name.bidi_control"

expect_status "options after the file" 1 "$MOAT" -c "$TMP/good.conf" scan "$DEMO/lure-double-extension.eml" --json
expect_grep "options after the file give JSON" "$TMP/out" '"schema_version"'
expect_status "json output" 1 "$MOAT" -c "$TMP/good.conf" scan --json "$DEMO/lure-double-extension.eml"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["schema_version"]==1; assert d["verdict"]["action"] in ("tag","quarantine","reject"); assert any(f["id"]=="name.double_extension" and f["attack"]=="T1036.007" and f["path"] for f in d["findings"]); assert d["parts"] and all("sha256" in p for p in d["parts"])' "$TMP/out" 2>"$TMP/err"; then
	ok "json parses and carries schema_version, findings, parts"
else
	bad "json report"
fi

expect_status "bad value is an error" 2 "$MOAT" -c "$TMP/bad.conf" config check
expect_grep "bad value names [group] key" "$TMP/err" "\[limits\] max_depth: not a number: 'many'"
expect_status "unknown key is an error" 2 "$MOAT" -c "$TMP/typo.conf" scan "$DEMO/clean-text.eml"
expect_grep "unknown key is named" "$TMP/err" "\[limits\] max_dpeth: unknown key"
expect_status "missing named config is an error" 2 "$MOAT" -c "$TMP/absent.conf" config check
expect_status "config check prints the effective config" 0 "$MOAT" -c "$TMP/off.conf" config check
expect_grep "config check shows the override" "$TMP/out" "attach.shortcut = off"
cp "$TMP/out" "$TMP/effective.conf"
expect_status "printed config loads again" 0 "$MOAT" -c "$TMP/effective.conf" config check
expect_status "switched-off finding no longer flags" 0 "$MOAT" -c "$TMP/off.conf" scan "$DEMO/lure-lnk-in-mail.eml"
expect_status "shipped moat.conf is valid" 0 "$MOAT" -c "$TOP/conf/moat.conf" config check

# moat stats and [milter] status_socket (the daemon side is in tests/integration)
printf '[milter]\nstatus_socket = inet:9100@0.0.0.0\n' >"$TMP/public.conf"
printf '[milter]\nstatus_socket =\n' >"$TMP/nostatus.conf"
expect_status "non-loopback status_socket is an error" 2 "$MOAT" -c "$TMP/public.conf" config check
expect_grep "non-loopback status_socket is named" "$TMP/err" "\[milter\] status_socket: not a loopback address"
expect_status "stats without moatd exits 2" 2 "$MOAT" stats --socket "unix:$TMP/none.sock"
expect_grep "stats says which socket it tried" "$TMP/err" "cannot reach moatd at unix:$TMP/none.sock"
expect_status "stats with status_socket empty exits 2" 2 "$MOAT" -c "$TMP/nostatus.conf" stats
expect_grep "stats says the endpoint is off" "$TMP/err" "status_socket is empty"
expect_status "stats with a bad option exits 2" 2 "$MOAT" stats --bogus

# moat quarantine: what it says before any store is there (the store itself:
# tests/integration/quarantine.sh, tests/unit/check_quarantine.c)
printf '[quarantine]\ndir = %s/no-store\n' "$TMP" >"$TMP/nostore.conf"
expect_status "quarantine without a subcommand exits 2" 2 "$MOAT" quarantine
expect_grep "quarantine usage names the subcommands" "$TMP/err" "list|show|release|delete|purge|export"
expect_status "quarantine list without a store exits 2" 2 "$MOAT" -c "$TMP/nostore.conf" quarantine list
expect_grep "quarantine names the missing store" "$TMP/err" "$TMP/no-store"
printf '[quarantine]\nmode = keep\n' >"$TMP/badmode.conf"
expect_status "[quarantine] mode = keep is a config error" 2 "$MOAT" -c "$TMP/badmode.conf" config check
expect_grep "[quarantine] mode is named" "$TMP/err" "\[quarantine\] mode: 'keep': store or hold"
# Someone who is neither root, [milter] user nor in admin_group is told so.
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null 2>&1 && id daemon >/dev/null 2>&1; then
	PUB=$(mktemp -d /tmp/moat-cli-pub.XXXXXX)
	chmod 0755 "$PUB"
	cp "$MOAT" "$PUB/moat"
	printf '[milter]\nuser = daemon\n[quarantine]\ndir = %s/q\nadmin_group = root\n' "$PUB" \
	    >"$PUB/moat.conf"
	chmod 0644 "$PUB/moat.conf"
	expect_status "quarantine as nobody exits 2" 2 runuser -u nobody -- "$PUB/moat" -c "$PUB/moat.conf" \
	    quarantine list
	expect_grep "quarantine says who may use it" "$TMP/err" \
	    "only root, daemon and members of group root may use the quarantine"
	rm -rf "$PUB"
else
	echo "skip quarantine as another user (needs root, runuser and user daemon)"
fi

# moat stats facing a fake endpoint: an odd or truncated answer exits 2 with the reason, no crash.
# The fake serves one connection and lives at most 10 s whatever happens.
cat >"$TMP/fake_status.py" <<'EOF'
import codecs, os, signal, socket, sys
signal.alarm(10)
path, reply = sys.argv[1], codecs.decode(sys.argv[2], "unicode_escape").encode("latin-1")
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path + ".new")
s.listen(1)
os.rename(path + ".new", path)  # the name appears once it listens
c, _ = s.accept()
c.settimeout(5)
req = b""
while b"\r\n\r\n" not in req:
    data = c.recv(4096)
    if not data:
        break
    req += data
c.sendall(reply)
c.close()
EOF
# stats_fake NAME WANT REPLY - moat stats against a fake endpoint answering REPLY (Python escapes) exits WANT
stats_fake() {
	rm -f "$TMP/fake.sock"
	python3 "$TMP/fake_status.py" "$TMP/fake.sock" "$3" &
	fake=$!
	i=0
	while [ ! -S "$TMP/fake.sock" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	expect_status "$1" "$2" "$MOAT" stats --socket "unix:$TMP/fake.sock"
	wait "$fake"
}
stats_fake "stats facing 'HTTP/1.' exits 2" 2 'HTTP/1.'
expect_grep "stats says 'HTTP/1.' is not HTTP" "$TMP/err" "did not answer in HTTP: 'HTTP/1.'"
stats_fake "stats facing a bare status line exits 2" 2 'HTTP/1.1 200'
expect_grep "stats says the header is cut" "$TMP/err" "the answer ends inside its header (12 bytes, no blank line)"
stats_fake "stats facing headers without a blank line exits 2" 2 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n'
expect_grep "stats says the header has no end" "$TMP/err" "the answer ends inside its header"
stats_fake "stats facing an empty answer exits 2" 2 ''
expect_grep "stats says nothing came" "$TMP/err" "closed the connection without an answer"
stats_fake "stats facing a cut body exits 2" 2 'HTTP/1.0 200 OK\r\nContent-Length: 100\r\n\r\nmoat_start_time_seconds 1\n'
expect_grep "stats says the body is cut" "$TMP/err" "the answer was cut short: 26 of 100 body bytes"
stats_fake "stats facing a 404 exits 2" 2 'HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n'
expect_grep "stats shows the status line" "$TMP/err" "not with the counters: 'HTTP/1.0 404 Not Found'"
stats_fake "stats facing a NUL in the body exits 2" 2 'HTTP/1.0 200 OK\r\n\r\nmoat_start_time_seconds 1\n\0moat_x 1\n'
expect_grep "stats says a NUL is not the counters" "$TMP/err" "a NUL byte in the body"
stats_fake "stats facing the counters exits 0" 0 \
    'HTTP/1.0 200 OK\r\nContent-Length: 75\r\n\r\nmoat_start_time_seconds 1\nmoat_messages_total{action="reject"} 3\nmoat_junk\nsurplus'
expect_grep "stats sums up a good answer" "$TMP/out" "messages     3: accept 0, tag 0, quarantine 0, reject 3, tempfail 0"

# [lists] and [outbound], tried with the envelope moatd would get from the MTA.
cat >"$TMP/lists.conf" <<'EOF'
[lists]
allow_senders = Partner@Example.com
block_networks = 192.0.2.0/24; 2001:db8::/32
allow_recipients = abuse@example.org
[outbound]
internal_networks = 10.0.0.0/8
EOF
printf '[lists]\nblock_networks = 10.1.2.3/8\n' >"$TMP/badnet.conf"
LURE=$DEMO/lure-double-extension.eml
expect_status "--client in block_networks exits 1" 1 "$MOAT" -c "$TMP/lists.conf" scan \
    --client 192.0.2.7 "$DEMO/clean-text.eml"
expect_grep "--client names policy.blocked_network" "$TMP/out" "policy.blocked_network.*192.0.2.0/24"
expect_grep "blocked network rejects" "$TMP/out" "reject (score 20)"
expect_status "--client outside the block exits 0" 0 "$MOAT" -c "$TMP/lists.conf" scan \
    --client 2001:db9::1 "$DEMO/clean-text.eml"
expect_status "--from an allowed sender accepts a lure" 0 "$MOAT" -c "$TMP/lists.conf" scan \
    --from '<partner@EXAMPLE.com>' "$LURE"
expect_grep "allowed sender says why" "$TMP/out" "allowed: sender partner@EXAMPLE.com"
expect_grep "allowed findings stay, marked" "$TMP/out" "attach.executable.*\[allowed\]"
expect_status "allowed sender from a blocked network exits 1" 1 "$MOAT" -c "$TMP/lists.conf" scan \
    --from partner@example.com --client 192.0.2.7 "$LURE"
expect_grep "the block wins over the allow" "$TMP/out" "reject (score 20)"
expect_status "allow_recipients with every recipient listed exits 0" 0 "$MOAT" -c "$TMP/lists.conf" \
    scan --rcpt abuse@example.org "$LURE"
expect_status "allow_recipients with one recipient not listed exits 1" 1 "$MOAT" \
    -c "$TMP/lists.conf" scan --rcpt abuse@example.org --rcpt ceo@example.org "$LURE"
expect_status "--auth makes it outbound" 1 "$MOAT" -c "$TMP/lists.conf" scan --json --auth alice "$LURE"
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]["direction"]=="outbound"; assert d["envelope"]["auth"]=="alice"; assert d["verdict"]["allowed"] is None' "$TMP/out" 2>"$TMP/err"; then
	ok "json carries direction outbound and auth"
else
	bad "json direction and auth"
fi
expect_status "--client in internal_networks is outbound" 1 "$MOAT" -c "$TMP/lists.conf" scan \
    --client 10.9.8.7 "$LURE"
expect_grep "outbound is shown" "$TMP/out" "(score 22, outbound)"
expect_status "--client that is not an address exits 2" 2 "$MOAT" scan --client mx.example.com "$LURE"
expect_grep "--client error names it" "$TMP/err" "mx.example.com"
expect_status "bad network entry is a config error" 2 "$MOAT" -c "$TMP/badnet.conf" config check
expect_grep "bad network entry is named" "$TMP/err" \
    "\[lists\] block_networks: '10.1.2.3/8': bits are set past the /8 prefix"

# Every key in the reference is documented in README.md.
"$MOAT" config reference >"$TMP/ref" 2>"$TMP/err"
missing=0
for key in $(sed -n 's/^| `\[[a-z]*\]` | `\([a-z_]*\)`.*/\1/p' "$TMP/ref"); do
	grep -q "\`$key\`" "$TOP/README.md" || { echo "     README.md lacks $key"; missing=1; }
done
if [ "$missing" -eq 0 ] && [ -s "$TMP/ref" ]; then ok "README documents every config key"; else bad "README config reference"; fi

# The man pages. moat.conf(5) is made by the build ($(BUILD)/man, beside moat) from
# man/moat.conf.5.in and `moat config reference --man`: it must list exactly the keys
# `moat config reference` prints, each under its group with its default, as man shows them.
PAGES="$TOP/man/moat.1 $TOP/man/moatd.8 $(dirname "$MOAT")/man/moat.conf.5"
# man_render PAGE - PAGE as man shows it on a wide terminal, hyphens and minus signs as '-'
man_render() {
	LC_ALL=C.UTF-8 MANWIDTH=250 MAN_DISABLE_SECCOMP=1 man -l "$1" 2>"$TMP/err" |
	    sed 's/\xe2\x80\x90/-/g; s/\xe2\x88\x92/-/g'
}
expect_status "config reference reads no config" 0 "$MOAT" -c "$TMP/bad.conf" config reference
expect_status "config reference --man exits 0" 0 "$MOAT" config reference --man
if grep -v -e '^\.SS \[[a-z]*\]$' -e '^\.TP$' -e '^\.br$' "$TMP/out" | grep -n "^[.']" >"$TMP/err"; then
	bad "config reference --man: a text line starts with . or ' (a roff request)"
else
	ok "config reference --man: only .SS, .TP and .br start a line"
fi
if ! command -v man >/dev/null; then
	echo "man (package man-db) is not installed: make deps" >"$TMP/err"
	bad "man pages: no man to render them"
elif [ ! -s "$(dirname "$MOAT")/man/moat.conf.5" ]; then
	echo "no $(dirname "$MOAT")/man/moat.conf.5: make builds it" >"$TMP/err"
	bad "moat.conf.5 was not built"
else
	for page in $PAGES; do
		LC_ALL=C.UTF-8 MANWIDTH=80 MAN_DISABLE_SECCOMP=1 man --warnings=w -l "$page" \
		    >"$TMP/page.txt" 2>"$TMP/err"
		if [ $? -eq 0 ] && [ ! -s "$TMP/err" ] && [ -s "$TMP/page.txt" ]; then
			ok "man -l $(basename "$page") renders without warnings"
		else
			bad "man -l $(basename "$page") warns or fails"
		fi
	done
	# "[group] key = default" from the Markdown reference and from the page's KEYS section
	sed -n 's/^| `\(\[[a-z]*\]\)` | `\([a-z_0-9]*\)` | `\([^`]*\)` |.*/\1 \2 = \3/p' "$TMP/ref" |
	    sed 's/ $//' | sort >"$TMP/ref.keys"
	man_render "$(dirname "$MOAT")/man/moat.conf.5" | awk '
		/^KEYS$/ { keys = 1; next }
		/^[A-Z]/ { keys = 0 }
		keys && /^   \[[a-z]+\]$/ { group = $1; next }
		keys && /^       [a-z_0-9]+ =( .*)?$/ { sub(/^ +/, ""); print group, $0 }' |
	    sort >"$TMP/page.keys"
	comm -23 "$TMP/ref.keys" "$TMP/page.keys" | sed 's/^/moat.conf.5 lacks: /' >"$TMP/err"
	comm -13 "$TMP/ref.keys" "$TMP/page.keys" | sed 's/^/moat.conf.5 has, the table not: /' >>"$TMP/err"
	if [ ! -s "$TMP/err" ] && [ -s "$TMP/ref.keys" ]; then
		ok "moat.conf.5 lists every key of the reference with its default ($(wc -l <"$TMP/ref.keys") keys)"
	else
		bad "moat.conf.5 and moat config reference differ (rebuild: make)"
	fi
	# every option in the usage is in the page (moatd's: when it was built beside moat)
	for prog in moat moatd; do
		case $prog in
		moat) bin=$MOAT page=$TOP/man/moat.1 ;;
		*) bin=$(dirname "$MOAT")/moatd page=$TOP/man/moatd.8 ;;
		esac
		[ -x "$bin" ] || continue
		man_render "$page" >"$TMP/page.txt"
		: >"$TMP/err"
		for opt in $("$bin" -h | grep -o -- '[[ ]-\{1,2\}[a-z][a-z]*' | tr -d '[ ' | sort -u); do
			grep -q -- "\(^\|[^a-z-]\)$opt\>" "$TMP/page.txt" ||
			    echo "$(basename "$page") lacks $opt" >>"$TMP/err"
		done
		if [ -s "$TMP/err" ]; then bad "$(basename "$page") and $prog -h"; else ok "$(basename "$page") documents every option of $prog -h"; fi
	done
fi

# Golden reports: moat scan --json of each sample with a file in tests/unit/expect/
# (tests/cli/golden.sh makes both; `make expect` rewrites them when a report
# changes on purpose). A difference is shown whole, as diff -u.
n=0
# [av] temp_dir on a full tmpfs: libclamav cannot write what it extracts, and the
# message is an error (moatd tempfails it), never a verdict. Needs root to mount.
if [ "$(id -u)" -eq 0 ] && mkdir "$TMP/full" && mount -t tmpfs -o size=16k tmpfs "$TMP/full" 2>/dev/null; then
	printf '[av]\nsignature_dirs = %s/conf/signatures\ntemp_dir = %s/full\n' "$TOP" "$TMP" >"$TMP/full.conf"
	head -c 65536 /dev/zero >"$TMP/full/filler" 2>/dev/null
	expect_status "temp_dir full: an error, not a verdict" 2 "$MOAT" -c "$TMP/full.conf" scan "$DEMO/lure-mustang-decoy-zip.eml"
	expect_grep "temp_dir full: libclamav's error named" "$TMP/err" "libclamav"
	umount "$TMP/full"
else
	echo "skip temp_dir full (needs root and a tmpfs mount)"
fi

for want in "$TOP"/tests/unit/expect/*/*.json; do
	[ -e "$want" ] || continue
	n=$((n + 1))
	s=${want#"$TOP/tests/unit/expect/"}
	s=${s%.json}
	if ! sh "$HERE/golden.sh" "$MOAT" "$s" >"$TMP/golden.json" 2>"$TMP/err"; then
		bad "golden report $s: moat scan --json samples/$s.eml failed"
	elif diff -u --label "tests/unit/expect/$s.json" --label "moat scan --json samples/$s.eml" \
	    "$want" "$TMP/golden.json" >"$TMP/golden.diff"; then
		ok "golden report $s"
	else
		: >"$TMP/err"
		bad "golden report $s differs (on purpose? make expect, and commit the diff):"
		sed 's/^/     /' "$TMP/golden.diff"
	fi
done
[ "$n" -gt 0 ] || { echo "no tests/unit/expect/*/*.json" >"$TMP/err"; bad "golden reports: none found (make expect)"; }

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
