#!/usr/bin/env bash
# The main job: installs what is missing, builds hubstats, starts a local redis-server and the
# service on free loopback ports, loads the real Hub snapshot (data/) and a synthetic hub
# calibrated to the report, prints the report's table beside what the service answers, writes
# the charts to out/ and stops everything it started (also on Ctrl-C).
#
#   scripts/demo.sh                 default size, about a minute
#   scripts/demo.sh --hub-scale     2.2M models (several minutes)
#   scripts/demo.sh --help          all options
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
TARGETS="hubstats-server hubstats" scripts/build.sh
PYTHONPATH=client/python exec /usr/bin/python3 -m hubstats.demo \
  --server-bin build/service/hubstats-server --out out "$@"
