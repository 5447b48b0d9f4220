#!/usr/bin/env bash
# The scaling curve of docs/BENCHMARKS.md (issue 13): hubstats-bench ingest against one Redis
# Cluster of 1, 2 and 4 masters (no replicas; AOF with appendfsync always on every node), each
# on free loopback ports, RUNS times each. The baselines are single-Redis jobs: scripts/bench.sh
# measures them. Results (one JSON object per line) go to out/bench/cluster-*.json.
#
#   scripts/bench-cluster.sh                          1, 2 and 4 masters
#   MASTERS="1 4" RUNS=1 DURATION=10s scripts/bench-cluster.sh
set -euo pipefail
cd "$(dirname "$0")/.."
MASTERS=${MASTERS:-1 2 4}
MODELS=${MODELS:-200000}
DURATION=${DURATION:-20s}
RUNS=${RUNS:-3}
SHARDS=${SHARDS:-16}
scripts/install-deps.sh
TARGETS="hubstats-server hubstats-bench" scripts/build.sh

out=out/bench
mkdir -p "$out"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_work hubstats-cluster-bench
# A cluster node also listens on its port + 10000 (the cluster bus): both must be free.
free_node_port() {
  /usr/bin/python3 - <<'PY'
import random, socket
while True:
    port = random.randrange(20000, 55535)
    try:
        for p in (port, port + 10000):
            with socket.socket() as s:
                s.bind(("127.0.0.1", p))
    except OSError:
        continue
    print(port)
    break
PY
}
# Waits up to 30 s for `$@` to succeed.
wait_for() {
  local deadline=$((SECONDS + 30))
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "timed out waiting for: $*" >&2; exit 1; }
    sleep 0.1
  done
}
bench=build/client/bench/hubstats-bench

# Starts `$1` cluster-enabled redis-servers and gives each an equal range of the 16384 slots
# (redis-cli --cluster create needs 3 masters; 1 and 2 are built by hand the same way).
start_cluster() {
  local n=$1 ports=() i first last
  for i in $(seq "$n"); do
    local port dir
    port=$(free_node_port)
    dir="$work/cluster$n-node$i"
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --cluster-enabled yes \
      --cluster-config-file nodes.conf --save "" --appendonly yes --appendfsync always \
      >"$dir/redis.log" 2>&1 &
    pids+=($!)
    wait_for redis-cli -p "$port" ping
    ports+=("$port")
  done
  for i in "${!ports[@]}"; do
    first=$((16384 * i / n))
    last=$((16384 * (i + 1) / n - 1))
    redis-cli -p "${ports[$i]}" cluster addslotsrange "$first" "$last" >/dev/null
    [ "$i" -eq 0 ] || redis-cli -p "${ports[$i]}" cluster meet 127.0.0.1 "${ports[0]}" >/dev/null
  done
  for port in "${ports[@]}"; do
    wait_for sh -c "redis-cli -p $port cluster info | grep -q cluster_state:ok"
  done
  node_ports=("${ports[@]}")
  seeds=$(printf '127.0.0.1:%s,' "${ports[@]}")
  seeds=${seeds%,}
}

# CPU seconds (user + sys) each node has used so far, space-separated.
redis_cpu() {
  local port
  for port in "${node_ports[@]}"; do
    redis-cli -p "$port" info cpu | tr -d '\r' \
      | awk -F: '/^used_cpu_(sys|user):/ {s += $2} END {printf "%.3f ", s}'
  done
}

for n in $MASTERS; do
  start_cluster "$n"
  server_port=$(free_port)
  build/service/hubstats-server --listen "127.0.0.1:$server_port" --store redis \
    --redis-cluster "$seeds" --shards "$SHARDS" --max-lateness-days any --retention-days forever \
    >"$work/server-$n.log" 2>&1 &
  pids+=($!)
  wait_for grep -q "listening on port" "$work/server-$n.log"
  target="127.0.0.1:$server_port"
  "$bench" catalog --target "$target" --models "$MODELS" --json >/dev/null
  : >"$out/cluster-$n.json"
  : >"$out/cluster-$n-cpu.txt"
  for run in $(seq "$RUNS"); do
    before=$(redis_cpu)
    "$bench" ingest --target "$target" --models "$MODELS" --duration "$DURATION" --json \
      | tee -a "$out/cluster-$n.json"
    echo "$before| $(redis_cpu)" >>"$out/cluster-$n-cpu.txt"
  done
  stop_pids
done

/usr/bin/python3 - "$out" $MASTERS <<'PY'
import json, statistics, sys
out, masters = sys.argv[1], sys.argv[2:]
print("| masters | events/s (median) | runs | Redis CPU per event, all nodes (median) "
      "| busiest node busy (median) | ack p99 ms | lag p99 ms |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for n in masters:
    runs = [json.loads(line) for line in open(f"{out}/cluster-{n}.json")]
    cpu = []
    for line in open(f"{out}/cluster-{n}-cpu.txt"):
        before, after = (list(map(float, half.split())) for half in line.split("|"))
        cpu.append([b - a for a, b in zip(before, after)])
    rates = [r["events_per_s"] for r in runs]
    per_event = [sum(c) / r["events"] * 1e6 for c, r in zip(cpu, runs)]
    busiest = [max(c) / r["seconds"] * 100 for c, r in zip(cpu, runs)]
    print(f"| {n} | {statistics.median(rates):,.0f} | {', '.join(f'{v:,.0f}' for v in rates)} "
          f"| {statistics.median(per_event):.2f} µs | {statistics.median(busiest):.0f}% "
          f"| {statistics.median(r['ack_p99_ms'] for r in runs):.1f} "
          f"| {statistics.median(r.get('lag_p99_ms', 0) for r in runs):.1f} |")
PY
