"""What operators see of a running server, through real clients: the Prometheus endpoint
scraped during a load (its counters equal what was sent, recomputed from the input), per-RPC
counts by method and code, health per service through a health client we did not write (npm
grpc-health-check), and logs that never show the Redis password."""

import json
import os
import signal
import subprocess
import tempfile
import threading
import time

import grpc
import pytest

from conftest import SERVER_BIN, free_port
from replicas import (Replica, cli, health, health_node_modules, metric, wait_until, watch_health,
                      write_events)

INGEST = "/hubstats.v1.IngestService/StreamEvents"
TOTALS = "/hubstats.v1.QueryService/GetTotals"
TOP = "/hubstats.v1.QueryService/GetTopN"


@pytest.fixture
def replica(redis):
    started = []

    def start(*args, prefix=None, url=None):
        replica = Replica(["--store", "redis", "--redis", url or redis.url, "--redis-prefix",
                           prefix or f"telemetry{os.getpid()}x{len(started)}", *args])
        started.append(replica)
        return replica

    yield start
    for replica in started:
        replica.stop()


def change_log_lengths(redis_url, prefix, shards=16):
    """The entries of every shard's change log in Redis (XLEN "<prefix>:{<shard>}:log")."""
    port = redis_url.rsplit(":", 1)[1].split("/")[0]
    lengths = subprocess.run(["redis-cli", "-p", port], input="".join(
        f"XLEN {prefix}:{{{shard}}}:log\n" for shard in range(shards)), capture_output=True,
        text=True, check=True).stdout.split()
    return sum(map(int, lengths))


def test_metrics_scraped_during_a_load_equal_the_events_sent(replica, redis, tmp_path):
    prefix = f"telemetry{os.getpid()}load"
    server = replica("--commit-window-ms", "30", prefix=prefix)
    events = tmp_path / "events.jsonl"
    truth = write_events(events, 30_000, seed=7, invalid_every=50)
    batch = 200
    batches = -(-30_000 // batch)

    # Scrape while the CLI streams: counters only grow and never pass what was sent.
    scrapes, done = [], threading.Event()

    def scrape_loop():
        while not done.is_set():
            scrapes.append(server.scrape())
            time.sleep(0.05)
    scraper = threading.Thread(target=scrape_loop)
    scraper.start()
    try:
        code, out, err = cli("--target", server.target, "--json", "ingest", str(events),
                             "--batch-size", str(batch), "--producer-id", "telemetry-job")
    finally:
        done.set()
        scraper.join()
    assert code == 0, err
    summary = json.loads(out)
    assert summary["reconnects"] == 0
    accepted = [metric(s, "hubstats_ingest_events_total", outcome="accepted") for s in scrapes]
    assert accepted == sorted(accepted) and accepted[-1] <= truth["valid"]
    assert any(0 < value < truth["valid"] for value in accepted), "no scrape saw the load going on"

    final = server.scrape()
    assert metric(final, "hubstats_ingest_events_total", outcome="accepted") == truth["valid"]
    assert metric(final, "hubstats_ingest_events_total", outcome="rejected") == truth["invalid"]
    assert metric(final, "hubstats_ingest_events_total", outcome="duplicate") == 0
    assert metric(final, "hubstats_ingest_downloads_total") == truth["downloads"]
    assert metric(final, "hubstats_ingest_batches_total", outcome="committed") == batches
    assert metric(final, "hubstats_commit_window_events_sum") == truth["valid"]
    assert metric(final, "hubstats_commit_window_batches_sum") == batches
    assert metric(final, "hubstats_commit_duration_seconds_count") == \
        metric(final, "hubstats_commit_windows_total") > 0
    assert metric(final, "hubstats_ingest_inflight_bytes") == 0
    assert metric(final, "hubstats_ingest_inflight_limit_bytes") == 512 * 2**20
    assert metric(final, "hubstats_store_up") == 1
    assert metric(final, "hubstats_store_calls_total", call="ApplyWindow", code="OK") > 0
    # The read model: loaded once per shard at start, then following the change log. It
    # started on an empty prefix, so it applies every record the log holds (nothing is trimmed
    # within the log's minute); recomputed from Redis itself.
    assert metric(final, "hubstats_read_model_ready") == 1
    assert metric(final, "hubstats_read_model_shard_loads_total", reason="start") == 16
    assert metric(final, "hubstats_read_model_shard_loads_total", reason="gap") == 0
    assert metric(final, "hubstats_read_model_follow_errors_total") == 0
    assert metric(final, "hubstats_store_calls_total", call="LoadShard", code="OK") == 16
    assert metric(final, "hubstats_store_calls_total", call="ReadChanges", code="OK") > 0
    logged = change_log_lengths(redis.url, prefix)
    assert logged >= metric(final, "hubstats_commit_windows_total") > 0
    wait_until(lambda: metric(server.scrape(), "hubstats_read_model_records_applied_total")
               == logged, what="every logged change applied")
    assert 0 <= metric(server.scrape(), "hubstats_read_model_lag_seconds") < 2
    assert 0 <= metric(server.scrape(), "hubstats_read_model_last_apply_age_seconds") < 60
    # The interceptor: one stream, every batch one message each way.
    assert metric(final, "hubstats_grpc_server_handled_total", method=INGEST, code="OK") == 1
    assert metric(final, "hubstats_grpc_server_msg_received_total", method=INGEST) == batches
    assert metric(final, "hubstats_grpc_server_msg_sent_total", method=INGEST) == batches

    # The same job again: every batch is a duplicate, every event counted as one.
    code, out, err = cli("--target", server.target, "--json", "ingest", str(events),
                         "--batch-size", str(batch), "--producer-id", "telemetry-job")
    assert code == 0, err
    again = server.scrape()
    assert metric(again, "hubstats_ingest_events_total", outcome="duplicate") == 30_000
    assert metric(again, "hubstats_ingest_batches_total", outcome="duplicate") == batches
    assert metric(again, "hubstats_ingest_events_total", outcome="accepted") == truth["valid"]

    # Queries: counted by method and status code.
    for _ in range(3):
        assert cli("--target", server.target, "totals")[0] == 0
    with grpc.insecure_channel(server.target) as channel:
        top = channel.unary_unary(TOP)   # Raw bytes: n (field 2) = -1 is refused.
        with pytest.raises(grpc.RpcError) as refused:
            top(b"\x10" + b"\xff" * 9 + b"\x01", timeout=5)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    queried = server.scrape()
    assert metric(queried, "hubstats_grpc_server_handled_total", method=TOTALS, code="OK") == 3
    assert metric(queried, "hubstats_grpc_server_handled_total", method=TOP,
                  code="INVALID_ARGUMENT") == 1
    assert metric(queried, "hubstats_grpc_server_handling_seconds_count", method=TOTALS) == 3


def test_health_per_service_seen_by_a_health_client_we_did_not_write(replica, tmp_path):
    health_node_modules()
    # Redis of this test's own, to stop and restart.
    port = free_port()
    directory = tempfile.mkdtemp(prefix="hubstats-health-redis-")
    redis_args = ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir", directory,
                  "--save", "", "--appendonly", "no"]
    redis = subprocess.Popen(redis_args, stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"],
                                          capture_output=True, text=True).stdout.strip() == "PONG",
                   what="redis")
        server = replica(url=f"redis://127.0.0.1:{port}")
        services = ("", "hubstats.v1.IngestService", "hubstats.v1.QueryService", "liveness")
        everything = lambda status: {name: status for name in services}  # noqa: E731
        wait_until(lambda: health(server.target, *services) == everything("SERVING"),
                   what="SERVING everywhere")
        assert health(server.target, "no.such.Service") == {"no.such.Service": "NOT_FOUND"}

        # Redis gone: every service but liveness is NOT_SERVING (the replica can neither commit
        # nor tell how stale its read model is); liveness stays SERVING, so liveness probes
        # restart nothing. The read model's lag grows and its follower's errors are counted.
        lag_before = metric(server.scrape(), "hubstats_read_model_lag_seconds")
        redis.send_signal(signal.SIGKILL)
        redis.wait()
        wait_until(lambda: health(server.target, *services) == {
            **everything("NOT_SERVING"), "liveness": "SERVING"}, what="NOT_SERVING but liveness")
        assert metric(server.scrape(), "hubstats_store_up") == 0
        wait_until(lambda: metric(server.scrape(), "hubstats_read_model_lag_seconds") > 1,
                   what="a growing read model lag")
        assert lag_before < 1
        # A poll fails once Redis' timeout (--redis-timeout-ms, 5 s) has passed.
        wait_until(lambda: metric(server.scrape(), "hubstats_read_model_follow_errors_total") > 0,
                   what="a counted follower error")
        assert metric(server.scrape(), "hubstats_read_model_ready") == 1
        redis = subprocess.Popen(redis_args, stdout=subprocess.DEVNULL)
        wait_until(lambda: health(server.target, *services) == everything("SERVING"),
                   what="SERVING again")

        # A drain: watchers see every service, liveness too, turn NOT_SERVING.
        watcher = watch_health(server.target, *services)
        seen = {name: [] for name in services}
        reader = threading.Thread(target=lambda: [
            seen[update["service"]].append(update.get("status") or "end:" + update["end"])
            for update in map(json.loads, watcher.stdout)])
        reader.start()
        wait_until(lambda: all(seen[name][:1] == ["SERVING"] for name in services),
                   what="watchers SERVING")
        server.terminate()
        assert server.process.wait(30) == 0
        watcher.wait(30)
        reader.join(30)
        for name in services:
            changes = [s for i, s in enumerate(seen[name]) if i == 0 or s != seen[name][i - 1]]
            assert changes[:2] == ["SERVING", "NOT_SERVING"], (name, seen[name])
    finally:
        redis.kill()
        redis.wait()


def test_logs_are_one_line_each_and_never_show_the_redis_password(replica):
    password = "p4ss-w0rd-never-logged"
    port = free_port()
    directory = tempfile.mkdtemp(prefix="hubstats-password-redis-")
    redis = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--dir",
                              directory, "--save", "", "--appendonly", "no", "--requirepass",
                              password], stdout=subprocess.DEVNULL)
    try:
        wait_until(lambda: subprocess.run(["redis-cli", "-p", str(port), "ping"],
                                          capture_output=True, text=True).stdout.strip() != "",
                   what="redis")
        url = f"redis://:{password}@127.0.0.1:{port}"
        for log_format in ("json", "text"):
            server = replica("--log-format", log_format, "--redis-timeout-ms", "300", url=url)
            wait_until(lambda: "store answers: SERVING" in server.logs(), what="SERVING")
            redis.send_signal(signal.SIGSTOP)   # A Redis that stops answering gets logged...
            wait_until(lambda: "NOT_SERVING" in server.logs(), what="a logged outage")
            redis.send_signal(signal.SIGCONT)
            wait_until(lambda: server.logs().count("store answers: SERVING") >= 2,
                       what="a logged recovery")
            server.stop()
            logs = server.logs()
            assert password not in logs
            assert "redis://:***@127.0.0.1" in logs
            lines = logs.splitlines()
            if log_format == "json":
                records = [json.loads(line) for line in lines]   # Every line is JSON.
                assert {"time", "level", "msg"} <= set(records[0])
                assert any(r["level"] == "warning" and "NOT_SERVING" in r["msg"] for r in records)
            else:
                assert all(" INFO " in line or " WARNING " in line for line in lines), lines

        # The password in a failure that stops the server (wrong database) is not shown either.
        result = subprocess.run([SERVER_BIN, "--store",
                                 "redis", "--redis", url + "/99999", "--metrics-listen", "",
                                 "--startup-wait-ms", "0", "--listen", "127.0.0.1:0"],
                                capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert password not in result.stdout + result.stderr
    finally:
        redis.kill()
        redis.wait()

