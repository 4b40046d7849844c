#!/usr/bin/env bash
# Installs the pinned btcd (a real Bitcoin node, regtest in tests) into the user's Go bin with
# `go install`, from the Go module proxy. Idempotent: does nothing when that version is there.
# Prints the binary's path on its last line.
set -euo pipefail
VERSION=0.24.2
BIN="$(go env GOPATH)/bin/btcd"
if [ -x "$BIN" ] && "$BIN" --version 2>/dev/null | grep -q "version ${VERSION}"; then
  echo "$BIN"
  exit 0
fi
echo "install-btcd: go install github.com/btcsuite/btcd@v${VERSION} (about a minute, once)" >&2
GOFLAGS=-mod=mod go install "github.com/btcsuite/btcd@v${VERSION}" >&2
"$BIN" --version >&2
echo "$BIN"
