#!/usr/bin/env bash
# Where a query's time goes (docs/BENCHMARKS.md, "Where the query tail goes"): the client's
# latency (hubstats-bench query) against the server's own handling time
# (hubstats_grpc_server_handling_seconds, scraped before and after each run), the time the
# server process holds each call as seen on the loopback wire (tcpdump), the scheduling delay
# of every thread (perf sched) and a CPU profile of every process (perf record -a), idle and
# while ingest runs at half its measured maximum. Same stack and data set as scripts/bench.sh
# (redis-server with AOF appendfsync always, a second replica as the freshness probe's target,
# 2.2M models and 60 days of history). Needs perf (Debian: linux-perf) and tcpdump, as root.
# Builds nothing: give the binaries.
#
#   SERVER=build/service/hubstats-server BENCH=build/client/bench/hubstats-bench \
#     scripts/bench-query-profile.sh          about 45 minutes on 2 cores; results in OUT
#                                             (out/query-profile/)
#   MODELS=200000 HISTORY_EVENTS=2000000 RUNS=1 scripts/bench-query-profile.sh    a quick look
#   STEPS="runs threads" scripts/bench-query-profile.sh       some of the steps (default: all)
#
# The summary (what docs/BENCHMARKS.md quotes) is out/query-profile/summary.txt, written by
# scripts/bench-query-profile.py; rerun that alone to re-read the files.
set -euo pipefail
cd "$(dirname "$0")/.."
SERVER=${SERVER:-build/service/hubstats-server}
BENCH=${BENCH:-build/client/bench/hubstats-bench}
MODELS=${MODELS:-2200000}
HISTORY_EVENTS=${HISTORY_EVENTS:-30000000}   # spread over 60 days, as scripts/bench.sh
RUNS=${RUNS:-3}                               # clean runs (no capture, no perf) of each load
QUERY_DURATION=${QUERY_DURATION:-30}         # seconds
STEPS=${STEPS:-runs wire profile lock variants threads}
PROFILE_SECONDS=${PROFILE_SECONDS:-20}
SCHED_SECONDS=${SCHED_SECONDS:-8}
LOCK_SECONDS=${LOCK_SECONDS:-20}
OUT=${OUT:-out/query-profile}
for tool in perf tcpdump redis-server; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

mkdir -p "$OUT"
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_work hubstats-qprof
step() { [[ " $STEPS " == *" $1 "* ]]; }
log() { echo "# $(date -u +%T) $*" | tee -a "$OUT/log.txt"; }
# What else runs on the machine (the cores are shared): load and the busiest processes.
others() {
  { echo "== $1"; top -b -n 2 -d 1 -w 120 | awk '/^top -/ {n++} n == 2' | sed -n '1p;7,16p'; } \
    >>"$OUT/others.txt"
}

# Starts a server on a free port; sets started_pid, started_port and started_metrics.
start_server() {  # $1: name, $2: Redis URL, then more server flags
  started_port=$(free_port)
  # The workload's events span past days: a backfill, so any day counts.
  "$SERVER" --listen "127.0.0.1:$started_port" --store redis --redis "$2" \
    --metrics-listen 127.0.0.1:0 --max-lateness-days any --retention-days forever "${@:3}" >"$work/$1-server.log" 2>&1 &
  pids+=($!)
  started_pid=$!
  until grep -q "listening on port" "$work/$1-server.log"; do sleep 0.1; done
  started_metrics=$(grep -o "metrics on [^ ]* (port [0-9]*" "$work/$1-server.log" | grep -o "[0-9]*$")
}
scrape() { curl -sf "http://127.0.0.1:$metrics_port/metrics" >"$1"; }

{
  echo "# $(date -u +%FT%TZ) $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
  echo "# $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
  echo "# server $SERVER, bench $BENCH, models $MODELS, history events $HISTORY_EVENTS"
} | tee "$OUT/machine.txt"
: >"$OUT/log.txt"
: >"$OUT/others.txt"

start_aof_redis query
start_server query "$redis_url"
server_pid=$started_pid
server_port=$started_port
metrics_port=$started_metrics
server_metrics=$started_metrics
target="127.0.0.1:$server_port"

log "loading the catalog and $HISTORY_EVENTS events over 60 days"
"$BENCH" catalog --target "$target" --models "$MODELS" --json >"$OUT/catalog.json"
"$BENCH" ingest --target "$target" --models "$MODELS" --days 60 --events "$HISTORY_EVENTS" \
  --pool-events 3000000 --redis "$redis_url" --server-pid "$server_pid" --json \
  | tee "$OUT/history.json"
# The freshness probe's target, as in scripts/bench.sh: a second replica following the log.
start_server replica "$redis_url"
replica_pid=$started_pid
replica_port=$started_port
replica_metrics=$started_metrics
until grep -q "read model loaded" "$work/replica-server.log"; do sleep 0.1; done
log "ingest at full rate for 20 s (the maximum; queries run at half of it)"
"$BENCH" ingest --target "$target" --models "$MODELS" --duration 20s --json >"$OUT/max-ingest.json"
half=$(/usr/bin/python3 -c "import json; print(int(json.load(open('$OUT/max-ingest.json'))['events_per_s'] / 2))")
echo "server $server_pid port $server_port metrics $metrics_port; replica $replica_pid;" \
  "redis $redis_pid; half rate $half" | tee "$OUT/stack.txt"

query_args() {  # $1: load (idle or ingest), $2: duration; sets args, the bench's arguments
  args=(query --target "$target" --models "$MODELS" --concurrency 1 --duration "$2" --json)
  if [ "$1" = ingest ]; then
    args+=(--ingest-rate "$half" --lag-target "127.0.0.1:$replica_port")
  fi
}
query() {  # $1: load, $2: duration
  query_args "$1" "$2"
  "$BENCH" "${args[@]}"
}

# 1. Client against server, RUNS times each, nothing else attached.
step runs && for run in $(seq "$RUNS"); do
  for load in idle ingest; do
    name="run$run-$load"
    log "$name: client latency and the server's histogram"
    others "$name"
    scrape "$OUT/$name.before.prom"
    query "$load" "${QUERY_DURATION}s" >"$OUT/$name.json"
    scrape "$OUT/$name.after.prom"
  done
done

# 2. The same with the loopback wire captured: how long the server process holds each call.
step wire && for load in idle ingest; do
  name="wire-$load"
  log "$name: the same, with tcpdump on the server's port"
  others "$name"
  tcpdump -i lo -s 0 -B 65536 -w "$OUT/$name.pcap" "tcp port $server_port" \
    2>"$OUT/$name.tcpdump.log" &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  until grep -q "listening on" "$OUT/$name.tcpdump.log"; do sleep 0.1; done
  scrape "$OUT/$name.before.prom"
  query "$load" "${QUERY_DURATION}s" >"$OUT/$name.json"
  scrape "$OUT/$name.after.prom"
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
done

# 3. Profiles: every process's CPU (perf record -a, DWARF call chains), then every thread's
# scheduling delay (perf sched), while the query run goes on.
step profile && for load in idle ingest; do
  name="profile-$load"
  log "$name: perf record -a for $PROFILE_SECONDS s, perf sched for $SCHED_SECONDS s"
  others "$name"
  scrape "$OUT/$name.before.prom"
  query_args "$load" "$((PROFILE_SECONDS + SCHED_SECONDS + 12))s"
  "$BENCH" "${args[@]}" >"$OUT/$name.json" &
  bench_pid=$!
  sleep 5
  perf record -a -F 299 --call-graph dwarf,8192 -o "$OUT/$name.perf.data" \
    -- sleep "$PROFILE_SECONDS" 2>>"$OUT/log.txt"
  perf sched record -a -o "$OUT/$name.sched.data" -- sleep "$SCHED_SECONDS" 2>>"$OUT/log.txt"
  wait "$bench_pid"
  scrape "$OUT/$name.after.prom"
  # What the brief of this measurement asked for, as perf prints it.
  roles="server:$server_pid bench:$bench_pid replica:$replica_pid redis:$redis_pid"
  echo "$name: $roles" >>"$OUT/stack.txt"
  for role in server:$server_pid bench:$bench_pid; do
    perf report -i "$OUT/$name.perf.data" --pid "${role#*:}" --no-children --percent-limit 2 \
      --stdio 2>/dev/null | head -80 >"$OUT/$name.report-${role%%:*}.txt" || true
  done
  perf report -i "$OUT/$name.perf.data" --sort pid --stdio -g none 2>/dev/null \
    | grep -v '^#' | grep -v '^$' | head -20 >"$OUT/$name.by-process.txt" || true
  perf script -i "$OUT/$name.perf.data" -F pid,tid,comm,ip,sym,dso 2>/dev/null \
    | gzip >"$OUT/$name.script.gz"
  for role in $roles; do
    perf sched timehist -i "$OUT/$name.sched.data" --pid "${role#*:}" 2>/dev/null \
      | gzip >"$OUT/$name.timehist-${role%%:*}.gz"
  done
  perf sched timehist -i "$OUT/$name.sched.data" 2>/dev/null | gzip >"$OUT/$name.timehist-all.gz"
done

# 4. How long the follower holds the read model's writer lock, and whether the slow calls are
# the ones that met it: uprobes on ReadModel::Apply (one change record, applied under the lock)
# timed on CLOCK_MONOTONIC (uprobes cannot use CLOCK_REALTIME, tcpdump's clock: the offset
# between the two is written beside), with the wire captured meanwhile.
apply=$(nm "$SERVER" | awk '/ _ZN8hubstats9ReadModel5ApplyE[^.]*$/ {print $3}' | head -1 || true)
step lock && perf probe -d 'probe_hubstats:apply*' >/dev/null 2>&1 || true
if step lock && [ -n "$apply" ] && perf probe -x "$SERVER" --no-demangle -a "apply=$apply" \
  -a "apply_ret=$apply%return" >>"$OUT/log.txt" 2>&1; then
  name=lock-ingest
  log "$name: uprobes on ReadModel::Apply for $LOCK_SECONDS s under ingest, wire captured"
  others "$name"
  tcpdump -i lo -s 0 -B 65536 -w "$OUT/$name.pcap" "tcp port $server_port" \
    2>"$OUT/$name.tcpdump.log" &
  tcpdump_pid=$!
  pids+=("$tcpdump_pid")
  until grep -q "listening on" "$OUT/$name.tcpdump.log"; do sleep 0.1; done
  scrape "$OUT/$name.before.prom"
  /usr/bin/python3 -c 'import time; print(time.clock_gettime(time.CLOCK_REALTIME)
    - time.clock_gettime(time.CLOCK_MONOTONIC))' >"$OUT/$name.clock-offset"
  (sleep 3 && perf record -k mono -e 'probe_hubstats:apply*' -p "$server_pid" \
    -o "$OUT/$name.perf.data" -- sleep "$LOCK_SECONDS" 2>>"$OUT/log.txt" || true) &
  perf_pid=$!
  query ingest "$((LOCK_SECONDS + 6))s" >"$OUT/$name.json"
  wait "$perf_pid" || true
  scrape "$OUT/$name.after.prom"
  kill -INT "$tcpdump_pid"
  wait "$tcpdump_pid" || true
  perf script -i "$OUT/$name.perf.data" --ns -F tid,time,event 2>/dev/null \
    | gzip >"$OUT/$name.apply.gz"
  perf probe -d 'probe_hubstats:apply*' >>"$OUT/log.txt" 2>&1 || true
fi
for pid in "$server_pid" "$replica_pid"; do
  echo "threads of $pid: $(sort /proc/$pid/task/*/comm | uniq -c | tr -s ' \n' ' ')" \
    >>"$OUT/stack.txt"
done

# 5. Two remedies that need no code, under the same ingest, RUNS times each: the queries sent to
# the replica, which ingests nothing (a query-only replica), against the queries sent to the
# ingesting server, with ingest from a second bench process at the same rate in both; then the
# server restarted with fewer threads (THREADS, query/ingest workers), measured as in step 1.
if step variants; then
  for run in $(seq "$RUNS"); do
    for to in same replica; do
      name="split$run-$to"
      log "$name: ingest by one bench into the server, queries by another to the $to"
      others "$name"
      "$BENCH" ingest --target "$target" --models "$MODELS" --rate "$half" --no-lag-probe \
        --duration "$((QUERY_DURATION + 6))s" --json >"$OUT/$name.ingest.json" &
      ingest_pid=$!
      sleep 3
      port=$server_port metrics_port=$server_metrics
      if [ "$to" = replica ]; then port=$replica_port metrics_port=$replica_metrics; fi
      scrape "$OUT/$name.before.prom"
      "$BENCH" query --target "127.0.0.1:$port" --models "$MODELS" --concurrency 1 \
        --duration "${QUERY_DURATION}s" --json >"$OUT/$name.json"
      scrape "$OUT/$name.after.prom"
      wait "$ingest_pid"
    done
  done
fi
if step threads; then
  # Thread counts, A/B in turns on the same data: the server restarted with each setting
  # ("query workers/ingest workers"; 8/8 is the default), its read model loaded again.
  for run in $(seq "$RUNS"); do
    for threads in ${THREADS:-8/8 2/8 2/2}; do
      kill "$server_pid"
      wait "$server_pid" || true
      start_server "threads-$run-${threads/\//-}" "$redis_url" \
        --workers "${threads%/*}" --ingest-workers "${threads#*/}"
      server_pid=$started_pid server_port=$started_port metrics_port=$started_metrics
      target="127.0.0.1:$server_port"
      until grep -q "read model loaded" "$work/threads-$run-${threads/\//-}-server.log"; do
        sleep 0.1
      done
      sleep 5
      name="threads$run-${threads/\//-}"
      log "$name: the server with --workers ${threads%/*} --ingest-workers ${threads#*/}"
      others "$name"
      scrape "$OUT/$name.before.prom"
      query ingest "${QUERY_DURATION}s" >"$OUT/$name.json"
      scrape "$OUT/$name.after.prom"
    done
  done
fi

log "summary"
/usr/bin/python3 scripts/bench-query-profile.py "$OUT" | tee "$OUT/summary.txt"
