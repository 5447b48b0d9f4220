#!/bin/sh
# Turns a backup of the hubstats Redis (an RDB file made with `redis-cli --rdb FILE`) into the
# append-only file a Redis run with `--appendonly yes` loads at start. docs/OPERATIONS.md
# ("Backup and restore") has the whole procedure; tests/deploy/test_backup_restore.py runs it.
#
#   redis-restore.sh BACKUP.rdb DATA_DIR
#
# DATA_DIR is the Redis data directory (--dir) with no Redis running on it and no appendonlydir
# (move the old one away first). Needs redis-server and redis-cli; POSIX sh, so it also runs
# inside the Redis container. A temporary Redis without a password listens on 127.0.0.1 only,
# port $RESTORE_PORT (6390), while the file is written.
set -eu
[ $# -eq 2 ] || { echo "usage: redis-restore.sh BACKUP.rdb DATA_DIR" >&2; exit 2; }
backup=$1
dir=$2
port=${RESTORE_PORT:-6390}
if [ -e "$dir/appendonlydir" ]; then
  echo "redis-restore.sh: $dir/appendonlydir exists: move it away first" >&2
  exit 1
fi
cp "$backup" "$dir/restore.rdb"
# RDB in, no AOF yet: a Redis started with --appendonly yes would ignore the RDB file.
redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --dbfilename restore.rdb \
  --appendonly no --save '' >"$dir/restore.log" 2>&1 &
cli() { redis-cli -p "$port" "$@"; }
tries=0
until [ "$(cli ping 2>/dev/null)" = PONG ]; do
  tries=$((tries + 1))
  if [ $tries -ge 600 ]; then
    echo "redis-restore.sh: Redis did not start" >&2
    cat "$dir/restore.log" >&2
    exit 1
  fi
  sleep 0.1
done
keys=$(cli dbsize)
# Switching AOF on writes the whole data set to a new append-only file.
cli config set appendonly yes >/dev/null
until cli info persistence | grep -q '^aof_rewrite_in_progress:0' &&
      cli info persistence | grep -q '^aof_rewrite_scheduled:0' &&
      cli info persistence | grep -q '^aof_enabled:1'; do
  sleep 0.1
done
if ! cli info persistence | grep -q '^aof_last_bgrewrite_status:ok'; then
  echo "redis-restore.sh: writing the append-only file failed" >&2
  cat "$dir/restore.log" >&2
  exit 1
fi
cli shutdown nosave >/dev/null 2>&1 || true
wait
rm -f "$dir/restore.rdb" "$dir/restore.log"
echo "redis-restore.sh: $keys keys restored into $dir/appendonlydir"
