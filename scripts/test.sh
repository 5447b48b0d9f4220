#!/usr/bin/env bash
# Runs every test: C++ unit tests, store tests on a real redis-server, end-to-end tests over real
# gRPC, the CLI end to end, and the Python and Node clients against live servers. Every server a
# test needs is started by the test itself on a free loopback port.
#
#   scripts/test.sh              everything
#   scripts/test.sh -L unit      only tests labelled unit (ctest arguments pass through)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
if [ -f client/node/package-lock.json ] && [ ! -d client/node/node_modules ]; then
  (cd client/node && npm ci --no-audit --no-fund --loglevel=error)
fi
ctest --test-dir "${BUILD_DIR:-build}" --output-on-failure -j "${JOBS:-2}" "$@"
