#!/usr/bin/env bash
# A/B of two server builds on one stack: one redis-server (AOF, appendfsync always) with both
# servers on it, the Hub-scale data set loaded once through B (both follow every record), then
# maximum ingest into A and into B in turn, TURNS times: a ratio per turn, on the same data,
# Redis and machine. With QUERY_RATE, instead the report queries (1 client) against A and B
# in turn while each ingests QUERY_RATE events/s. A_FLAGS and B_FLAGS add server flags. Builds
# nothing: give both binaries (build the old one in a git worktree).
#
#   scripts/bench-ab.sh OLD_SERVER NEW_SERVER      results in OUT (out/bench-ab/), about 6 minutes
#   QUERY_RATE=250000 B_FLAGS="--workers 2" scripts/bench-ab.sh S S     one build, two flag sets
#   MODELS=200000 HISTORY_EVENTS=2000000 TURNS=1 scripts/bench-ab.sh A B      a quick look
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: scripts/bench-ab.sh SERVER_A SERVER_B" >&2; exit 2; }
MODELS=${MODELS:-2200000}
HISTORY_EVENTS=${HISTORY_EVENTS:-30000000}   # over 60 days, as scripts/bench.sh query
TURNS=${TURNS:-3}
DURATION=${DURATION:-20s}
QUERY_RATE=${QUERY_RATE:-}
BENCH=${BENCH:-build/client/bench/hubstats-bench}
out=${OUT:-out/bench-ab}
mkdir -p "$out"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_work hubstats-ab
start_aof_redis ab
declare -A port
for side in A B; do
  binary=$1
  shift
  port[$side]=$(free_port)
  flags_var=${side}_FLAGS
  # shellcheck disable=SC2086
  "$binary" ${!flags_var:-} --metrics-listen "" --listen "127.0.0.1:${port[$side]}" --store redis --redis "$redis_url" \
    --max-lateness-days any --retention-days forever >"$work/$side.log" 2>&1 &
  pids+=($!)
  until grep -q "read model loaded" "$work/$side.log" 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "server $side failed:" >&2; cat "$work/$side.log" >&2; exit 1; }
    sleep 0.2
  done
done
"$BENCH" catalog --target "127.0.0.1:${port[B]}" --models "$MODELS" --json >"$out/catalog.json"
"$BENCH" ingest --target "127.0.0.1:${port[B]}" --models "$MODELS" --days 60 \
  --events "$HISTORY_EVENTS" --pool-events 3000000 --json >"$out/history.json"
: >"$out/ingest.jsonl"
for turn in $(seq "$TURNS"); do
  for side in A B; do
    if [ -n "$QUERY_RATE" ]; then
      "$BENCH" query --target "127.0.0.1:${port[$side]}" --models "$MODELS" --concurrency 1 \
        --duration "$DURATION" --ingest-rate "$QUERY_RATE" --json
    else
      "$BENCH" ingest --target "127.0.0.1:${port[$side]}" --models "$MODELS" \
        --duration "$DURATION" --json
    fi | sed "s/^{/{\"side\":\"$side\",\"turn\":$turn,/" >>"$out/ingest.jsonl"
  done
done
/usr/bin/python3 - "$out/ingest.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
turns = sorted({r["turn"] for r in runs})
if "events_per_s" in runs[0]:
    figure = {(r["side"], r["turn"]): r["events_per_s"] for r in runs}
    unit = "events/s"
else:  # Queries: the worst p99 over the kinds, and the median p50.
    kinds = lambda r: [v for v in r.values() if isinstance(v, dict) and "p99_ms" in v]
    figure = {(r["side"], r["turn"]): max(k["p99_ms"] for k in kinds(r)) for r in runs}
    p50 = {(r["side"], r["turn"]): statistics.median(k["p50_ms"] for k in kinds(r)) for r in runs}
    unit = "ms p99 (worst kind)"
ratios = [figure["B", t] / figure["A", t] for t in turns]
for t, ratio in zip(turns, ratios):
    extra = f"  p50 A {p50['A', t]:.3f} B {p50['B', t]:.3f} ms" if unit != "events/s" else ""
    digits = 0 if unit == "events/s" else 2
    print(f"turn {t}: A {figure['A', t]:,.{digits}f}  B {figure['B', t]:,.{digits}f} {unit}  "
          f"B/A {ratio:.2f}{extra}")
print(f"median B/A {statistics.median(ratios):.2f}")
PY
