#!/usr/bin/env bash
# Installs a Debian package at a pinned version with apt-get. Debian's archive keeps only a
# package's current build, so when the pinned version is gone the candidate is installed with a
# warning rather than failing a fresh machine. Used by install-chromium.sh and install-wrk.sh.
# Usage: apt-install-pinned.sh PACKAGE VERSION
set -euo pipefail
PACKAGE="$1"
PINNED="$2"
if ! command -v apt-get >/dev/null; then
  echo "apt-install-pinned: apt-get not found; cannot install $PACKAGE $PINNED" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "apt-install-pinned: installing Debian $PACKAGE (once)..." >&2
$SUDO apt-get update -qq >&2
# grep without -q reads to the end: an early exit could fail apt-cache with SIGPIPE under pipefail.
if apt-cache madison "$PACKAGE" | grep -F "$PINNED" >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$PACKAGE=$PINNED" >&2
else
  echo "apt-install-pinned: pinned $PACKAGE $PINNED not offered; installing the archive's candidate" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$PACKAGE" >&2
fi
