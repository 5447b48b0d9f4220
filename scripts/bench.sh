#!/usr/bin/env bash
# Reproduces docs/BENCHMARKS.md: starts a redis-server (AOF, appendfsync always: acknowledged
# means on disk) and hubstats-server on free loopback ports, loads the synthetic hub's catalog,
# and measures ingest against both direct-to-Redis baselines (direct-redis, diy-coalesce; RUNS
# times, for medians), then on a Hub-scale data set (60 days): Redis memory, a second replica's
# start, query latency idle and while ingest runs at half the measured rate, and the freshness
# lag from ack to answer. Results (one JSON object per line) go to out/bench/.
#
#   scripts/bench.sh              everything (about 25 minutes)
#   scripts/bench.sh ingest       ingest and baseline only
#   scripts/bench.sh trend        trend latency on a year of days (TREND_EVENTS over 365 days)
#   MODELS=200000 DURATION=20s RUNS=1 scripts/bench.sh ingest     a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
MODELS=${MODELS:-2200000}
DURATION=${DURATION:-60s}
RUNS=${RUNS:-3}
HISTORY_EVENTS=${HISTORY_EVENTS:-30000000}   # spread over 60 days for the query benchmark
TREND_EVENTS=${TREND_EVENTS:-30000000}       # spread over 365 days for the trend benchmark
scripts/install-deps.sh
TARGETS="hubstats-server hubstats-bench hubstats_ingest_benchmark" scripts/build.sh

out=out/bench
mkdir -p "$out"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_work hubstats-bench
bench=build/client/bench/hubstats-bench

start_stack() {  # $1: name
  start_aof_redis "$1"
  start_server "$1" "$redis_url"
  server_pid=$started_pid
  target="127.0.0.1:$started_port"
}

start_server() {  # $1: name, $2: Redis URL; sets started_pid and started_port
  started_port=$(free_port)
  # The workload's events span past days: a backfill, so any day counts.
  build/service/hubstats-server --listen "127.0.0.1:$started_port" --store redis \
    --redis "$2" --max-lateness-days any --retention-days forever >"$work/$1-server.log" 2>&1 &
  pids+=($!)
  started_pid=$!
  until grep -q "listening on port" "$work/$1-server.log"; do sleep 0.1; done
}

{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
} | tee "$out/machine.txt"

build/service/grpc/hubstats_ingest_benchmark --benchmark_format=json >"$out/microbenchmarks.json"
echo "microbenchmarks: $out/microbenchmarks.json"

if [ "$what" = all ] || [ "$what" = ingest ]; then
  start_stack ingest
  "$bench" catalog --target "$target" --models "$MODELS" --json | tee "$out/catalog.json"
  : >"$out/ingest.json"
  for run in $(seq "$RUNS"); do
    "$bench" ingest --target "$target" --models "$MODELS" --duration "$DURATION" \
      --server-pid "$server_pid" --redis "$redis_url" --baseline direct-redis,diy-coalesce --json \
      | tee -a "$out/ingest.json"
  done
  /usr/bin/python3 - "$out/ingest.json" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
for run in runs:
    for name, baseline in run.get("baselines", {}).items():
        run[f"{name}_events_per_s"], run[f"{name}_ratio"] = baseline["events_per_s"], baseline["ratio"]
for key in ("events_per_s", "direct-redis_events_per_s", "direct-redis_ratio",
            "diy-coalesce_events_per_s", "diy-coalesce_ratio", "ack_p50_ms", "ack_p99_ms",
            "lag_p50_ms", "lag_p99_ms", "server_peak_rss_mib"):
    values = [run[key] for run in runs if key in run]
    if values:
        print(f"median {key}: {statistics.median(values):.2f}  (runs: {', '.join(f'{v:.2f}' for v in values)})")
PY
fi

if [ "$what" = all ] || [ "$what" = query ]; then
  start_stack query
  "$bench" catalog --target "$target" --models "$MODELS" --json >"$out/query-catalog.json"
  "$bench" ingest --target "$target" --models "$MODELS" --days 60 --events "$HISTORY_EVENTS" \
    --pool-events 3000000 --redis "$redis_url" --server-pid "$server_pid" --json \
    | tee "$out/history.json"
  redis-cli -u "$redis_url" info memory | grep -E '^used_memory:' | tee "$out/history-memory.txt"
  # A second replica starting against the loaded Redis: the time until it serves (its log says
  # when the read model was loaded; health is NOT_SERVING until then), and its memory.
  start_server replica "$redis_url"
  replica_pid=$started_pid
  replica_port=$started_port
  until grep -q "read model loaded" "$work/replica-server.log"; do sleep 0.1; done
  grep -o "read model loaded in [^,]*" "$work/replica-server.log" | tee "$out/replica-start.txt"
  echo "replica RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$replica_pid/status")" \
    | tee -a "$out/replica-start.txt"
  "$bench" query --target "$target" --models "$MODELS" --concurrency 1 --duration 30s --json \
    | tee "$out/query-idle-1.json"
  # Size classes off the 1-2-5 grid (7B, 13B, 70B, twelve odd boundaries) and a parameter-range
  # top-50: as fast as the report's grid?
  "$bench" query --target "$target" --models "$MODELS" --concurrency 1 --duration 30s \
    --queries sizes --json | tee "$out/query-sizes-idle-1.json"
  # "Half its maximum": the maximum measured on this data set, then half of it.
  "$bench" ingest --target "$target" --models "$MODELS" --duration 20s --json | tee "$out/query-max-ingest.json"
  half=$(/usr/bin/python3 -c "import json; print(int(json.load(open('$out/query-max-ingest.json'))['events_per_s'] / 2))")
  # The freshness probe asks the other replica: how long an ack takes to show there.
  "$bench" query --target "$target" --models "$MODELS" --concurrency 1 --duration 30s \
    --ingest-rate "$half" --lag-target "127.0.0.1:$replica_port" --json \
    | tee "$out/query-under-ingest-1.json"
  "$bench" query --target "$target" --models "$MODELS" --concurrency 8 --duration 30s \
    --ingest-rate "$half" --json | tee "$out/query.json"
  "$bench" query --target "$target" --models "$MODELS" --concurrency 8 --duration 30s --json \
    | tee "$out/query-idle.json"
fi

if [ "$what" = all ] || [ "$what" = trend ]; then
  # A year of days at Hub scale: 12 months by month and 365 days by day (modality, size and the
  # top-50 organisations' share), idle and while ingest runs at about half the query data set's
  # maximum.
  start_stack trend
  "$bench" catalog --target "$target" --models "$MODELS" --json >"$out/trend-catalog.json"
  "$bench" ingest --target "$target" --models "$MODELS" --days 365 --events "$TREND_EVENTS" \
    --pool-events 3000000 --redis "$redis_url" --server-pid "$server_pid" --json \
    | tee "$out/trend-history.json"
  "$bench" query --target "$target" --models "$MODELS" --concurrency 1 --duration 30s \
    --queries trend --json | tee "$out/trend-idle-1.json"
  "$bench" query --target "$target" --models "$MODELS" --concurrency 1 --duration 30s \
    --queries trend --ingest-rate 30000 --json | tee "$out/trend-under-ingest-1.json"
  echo "server RSS: $(awk '/VmRSS/ {print $2, $3}' "/proc/$server_pid/status")" \
    | tee "$out/trend-rss.txt"
fi
