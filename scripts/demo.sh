#!/usr/bin/env bash
# The main job: builds hubstats, starts a local redis-server and the service on free loopback
# ports, loads the real Hub snapshot (data/) through the CLI, prints the headline answers and
# stops everything it started (also on Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
TARGETS="hubstats-server hubstats" scripts/build.sh

work=$(mktemp -d -t hubstats-demo-XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no --dir "$work" \
  >"$work/redis.log" 2>&1 &
pids+=($!)
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done

build/service/hubstats-server --listen 127.0.0.1:0 --store redis \
  --redis "redis://127.0.0.1:$redis_port" >"$work/server.out" 2>"$work/server.log" &
pids+=($!)
until grep -q "listening on port" "$work/server.out" 2>/dev/null; do sleep 0.1; done
target="127.0.0.1:$(awk '{print $4}' "$work/server.out")"
hubstats() { build/client/cli/hubstats --target "$target" "$@"; }
echo "service on $target (redis on 127.0.0.1:$redis_port)"

# The snapshot holds 30-day downloads per model as of 2024-09-20: one event per model.
/usr/bin/python3 - data/hf_models_top10k_2024-09.csv >"$work/events.jsonl" <<'PY'
import csv, json, sys
for row in csv.DictReader(open(sys.argv[1], newline="")):
    print(json.dumps({"model_id": row["modelId"], "count": int(row["downloads"]),
                      "timestamp": "2024-09-20T00:00:00Z"}))
PY
hubstats catalog data/hf_models_top10k_2024-09.csv
hubstats ingest "$work/events.jsonl"
echo
hubstats modality
echo
hubstats top --n 10
echo
hubstats top --by author --n 10
echo
hubstats breakdown --by task
echo
hubstats sizes
