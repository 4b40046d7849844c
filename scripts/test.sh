#!/usr/bin/env bash
# The whole suite, as the README's `npm test` runs it: type check, lint, then every test on
# SQLite and PostgreSQL. Ends with one plain line "tests: N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."
export TALLY_TEST_PG_ADMIN_URL="${TALLY_TEST_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
if [ -z "${TALLY_TEST_PG_ADMIN_URL_SET_BY_USER:-}" ]; then bash scripts/ensure-postgres.sh; fi

# A real btcd for the Bitcoin tests: pinned, built once into the user's Go bin (scripts/install-btcd.sh).
TALLY_TEST_BTCD="$(bash scripts/install-btcd.sh | tail -n 1)"
export TALLY_TEST_BTCD
# Debian's Chromium for the browser tests (test/web/): installed once, pinned (scripts/install-chromium.sh).
TALLY_CHROMIUM="$(bash scripts/install-chromium.sh | tail -n 1)"
export TALLY_CHROMIUM

echo "== type check"; npx tsc --noEmit
echo "== lint"; npx biome check .
echo "== tests"
mkdir -p .test-artifacts
status=0
npx vitest run --reporter=default --reporter=json --outputFile=.test-artifacts/vitest.json "$@" || status=$?
node -e '
  const r = JSON.parse(require("fs").readFileSync(".test-artifacts/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("no tests ran"); process.exit(1); }
' || status=1
exit "$status"
