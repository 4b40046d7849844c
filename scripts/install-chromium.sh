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
bash "$(dirname "$0")/apt-install-pinned.sh" chromium "$PINNED" || {
  echo "install-chromium: install Chromium and set TALLY_CHROMIUM=/path/to/chromium" >&2
  exit 1
}
/usr/bin/chromium --version >&2
echo /usr/bin/chromium
