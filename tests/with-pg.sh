#!/bin/sh
# tests/with-pg.sh CMD [ARGS...] - run CMD with a private PostgreSQL cluster
#
# Starts a throw-away cluster (tests/pg.sh, unix socket only, as user
# nobody) in a temp dir, runs CMD with MOAT_TEST_PG set to its libpq
# conninfo, stops the cluster and removes the dir, and exits with CMD's
# status. Without root or PostgreSQL's binaries CMD runs without
# MOAT_TEST_PG: the tests that need the database say they are skipped.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

if [ "$(id -u)" != 0 ] || [ -z "$PGBIN" ] || [ ! -x "$PGBIN/initdb" ]; then
	echo "with-pg: no PostgreSQL here (needs root and the postgresql package): running without" >&2
	exec "$@"
fi
D=$(mktemp -d /tmp/moat-pg.XXXXXX) || exit 1
cleanup() {
	sh "$HERE/pg.sh" stop "$D" >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if ! MOAT_TEST_PG=$(sh "$HERE/pg.sh" start "$D"); then
	echo "with-pg: the private PostgreSQL cluster did not start" >&2
	exit 1
fi
export MOAT_TEST_PG
"$@"
