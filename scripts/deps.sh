#!/bin/sh
# deps.sh - install every Debian package moat needs to build, test, demo and benchmark.
#
# Idempotent: asks dpkg first and runs apt-get only for what is missing
# (apt-get update only then). Installing must not start or expose services:
# Postfix's debconf question is preseeded to "No configuration" and a
# policy-rc.d that forbids every start is in place for the install, so
# clamav-freshclam, postfix and friends stay down.
set -eu

PKGS="
build-essential pkg-config make gcc clang libclang-rt-14-dev
libglib2.0-dev libgmime-3.0-dev libjson-glib-dev check
libmilter-dev libspf2-dev libopendkim-dev libopendmarc-dev libidn2-dev libyaml-dev publicsuffix
libclamav-dev clamav clamav-testfiles libarchive-dev zlib1g-dev libsqlite3-dev sqlite3
libpq-dev postgresql libmicrohttpd-dev libsodium-dev
libxml2-dev libytnef0-dev libssl-dev
postfix miltertest nsd iproute2 libmail-dkim-perl chromium python3-pil
zip unzip p7zip-full xorriso libarchive-tools unar
python3 python3-prometheus-client valgrind
man-db
"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = "installed" ] || missing="$missing $p"
done

if [ -z "$missing" ]; then
	echo "deps: all $(echo $PKGS | wc -w) packages present"
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing:$missing" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections

# Keep package scripts from starting daemons for the duration of the install.
prc=/usr/sbin/policy-rc.d
had_prc=0
if [ -e "$prc" ]; then
	had_prc=1
	cp -p "$prc" "$prc.moat-saved"
fi
restore() {
	if [ "$had_prc" -eq 1 ]; then mv -f "$prc.moat-saved" "$prc"; else rm -f "$prc"; fi
}
trap restore EXIT INT TERM
printf '#!/bin/sh\nexit 101\n' >"$prc"
chmod 755 "$prc"

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
echo "deps: done"
