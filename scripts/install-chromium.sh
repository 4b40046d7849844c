#!/usr/bin/env bash
# Debian's Chromium for the browser tests (test/web/), driven by playwright-core. Idempotent: does
# nothing when /usr/bin/chromium already runs. Pinned to the version the tests were written against;
# Debian's archive keeps only its current security build, so when that exact version is gone the
# candidate is installed with a warning rather than failing a fresh machine.
# Prints the browser's path on its last line.
set -euo pipefail
PINNED="${TALLY_CHROMIUM_VERSION:-156.0.8078.79-1~deb12u1}"
if [ -x /usr/bin/chromium ] && /usr/bin/chromium --version >/dev/null 2>&1; then
  echo /usr/bin/chromium
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-chromium: apt-get not found; install Chromium and set TALLY_CHROMIUM=/path/to/chromium" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "install-chromium: installing Debian chromium (once)..." >&2
$SUDO apt-get update -qq >&2
if apt-cache madison chromium | grep -qF "$PINNED"; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "chromium=$PINNED" >&2
else
  echo "install-chromium: pinned $PINNED not offered; installing the archive's candidate" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >&2
fi
/usr/bin/chromium --version >&2
echo /usr/bin/chromium
