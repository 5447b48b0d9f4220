#!/usr/bin/env bash
# A/B of two server builds on one stack: one redis-server (AOF, appendfsync always) with both
# servers on it, the Hub-scale data set loaded once through B (both follow every record), then
# maximum ingest into A and into B in turn, TURNS times: a ratio per turn, on the same data,
# Redis and machine. With QUERY_RATE, instead the report queries (1 client) against A and B
# in turn while each ingests QUERY_RATE events/s. A_FLAGS and B_FLAGS add server flags. Each
# turn also reports how long the side's read model held its lock exclusively (the
# hubstats_read_model_write_hold_seconds histogram, scraped before and after: p99 and the share
# of the turn; "-" for a build without it). Builds nothing: give both binaries (build the old
# one in a git worktree).
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
declare -A port metrics
scrape() {  # $1: side, $2: file
  /usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())' \
    "http://127.0.0.1:${metrics[$1]}/metrics" >"$2" 2>"$2.err" || {
    alive "$1" 1
    echo "scraping server $1's metrics failed: $(tail -n 1 "$2.err")" >&2
    exit 1
  }
  rm -f "$2.err"
}
declare -A pid
alive() {  # $1: side, $2: seconds to give it to end after a failure; if it ended, stop with its log
  [ -z "${2:-}" ] || sleep "$2"
  kill -0 "${pid[$1]}" 2>/dev/null && return
  wait "${pid[$1]}" && status=0 || status=$?
  echo "server $1 ended (exit status $status); its log:" >&2
  tail -n 40 "$work/$1.log" >&2
  exit 1
}
for side in A B; do
  binary=$1
  shift
  port[$side]=$(free_port)
  flags_var=${side}_FLAGS
  # shellcheck disable=SC2086
  "$binary" ${!flags_var:-} --metrics-listen 127.0.0.1:0 --listen "127.0.0.1:${port[$side]}" --store redis --redis "$redis_url" \
    --max-lateness-days any --retention-days forever >"$work/$side.log" 2>&1 &
  pids+=($!)
  pid[$side]=$!
  until grep -q "read model loaded" "$work/$side.log" 2>/dev/null; do
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "server $side failed:" >&2; cat "$work/$side.log" >&2; exit 1; }
    sleep 0.2
  done
  metrics[$side]=$(grep -o "metrics on [^ ]* (port [0-9]*" "$work/$side.log" | grep -o "[0-9]*$")
done
"$BENCH" catalog --target "127.0.0.1:${port[B]}" --models "$MODELS" --json >"$out/catalog.json"
"$BENCH" ingest --target "127.0.0.1:${port[B]}" --models "$MODELS" --days 60 \
  --events "$HISTORY_EVENTS" --pool-events 3000000 --json >"$out/history.json"
alive A
alive B
: >"$out/ingest.jsonl"
for turn in $(seq "$TURNS"); do
  for side in A B; do
    scrape "$side" "$out/$side-$turn.before.prom"
    if [ -n "$QUERY_RATE" ]; then
      "$BENCH" query --target "127.0.0.1:${port[$side]}" --models "$MODELS" --concurrency 1 \
        --duration "$DURATION" --ingest-rate "$QUERY_RATE" --json
    else
      "$BENCH" ingest --target "127.0.0.1:${port[$side]}" --models "$MODELS" \
        --duration "$DURATION" --json
    fi | sed "s/^{/{\"side\":\"$side\",\"turn\":$turn,/" >>"$out/ingest.jsonl" || {
      alive "$side" 1
      echo "the bench failed against server $side (turn $turn)" >&2
      exit 1
    }
    alive "$side"
    scrape "$side" "$out/$side-$turn.after.prom"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import importlib.util, json, os, statistics, sys
spec = importlib.util.spec_from_file_location("profile", "scripts/bench-query-profile.py")
prom = importlib.util.module_from_spec(spec)
spec.loader.exec_module(prom)
out = sys.argv[1]
runs = [json.loads(line) for line in open(os.path.join(out, "ingest.jsonl"))]


def holds(side, turn):
    """The side's exclusive lock holds in the turn: 'p99 X ms, Y% held', or '-'."""
    paths = [os.path.join(out, f"{side}-{turn}.{when}.prom") for when in ("before", "after")]
    before, after = (prom.read_prom(path) for path in paths)
    seconds = os.path.getmtime(paths[1]) - os.path.getmtime(paths[0])  # The scrapes' times.
    name = "hubstats_read_model_write_hold_seconds"
    buckets = prom.delta_histogram(before, after, name)
    if not buckets or not buckets[max(buckets)]:
        return "-"
    p99 = prom.histogram_quantile(buckets, 0.99)[0]
    held = prom.delta(before, after, name + "_sum") / seconds
    return f"p99 {p99 * 1000:.2f} ms, {held:.1%} held"

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
    print(f"  write holds: A {holds('A', t)}; B {holds('B', t)}")
print(f"median B/A {statistics.median(ratios):.2f}")
PY
