#!/bin/sh
# tests/integration/auth.sh - SPF, DKIM, DMARC and Authentication-Results end to end
#
#   sh tests/integration/auth.sh build/moatd     (from the top of the tree)
#
# Issue 16, "End to end". Everything runs inside a network namespace of
# its own, NS (moat-auth-PID): loopback up, 10.53.0.1 and 10.53.0.2 on it;
# /etc/netns/NS/resolv.conf (which `ip netns exec` mounts over
# /etc/resolv.conf) sends the system resolver to 10.53.0.1, where nsd
# serves the test zones. In a fresh temp dir T (kept when KEEP=1):
#   - T/dns: nsd's config and zones (0755/0644: nsd drops to its own user;
#     never under the checkout, which may sit in a 0700 home). A 2048-bit
#     RSA key made now (T/key.pem) is published as sel._domainkey.DOMAIN;
#     tests/integration/dkimsign.pl (Mail::DKIM) signs the test messages
#     with it, relaxed/relaxed, rsa-sha256;
#   - sink.py, moatd (user nobody, [auth] authserv_id = mx.moat.test,
#     protected_domains = example.test, dns_budget_ms = 2000, [quarantine]
#     mode = hold) and a private Postfix (postfix.sh) whose smtpd takes
#     XCLIENT from loopback and relays everything to the sink;
# then sends each message with XCLIENT ADDR=... HELO=... (authtool.py
# send) as from a client outside: 192.0.2.10 may send for the test
# domains, 198.51.100.7 may not. Checked: the SMTP reply, the one
# Authentication-Results header with our authserv-id in the delivered copy
# (authtool.py ar), X-Moat-Findings and moatd's log line. Cases: SPF, DKIM
# and DMARC pass; SPF fail; SPF softfail; DKIM fail (body changed after
# signing); DMARC fail under p=reject (tagged; 550 with [auth]
# dmarc_reject = yes); forged Authentication-Results; a look-alike From
# domain, and the protected domain itself (not flagged); a DNS server that
# does not answer (temperror, no stall past the DNS budget). A first check
# verifies a signature with Mail::DKIM through nsd: a failure after it is
# moatd's, not the test bed's. Nothing listens outside the namespace.
#
# One line per check ("ok   name", "FAIL name" plus context, "skip name"),
# then "auth: N passed, M failed". Exit status 1 on any failure; without
# `ip netns`, nsd, openssl or Mail::DKIM, skip lines and exit 0.
# Everything started here is stopped, the namespace and its resolv.conf
# removed, on exit (Ctrl-C included); every helper has a lifetime limit.
# Needs root, python3, Postfix (package postfix), nsd, openssl and
# libmail-dkim-perl.
set -u

PATH=$PATH:/usr/sbin:/sbin
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIFETIME=${LIFETIME:-300}	# seconds any helper process may live
WAIT=${WAIT:-20}		# seconds to wait for a delivery

AUTHSERV=mx.moat.test		# [auth] authserv_id
BUDGET_MS=2000			# [auth] dns_budget_ms
SLACK_MS=3000			# what a transaction may take beyond the DNS budget
NS=moat-auth-$$			# the network namespace
NS_ETC=/etc/netns/$NS		# its resolv.conf
DNS_IP=10.53.0.1		# nsd
DEAD_IP=10.53.0.2		# a DNS server that reads queries and never answers
GOOD_IP=192.0.2.10		# may send for the test domains (SPF)
BAD_IP=198.51.100.7		# may not
SMTP_PORT=2525			# Postfix's smtpd, inside the namespace

if [ $# -ne 1 ]; then
	echo "usage: $0 PATH/TO/moatd" >&2
	exit 2
fi
MOATD=$1
case $MOATD in /*) ;; *) MOATD=$PWD/$MOATD ;; esac

PASSED=0
FAILED=0
SKIPPED=0
T=
SINK_PID=
MOATD_PID=
NSD_PID=
HOLE_PID=
PF_STARTED=
NS_MADE=
ETC_NETNS_MADE=

summary() {
	if [ "$SKIPPED" -gt 0 ]; then
		echo "auth: $PASSED passed, $FAILED failed ($SKIPPED skipped)"
	else
		echo "auth: $PASSED passed, $FAILED failed"
	fi
}

prereq() {
	echo "FAIL prerequisites: $1"
	FAILED=1
	summary
	exit 1
}

# skip_all WHY: nothing of this suite can run here; not a failure
skip_all() {
	echo "skip auth end to end ($1)"
	SKIPPED=$((SKIPPED + 1))
	summary
	exit 0
}

command -v postfix >/dev/null 2>&1 ||
	prereq "postfix is not installed (apt-get install postfix); the integration test needs it"
command -v python3 >/dev/null 2>&1 || prereq "python3 is not installed"
[ "$(id -u)" = 0 ] || prereq "must run as root (network namespace, Postfix's master)"
[ -x "$MOATD" ] || prereq "$MOATD is not an executable (build it first)"
id nobody >/dev/null 2>&1 || prereq "no user nobody"
command -v ip >/dev/null 2>&1 || skip_all "no ip command (iproute2)"
command -v nsd >/dev/null 2>&1 || skip_all "nsd is not installed (apt-get install nsd)"
id nsd >/dev/null 2>&1 || skip_all "no user nsd"
command -v openssl >/dev/null 2>&1 || skip_all "openssl is not installed"
perl -MMail::DKIM::Signer -e 1 2>/dev/null ||
	skip_all "Perl's Mail::DKIM is not installed (apt-get install libmail-dkim-perl)"

. "$HERE/../lib.sh"	# stop_pid, moatd_share
. "$HERE/itlib.sh"	# check, fatal, expect_code, queue_id, arrived, hdr, ...

# nsx CMD...: CMD inside the namespace
nsx() { ip netns exec "$NS" "$@"; }

cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$PF_STARTED" ]; then
		nsx sh "$HERE/postfix.sh" stop "$T" 2>/dev/null || sh "$HERE/postfix.sh" stop "$T"
	fi
	stop_pid "$MOATD_PID"
	stop_pid "$SINK_PID"
	stop_pid "$NSD_PID"
	stop_pid "$HOLE_PID"
	if [ -n "$NS_MADE" ]; then
		# Postfix's daemons leave once their master is gone: wait for
		# them (5 s); a backstop for whatever of ours lingers
		n=0
		while [ -n "$(ip netns pids "$NS" 2>/dev/null)" ] && [ $n -lt 50 ]; do
			n=$((n + 1))
			sleep 0.1
		done
		left=$(ip netns pids "$NS" 2>/dev/null)
		if [ -n "$left" ]; then
			echo "# still running in $NS, killed: $(for p in $left; do
				printf '%s(%s) ' "$p" "$(cat /proc/"$p"/comm 2>/dev/null)"; done)"
			for p in $left; do kill -9 "$p" 2>/dev/null; done
		fi
		ip netns del "$NS" 2>/dev/null
	fi
	rm -f "$NS_ETC/resolv.conf"
	rmdir "$NS_ETC" 2>/dev/null
	[ -n "$ETC_NETNS_MADE" ] && rmdir /etc/netns 2>/dev/null
	remove_temp_dir "$T"
	exit $rc
}
trap_cleanup

T=$(mktemp -d /tmp/moat-auth.XXXXXX) || exit 1
chmod 0755 "$T"		# Postfix (user postfix), nsd (user nsd) and moatd (nobody) walk in
mkdir -m 0700 "$T/spool" "$T/out" "$T/msg" "$T/sent"
mkdir -m 0755 "$T/dns" "$T/dns/var"
chown nobody "$T/spool"
chown nsd "$T/dns/var"
: >"$T/moatd.log"

# --- reporting ----------------------------------------------------------------

context() {
	echo "     --- postfix.log (last lines)"
	tail -n 6 "$T/postfix.log" 2>/dev/null | indent
	echo "     --- moatd.log (last lines)"
	tail -n 6 "$T/moatd.log" 2>/dev/null | indent
}

# --- the namespace ---------------------------------------------------------------

ip netns add "$NS" 2>"$T/netns.err" || skip_all "ip netns add: $(cat "$T/netns.err")"
NS_MADE=1
ip -n "$NS" link set lo up || fatal "ip -n $NS link set lo up"
ip -n "$NS" addr add "$DNS_IP/32" dev lo || fatal "cannot add $DNS_IP to $NS's loopback"
ip -n "$NS" addr add "$DEAD_IP/32" dev lo || fatal "cannot add $DEAD_IP to $NS's loopback"
[ -d /etc/netns ] || { mkdir -m 0755 /etc/netns && ETC_NETNS_MADE=1; } || fatal "cannot make /etc/netns"
mkdir -m 0755 "$NS_ETC" || fatal "cannot make $NS_ETC"

# resolver IP: the namespace's resolv.conf asks IP (rewritten in place:
# what `ip netns exec` mounted shows the new text)
resolver() {
	printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$1" >"$NS_ETC/resolv.conf"
}
resolver "$DNS_IP"
# what `ip netns exec` gives a process, and nothing answers outside
if ! nsx cat /etc/resolv.conf | grep -q "^nameserver $DNS_IP\$"; then
	fatal "ip netns exec does not put $NS_ETC/resolv.conf in place"
fi

# --- DNS: the key, the zones, nsd ---------------------------------------------------

openssl genrsa -traditional -out "$T/key.pem" 2048 2>"$T/openssl.err" ||
	fatal "openssl genrsa: $(cat "$T/openssl.err")"
KEY_P=$(openssl rsa -in "$T/key.pem" -pubout -outform DER 2>>"$T/openssl.err" | base64 | tr -d '\n')
[ -n "$KEY_P" ] || fatal "openssl rsa -pubout: $(cat "$T/openssl.err")"
# the key record in strings of at most 200 characters (a TXT string holds 255)
DKIM_TXT="( \"v=DKIM1; k=rsa; \" $(printf 'p=%s' "$KEY_P" | fold -w 200 | sed 's/.*/"&"/' | tr '\n' ' '))"

cat >"$T/dns/nsd.conf" <<EOF
# nsd.conf of auth.sh: answers on $DNS_IP inside the namespace $NS only
server:
	ip-address: $DNS_IP
	port: 53
	do-ip6: no
	server-count: 1
	username: nsd
	chroot: ""
	zonesdir: "$T/dns"
	database: ""
	zonelistfile: "$T/dns/var/zone.list"
	xfrdfile: "$T/dns/var/xfrd.state"
	xfrdir: "$T/dns/var"
	pidfile: "$T/dns/var/nsd.pid"
	logfile: "$T/nsd.log"
	verbosity: 1
	hide-version: yes
remote-control:
	control-enable: no
EOF

# zone NAME: a zone file for NAME (SOA, NS, then the records on stdin), served
zone() {
	{
		# shellcheck disable=SC2016
		printf '$ORIGIN %s.\n$TTL 300\n' "$1"
		printf '@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n'
		printf '@ IN NS ns.test.\n'
		cat
	} >"$T/dns/$1.zone"
	printf 'zone:\n\tname: "%s"\n\tzonefile: "%s.zone"\n' "$1" "$1" >>"$T/dns/nsd.conf"
}

# test.: everything not in the zones below does not exist (NXDOMAIN, at once)
zone test <<EOF
ns IN A $DNS_IP
EOF
# a.test: SPF, DKIM and DMARC pass from $GOOD_IP; the HELO name mx.a.test too
zone a.test <<EOF
@ IN TXT "v=spf1 ip4:$GOOD_IP -all"
mx IN A $GOOD_IP
mx IN TXT "v=spf1 ip4:$GOOD_IP -all"
sel._domainkey IN TXT $DKIM_TXT
_dmarc IN TXT "v=DMARC1; p=reject"
EOF
# fail.test: SPF -all for anyone else; signed, so DMARC passes on DKIM
zone fail.test <<EOF
@ IN TXT "v=spf1 ip4:$GOOD_IP -all"
sel._domainkey IN TXT $DKIM_TXT
_dmarc IN TXT "v=DMARC1; p=none"
EOF
# soft.test: SPF ~all for anyone else
zone soft.test <<EOF
@ IN TXT "v=spf1 ip4:$GOOD_IP ~all"
sel._domainkey IN TXT $DKIM_TXT
_dmarc IN TXT "v=DMARC1; p=none"
EOF
# strict.test: p=reject, no key, sends from nowhere: a From that fails DMARC
zone strict.test <<EOF
@ IN TXT "v=spf1 -all"
_dmarc IN TXT "v=DMARC1; p=reject"
EOF
# example.test: the protected domain
zone example.test <<EOF
@ IN TXT "v=spf1 ip4:$GOOD_IP -all"
sel._domainkey IN TXT $DKIM_TXT
_dmarc IN TXT "v=DMARC1; p=reject"
EOF
# examp1e.test: its look-alike, which authenticates perfectly
zone examp1e.test <<EOF
@ IN TXT "v=spf1 ip4:$GOOD_IP -all"
sel._domainkey IN TXT $DKIM_TXT
_dmarc IN TXT "v=DMARC1; p=none"
EOF
chmod 0644 "$T"/dns/*.zone "$T/dns/nsd.conf"

nsd-checkconf "$T/dns/nsd.conf" >"$T/nsd.out" 2>&1 || fatal "nsd-checkconf: $(cat "$T/nsd.out")"
ip netns exec "$NS" timeout "$LIFETIME" nsd -d -c "$T/dns/nsd.conf" >>"$T/nsd.out" 2>&1 &
NSD_PID=$!

# dnsq NAME: NAME's TXT records from nsd (asked inside the namespace)
dnsq() { nsx python3 "$HERE/authtool.py" txt "$DNS_IP" "$1"; }
i=0
until dnsq a.test >"$T/dnsq.out" 2>&1 && grep -q "^v=spf1 ip4:$GOOD_IP -all\$" "$T/dnsq.out"; do
	i=$((i + 1))
	if ! kill -0 "$NSD_PID" 2>/dev/null || [ $i -gt 50 ]; then
		fatal "nsd does not answer on $DNS_IP: $(cat "$T/dnsq.out" "$T/nsd.out" "$T/nsd.log" 2>/dev/null)"
	fi
	sleep 0.2
done

# --- moatd, the sink, Postfix -------------------------------------------------------

moatd_share "$ROOT" "$T/share" "$MOATD" ||
	fatal "cannot copy moatd, conf/signatures and lsan.supp to $T/share"

# write_conf FILE [LINE]...: the base config, LINEs added at its end (in
# [auth]: a later key wins over an earlier one)
write_conf() {
	wc_f=$1
	shift
	{
		cat <<EOF
[av]
signature_dirs = $T/share/signatures

[outbound]
# every client is from outside: the checks run on all of them
internal_networks =

[scores]
# a DNS failure scores nothing by default; 1 here, so that it shows in
# moatd's log line (findings of score 0 are not listed)
auth.temperror = 1

[quarantine]
# Postfix's hold queue
mode = hold

[milter]
spool_dir = $T/spool
spool_memory_bytes = 65536
socket_group = postfix
user = nobody
status_socket =
drain_seconds = 5

[auth]
authserv_id = $AUTHSERV
protected_domains = example.test
dns_budget_ms = $BUDGET_MS
EOF
		for l in "$@"; do echo "$l"; done
	} >"$wc_f"
}
CONF=$T/moat.conf
write_conf "$CONF"

# moatd_pid: the moatd process (timeout(1) runs it as its child)
moatd_pid() { pgrep -P "$MOATD_PID" | head -n 1; }

# start_moatd CONF: moatd inside the namespace (its resolver: the
# namespace's resolv.conf as it is now); returns once it logged
# "listening on" (10 s)
start_moatd() {
	sm_n=$(grep -c -F "moatd: listening on " "$T/moatd.log")
	ip netns exec "$NS" timeout "$LIFETIME" "$T/share/moatd" -c "$1" -p "unix:$T/moatd.sock" -f \
	    2>>"$T/moatd.log" &
	MOATD_PID=$!
	sm_i=0
	until [ "$(grep -c -F "moatd: listening on " "$T/moatd.log")" -gt "$sm_n" ]; do
		sm_i=$((sm_i + 1))
		if ! kill -0 "$MOATD_PID" 2>/dev/null || [ $sm_i -gt 100 ]; then
			why="moatd -c $1 did not start"
			return 1
		fi
		sleep 0.1
	done
	sleep 0.2	# the socket's mode and group
	return 0
}

# restart_moatd CONF: stopped at once (SIGINT), started on CONF
restart_moatd() {
	stop_moatd INT
	start_moatd "$1"
}

ip netns exec "$NS" timeout "$LIFETIME" python3 "$HERE/sink.py" --lifetime "$LIFETIME" --ready "$T/sink.port" 0 "$T/out" \
	>"$T/sink.log" 2>&1 &
SINK_PID=$!

start_moatd "$CONF" || fatal "$why: $(tail -n 5 "$T/moatd.log")"
i=0
until [ -s "$T/sink.port" ] && [ -S "$T/moatd.sock" ]; do
	i=$((i + 1))
	kill -0 "$SINK_PID" 2>/dev/null || { cat "$T/sink.log"; fatal "sink.py exited"; }
	[ $i -gt 100 ] && fatal "no $T/moatd.sock or sink port after 10 s"
	sleep 0.1
done
SINK_PORT=$(cat "$T/sink.port")

PF_STARTED=1
nsx env POSTFIX_LIFETIME="$LIFETIME" sh "$HERE/postfix.sh" start "$T" "$SMTP_PORT" "$SINK_PORT" \
	"unix:$T/moatd.sock" || fatal "postfix.sh start"
# XCLIENT from loopback: each message comes from a client address of its
# own, outside mynetworks; the recipients' domain example.test is relayed
# for anyone (to the sink: relayhost)
postconf -c "$T/etc" -e "smtpd_authorized_xclient_hosts = 127.0.0.0/8" \
	"relay_domains = example.test" \
	"smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination" || fatal "postconf -e"
r0=$(grep -c "reload" "$T/postfix.log")
nsx postfix -c "$T/etc" reload >>"$T/postfix-start.log" 2>&1 || fatal "postfix reload"
i=0
until [ "$(grep -c "reload" "$T/postfix.log")" -gt "$r0" ]; do
	i=$((i + 1))
	[ $i -gt 100 ] && fatal "Postfix did not log its reload"
	sleep 0.1
done

echo "# moatd $MOATD; in netns $NS: nsd on $DNS_IP, Postfix on 127.0.0.1:$SMTP_PORT," \
    "sink on 127.0.0.1:$SINK_PORT; dir $T"

# --- helpers ----------------------------------------------------------------------

# mkmail NAME FROM [SIGN-DOMAIN]: T/msg/NAME.eml from FROM to
# NAME@example.test, Message-ID <NAME.PID@moat-auth.test> ($mid), signed
# by SIGN-DOMAIN (selector sel) when given
mkmail() {
	mid="<$1.$$@moat-auth.test>"
	cat >"$T/msg/$1.raw" <<EOF
From: $2
To: $1@example.test
Subject: auth end to end: $1
Date: $(date -R)
Message-ID: $mid
MIME-Version: 1.0
Content-Type: text/plain; charset=us-ascii

Hello from moat's auth end-to-end test ($1).
This line is covered by the body hash.
EOF
	if [ -n "${3:-}" ]; then
		perl "$HERE/dkimsign.pl" "$T/key.pem" "$3" sel <"$T/msg/$1.raw" >"$T/msg/$1.eml" \
		    2>"$T/msg/$1.err" || { why="dkimsign.pl: $(cat "$T/msg/$1.err")"; return 1; }
	else
		cp "$T/msg/$1.raw" "$T/msg/$1.eml"
	fi
}

# send NAME ADDR HELO MAILFROM: T/msg/NAME.eml to NAME@example.test from
# client ADDR, HELO name HELO; the reply in $reply, the milliseconds from
# MAIL FROM to the last reply in $ms, the queue id in $qid
send() {
	rm -f "$T/sent/$1.ms"
	reply=$(nsx python3 "$HERE/authtool.py" send --port "$SMTP_PORT" --addr "$2" --helo "$3" \
	    --from "$4" --to "$1@example.test" --timeout 30 --elapsed "$T/sent/$1.ms" "$T/msg/$1.eml" 2>&1)
	ms=$(cat "$T/sent/$1.ms" 2>/dev/null)
	qid=$(queue_id "$reply")
}

# logline QID: moatd's summary line for QID (5 s) in $line, its findings
# ("-" for none) in $findings
logline() {
	ll_n=0
	while :; do
		line=$(grep -F "moatd: $1: from=" "$T/moatd.log" | tail -n 1)
		[ -n "$line" ] && break
		ll_n=$((ll_n + 1))
		if [ $ll_n -gt 50 ]; then
			why="no summary line for queue id '$1' in moatd.log"
			return 1
		fi
		sleep 0.1
	done
	findings=$(printf '%s\n' "$line" | sed -n 's/.* findings=\([^ ]*\).*/\1/p')
}

# delivered NAME ADDR HELO MAILFROM: sent, 250, at the sink ($got), and
# moatd's line for it ($line, $findings)
delivered() {
	send "$@"
	expect_code 250 || return 1
	[ -n "$qid" ] || { why="no queue id in: $reply"; return 1; }
	arrived "$1@example.test" "$mid" || { why="250, but not delivered to the sink in $WAIT s"; return 1; }
	logline "$qid"
}

# ar CLAUSE...: $got has exactly one Authentication-Results of ours, with
# these clauses (authtool.py ar)
ar() {
	ar_out=$(python3 "$HERE/authtool.py" ar "$got" "$AUTHSERV" "$@") && return 0
	why=$ar_out
	return 1
}

# has_finding ID [HEADER]: ID in moatd's line for the message (and in its
# X-Moat-Findings header with HEADER = header)
has_finding() {
	case ",$findings," in
	*",$1,"*) ;;
	*) why="moatd logged findings=$findings, without $1"; return 1 ;;
	esac
	[ "${2:-}" = header ] || return 0
	xf=$(hdr "$got" X-Moat-Findings)
	case ",$(printf '%s' "$xf" | tr -d ' ')," in
	*",$1,"*) return 0 ;;
	esac
	why="X-Moat-Findings: '$xf' (expected $1 in it)"
	return 1
}

# no_auth_finding: no auth.* finding for the message
no_auth_finding() {
	case ",$findings," in
	*",auth."*) why="moatd logged findings=$findings"; return 1 ;;
	esac
	return 0
}

# --- checks -----------------------------------------------------------------------

# 0. the test bed: through the namespace's resolver, Mail::DKIM (not moat)
# finds the key nsd serves and verifies a signed message
t_bed() {
	mkmail bed alice@a.test a.test || return 1
	# shellcheck disable=SC2016
	r=$(nsx perl -MMail::DKIM::Verifier -e 'my $v = Mail::DKIM::Verifier->new;
my $m = do { local $/; <STDIN> }; $v->PRINT($m); $v->CLOSE; print $v->result_detail, "\n"' \
	    <"$T/msg/bed.eml" 2>&1)
	[ "$r" = pass ] || { why="Mail::DKIM::Verifier: $r"; return 1; }
}
check "test bed: Mail::DKIM verifies a signed message with the key nsd serves" t_bed

# 1. everything passes
t_pass() {
	mkmail pass alice@a.test a.test || return 1
	b=$(python3 "$HERE/authtool.py" dkim-b "$T/msg/pass.eml")
	delivered pass "$GOOD_IP" mx.a.test alice@a.test || return 1
	ar "spf=pass smtp.mailfrom=alice@a.test" "spf=pass smtp.helo=mx.a.test" \
	    "dkim=pass header.d=a.test header.s=sel header.a=rsa-sha256 header.b=$b" \
	    "dmarc=pass header.from=a.test" || return 1
	no_auth_finding || return 1
	v=$(hdr "$got" X-Moat-Verdict)
	[ -z "$v" ] || { why="X-Moat-Verdict: $v"; return 1; }
	# byte-identical apart from Authentication-Results (and Postfix's Received)
	d=$(python3 "$HERE/authtool.py" unchanged "$T/msg/pass.eml" "$got" "$AUTHSERV") ||
	    { why="changed beyond Authentication-Results: $d"; return 1; }
	hdr "$got" Authentication-Results | grep -i "^$AUTHSERV" | tr -s ' \t' ' ' | fold -w 100 | indent
}
check "a.test from $GOOD_IP, signed: spf=pass (mailfrom, helo), dkim=pass header.d=a.test, dmarc=pass; nothing else changed" t_pass

# 2. SPF fail: fail.test's -all, from a client it does not list
t_spf_fail() {
	mkmail spffail bob@fail.test fail.test || return 1
	delivered spffail "$BAD_IP" mail.outside.test bob@fail.test || return 1
	ar "spf=fail smtp.mailfrom=bob@fail.test" "spf=none smtp.helo=mail.outside.test" \
	    "dkim=pass header.d=fail.test" "dmarc=pass header.from=fail.test" || return 1
	has_finding auth.spf_fail
}
check "fail.test (-all) from $BAD_IP: spf=fail, auth.spf_fail" t_spf_fail

# 3. SPF softfail: soft.test's ~all
t_spf_softfail() {
	mkmail softfail carol@soft.test soft.test || return 1
	delivered softfail "$BAD_IP" mail.outside.test carol@soft.test || return 1
	ar "spf=softfail smtp.mailfrom=carol@soft.test" "dkim=pass header.d=soft.test" || return 1
	has_finding auth.spf_softfail
}
check "soft.test (~all) from $BAD_IP: spf=softfail, auth.spf_softfail" t_spf_softfail

# 4. DKIM fail: the body changed after signing (SPF still passes: DMARC too)
t_dkim_fail() {
	mkmail dkimfail alice@a.test a.test || return 1
	sed 's/^This line is covered by the body hash\./This line was changed after signing./' \
	    "$T/msg/dkimfail.eml" >"$T/msg/dkimfail.x" && mv "$T/msg/dkimfail.x" "$T/msg/dkimfail.eml"
	grep -q "changed after signing" "$T/msg/dkimfail.eml" || { why="cannot alter the body"; return 1; }
	delivered dkimfail "$GOOD_IP" mx.a.test alice@a.test || return 1
	ar "spf=pass smtp.mailfrom=alice@a.test" "dkim=fail header.d=a.test header.s=sel" \
	    "dmarc=pass header.from=a.test" || return 1
	has_finding auth.dkim_fail
}
check "a.test signed, body changed after signing: dkim=fail, auth.dkim_fail" t_dkim_fail

# 5. DMARC fail under p=reject: From strict.test, unsigned, MAIL FROM a.test
t_dmarc_reject() {
	mkmail dmarc ceo@strict.test || return 1
	delivered dmarc "$GOOD_IP" mx.a.test bounce@a.test || return 1
	ar "spf=pass smtp.mailfrom=bounce@a.test" "dkim=none" "dmarc=fail header.from=strict.test" ||
	    return 1
	has_finding auth.dmarc_reject header
}
check "From strict.test (p=reject), unsigned, MAIL FROM a.test: dmarc=fail, auth.dmarc_reject in X-Moat-Findings" \
    t_dmarc_reject

# 6. forged Authentication-Results: those claiming our authserv-id go
# (whatever their case, a comment before it), another's stays, ours is on top
t_forged() {
	mkmail forged alice@a.test a.test || return 1
	{
		printf 'Authentication-Results: %s; spf=pass smtp.mailfrom=forged@evil.test\r\n' "$AUTHSERV"
		printf 'Authentication-Results: other.example; spf=fail smtp.mailfrom=alice@a.test\r\n'
		printf 'Authentication-Results: (forged) MX.Moat.TEST;\r\n\tdkim=pass header.d=evil.test\r\n'
		cat "$T/msg/forged.eml"
	} >"$T/msg/forged.x" && mv "$T/msg/forged.x" "$T/msg/forged.eml"
	delivered forged "$GOOD_IP" mx.a.test alice@a.test || return 1
	ar "spf=pass smtp.mailfrom=alice@a.test" "dkim=pass header.d=a.test" "dmarc=pass" || return 1
	ids=$(python3 "$HERE/authtool.py" ar-ids "$got" | tr '[:upper:]' '[:lower:]' | tr '\n' ' ')
	[ "$ids" = "$AUTHSERV other.example " ] ||
	    { why="Authentication-Results authserv-ids, in order: $ids (expected: $AUTHSERV other.example)"; return 1; }
	if grep -q "evil\.test" "$got"; then
		why="a forged header is still there: $(grep "evil\.test" "$got")"
		return 1
	fi
}
check "forged Authentication-Results ($AUTHSERV, MX.Moat.TEST) removed, other.example kept, ours on top" t_forged

# 7. a look-alike of the protected example.test, authenticating perfectly
t_lookalike() {
	mkmail lookalike ceo@examp1e.test examp1e.test || return 1
	delivered lookalike "$GOOD_IP" mx.a.test ceo@examp1e.test || return 1
	ar "spf=pass smtp.mailfrom=ceo@examp1e.test" "dkim=pass header.d=examp1e.test" \
	    "dmarc=pass header.from=examp1e.test" || return 1
	has_finding auth.lookalike_domain header
}
check "From examp1e.test (protected: example.test): auth.lookalike_domain in X-Moat-Findings" t_lookalike

# 7b. the protected domain itself, passing DMARC, is never a look-alike
t_protected() {
	mkmail protected ceo@example.test example.test || return 1
	delivered protected "$GOOD_IP" mx.a.test ceo@example.test || return 1
	ar "spf=pass smtp.mailfrom=ceo@example.test" "dkim=pass header.d=example.test" \
	    "dmarc=pass header.from=example.test" || return 1
	no_auth_finding
}
check "From example.test itself (protected), DMARC pass: no auth finding" t_protected

# 8. [auth] dmarc_reject = yes: the DMARC fail of 5 is refused
t_dmarc_reject_yes() {
	write_conf "$T/moat-reject.conf" "dmarc_reject = yes"
	restart_moatd "$T/moat-reject.conf" || return 1
	mkmail dmarcyes ceo@strict.test || return 1
	send dmarcyes "$GOOD_IP" mx.a.test bounce@a.test
	expect_code 550 || return 1
	case $reply in
	"550 5.7.1"*) ;;
	*) why="550 without 5.7.1: $reply"; return 1 ;;
	esac
	echo "     $reply"
}
check "dmarc_reject = yes: the same DMARC fail gets 550 5.7.1" t_dmarc_reject_yes

# 9. a DNS server that does not answer: temperror, delivered, and the SMTP
# transaction ends within dns_budget_ms and a few seconds
t_dead_dns() {
	ip netns exec "$NS" timeout "$LIFETIME" python3 "$HERE/authtool.py" blackhole "$DEAD_IP" "$LIFETIME" \
	    >"$T/blackhole.log" 2>&1 &
	HOLE_PID=$!
	sleep 0.3
	kill -0 "$HOLE_PID" 2>/dev/null || { why="the silent DNS server did not start: $(cat "$T/blackhole.log")"; return 1; }
	resolver "$DEAD_IP"
	restart_moatd "$CONF" || return 1
	mkmail deaddns alice@a.test a.test || return 1
	delivered deaddns "$GOOD_IP" mx.a.test alice@a.test || return 1
	[ -n "$ms" ] || { why="no time measured"; return 1; }
	[ "$ms" -le $((BUDGET_MS + SLACK_MS)) ] ||
	    { why="the transaction took $ms ms (dns_budget_ms = $BUDGET_MS, + $SLACK_MS allowed)"; return 1; }
	ar "spf=temperror smtp.mailfrom=alice@a.test" || return 1
	has_finding auth.temperror || return 1
	# the lookups went to the silent server (not to nsd, not from a cache)
	asked=$(grep -c "no answer" "$T/blackhole.log")
	[ "$asked" -gt 0 ] || { why="the silent DNS server got no query"; return 1; }
	echo "     MAIL FROM to the reply to DATA: $ms ms (dns_budget_ms = $BUDGET_MS);" \
	    "$asked queries unanswered"
}
check "DNS server not answering: delivered, spf=temperror, auth.temperror, within dns_budget_ms + ${SLACK_MS} ms" \
    t_dead_dns

# 10. moatd stops cleanly; in the ASan build nothing is reported
t_stop() {
	n0=$(grep -c -F "moatd: stopped" "$T/moatd.log")
	stop_moatd
	[ "$stop_rc" = 0 ] || { why="moatd exited $stop_rc"; return 1; }
	[ "$(grep -c -F "moatd: stopped" "$T/moatd.log")" -gt "$n0" ] ||
		{ why="no new 'stopped' line in moatd.log"; return 1; }
	if grep -q "Sanitizer" "$T/moatd.log"; then
		why="$(grep -A12 "Sanitizer" "$T/moatd.log" | head -n 20)"
		return 1
	fi
	return 0
}
check "moatd stops on SIGTERM, no sanitizer report" t_stop

summary
[ "$FAILED" -eq 0 ]
