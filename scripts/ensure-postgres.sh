#!/usr/bin/env bash
# Makes sure a PostgreSQL server answers on 127.0.0.1:5432 for the repository tests.
# Idempotent: does nothing when it already runs; starts the local cluster when it does not;
# fails loudly (never skips) when no server can be had.
set -euo pipefail
PGHOST=127.0.0.1
PGPORT=5432
ready() { pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; }
if ready; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  for version in $(ls /etc/postgresql); do
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null || true
  done
  for _ in $(seq 1 30); do ready && exit 0; sleep 1; done
fi
echo "ensure-postgres: no PostgreSQL server on $PGHOST:$PGPORT and none could be started." >&2
echo "Install one (apt-get install postgresql) or set TALLY_TEST_PG_ADMIN_URL to a reachable server." >&2
exit 1
