#!/usr/bin/env bash
# Debian's wrk, the load generator of the core benchmark (bench/lib.ts, decision 0017). Idempotent:
# does nothing when wrk already runs. Pinned to the version the benchmark was measured with; if
# Debian's archive no longer offers it, the candidate is installed with a warning.
# Prints wrk's path on its last line.
set -euo pipefail
PINNED="${TALLY_WRK_VERSION:-4.1.0-3+b2}"
# (wrk --version exits 1 after printing its version.)
if command -v wrk >/dev/null && { wrk --version 2>&1 || true; } | grep -q '^wrk '; then
  command -v wrk
  exit 0
fi
bash "$(dirname "$0")/apt-install-pinned.sh" wrk "$PINNED" || {
  echo "install-wrk: install wrk 4.1 and put it on PATH" >&2
  exit 1
}
command -v wrk
