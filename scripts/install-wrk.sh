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
if ! command -v apt-get >/dev/null; then
  echo "install-wrk: apt-get not found; install wrk 4.1 and put it on PATH" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "install-wrk: installing Debian wrk (once)..." >&2
$SUDO apt-get update -qq >&2
if apt-cache madison wrk | grep -qF "$PINNED"; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "wrk=$PINNED" >&2
else
  echo "install-wrk: pinned $PINNED not offered; installing the archive's candidate" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >&2
fi
command -v wrk
