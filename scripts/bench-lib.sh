# shellcheck shell=bash disable=SC2034  # Sets variables for the scripts that source it.
# Sourced by the bench scripts (bench.sh, bench-ab.sh, bench-cluster.sh,
# bench-query-profile.sh): the one process harness they share.
#
#   bench_work NAME     makes $work (a temporary folder); on exit every pid in $pids is
#                       killed and $work removed; Ctrl-C exits 130
#   stop_pids           kills every pid in $pids, waits for them, and empties $pids
#   free_port           a free loopback TCP port
#   start_aof_redis N   a redis-server on a free loopback port with AOF appendfsync always
#                       (acknowledged means on disk), files N.aof and N-redis.log in $work;
#                       sets redis_port, redis_url and redis_pid once it answers PING
pids=()

stop_pids() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
}

bench_work() {
  work=$(mktemp -d -t "$1-XXXXXX")
  trap 'stop_pids; rm -rf "$work"' EXIT
  trap 'exit 130' INT TERM
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

start_aof_redis() {
  redis_port=$(free_port)
  redis-server --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly yes \
    --appendfsync always --dir "$work" --dbfilename "$1.rdb" --appendfilename "$1.aof" \
    >"$work/$1-redis.log" 2>&1 &
  redis_pid=$!
  pids+=("$redis_pid")
  until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done
  redis_url="redis://127.0.0.1:$redis_port"
}
