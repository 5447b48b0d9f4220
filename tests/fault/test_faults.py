"""Exactly-once ingestion through faults: while the CLI streams a known data set, kill or
pause servers and Redis, or drop connections; afterwards every model's downloads must equal
the data set's exactly (no loss, no double count), and the CLI's summary must account for
every line once."""

import time

import grpc
import pytest

from conftest import (applied_total, assert_exact, finish_ingest, start_ingest, wait_for_progress,
                      write_dataset)

EVENTS = 120_000
MODELS = 1_500


def health(target):
    """grpc.health.v1 status of the whole server: 1 SERVING, 2 NOT_SERVING, None if unreachable."""
    with grpc.insecure_channel(target) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check")
        try:
            reply = check(b"", timeout=2)
        except grpc.RpcError:
            return None
    return reply[1] if len(reply) == 2 else None


def check_summary(summary, valid, bad, truth):
    assert summary["accepted"] + summary["duplicates"] == valid
    assert summary["rejected"] == bad
    # Jepsen's counter check: what was acknowledged is what is applied.
    assert summary["accepted_downloads"] + summary["duplicate_downloads"] == sum(truth.values())


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "events.jsonl"
    truth, valid, bad = write_dataset(path, EVENTS, MODELS, seed=11)
    return path, truth, valid, bad


def test_server_killed_and_restarted(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    server = cluster.server(redis.url)
    ingest = start_ingest(path, [server.target], "job-a")
    wait_for_progress(server.target, sum(truth.values()))
    server.kill()
    time.sleep(1.0)
    server.restart()
    summary, log = finish_ingest(ingest)
    assert summary["reconnects"] >= 1, log
    check_summary(summary, valid, bad, truth)
    assert_exact(server.target, truth)


def test_replica_lost_client_moves_to_the_other(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    first, second = cluster.server(redis.url, "a"), cluster.server(redis.url, "b")
    ingest = start_ingest(path, [first.target, second.target], "job-b")
    wait_for_progress(second.target, sum(truth.values()))
    first.kill()
    summary, log = finish_ingest(ingest)
    assert summary["reconnects"] >= 1, log
    check_summary(summary, valid, bad, truth)
    assert_exact(second.target, truth)


def test_redis_killed_and_restarted_from_its_append_only_file(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    server = cluster.server(redis.url)
    ingest = start_ingest(path, [server.target], "job-c")
    wait_for_progress(server.target, sum(truth.values()))
    redis.kill()
    # While Redis is gone the server says so on its health service.
    deadline = time.monotonic() + 5
    while health(server.target) != 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert health(server.target) == 2
    redis.restart()
    summary, _ = finish_ingest(ingest)
    check_summary(summary, valid, bad, truth)
    assert_exact(server.target, truth)
    deadline = time.monotonic() + 5
    while health(server.target) != 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert health(server.target) == 1


def test_redis_paused_past_the_timeouts_with_memory_bounded(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    server = cluster.server(
        redis.url,
        extra=["--max-inflight-mb", "4", "--max-message-mb", "1", "--max-batch-events", "2000"],
    )
    ingest = start_ingest(path, [server.target], "job-d")
    wait_for_progress(server.target, sum(truth.values()))
    rss_before = server.rss_kib()
    redis.pause()
    time.sleep(3.0)  # Three times the server's Redis timeout.
    rss_during = server.rss_kib()
    redis.resume()
    summary, _ = finish_ingest(ingest)
    check_summary(summary, valid, bad, truth)
    assert_exact(server.target, truth)
    # Flow control held the client back instead of buffering its stream.
    assert rss_during - rss_before < 64 * 1024, (rss_before, rss_during)


def test_connections_dropped_at_random(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    redis_proxy = cluster.proxy(redis.port)
    server = cluster.server(redis_proxy.url)
    client_proxy = cluster.proxy(server.port)
    redis_proxy.chaos(seed=1)
    client_proxy.chaos(seed=2)
    ingest = start_ingest(path, [client_proxy.target], "job-e")
    summary, log = finish_ingest(ingest)
    redis_proxy.stop_chaos()
    client_proxy.stop_chaos()
    assert redis_proxy.drops > 3 and client_proxy.drops > 3
    assert summary["reconnects"] >= 1, log
    check_summary(summary, valid, bad, truth)
    assert_exact(server.target, truth)


def test_sigterm_drains_and_the_client_moves_on(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    first, second = cluster.server(redis.url, "a"), cluster.server(redis.url, "b")
    ingest = start_ingest(path, [first.target, second.target], "job-f")
    wait_for_progress(second.target, sum(truth.values()))
    started = time.monotonic()
    first.terminate()
    assert first.wait(30) == 0
    assert time.monotonic() - started < 12  # Within the default grace period.
    summary, log = finish_ingest(ingest)
    assert "shutting down" in log or summary["reconnects"] >= 1
    check_summary(summary, valid, bad, truth)
    assert_exact(second.target, truth)


def test_rerunning_a_job_with_its_producer_id_changes_nothing(cluster, dataset):
    path, truth, valid, bad = dataset
    redis = cluster.redis()
    server = cluster.server(redis.url)
    first, _ = finish_ingest(start_ingest(path, [server.target], "job-g"))
    check_summary(first, valid, bad, truth)
    again, _ = finish_ingest(start_ingest(path, [server.target], "job-g"))
    assert again["accepted"] == 0 and again["duplicates"] == valid
    assert_exact(server.target, truth)


def test_soak_many_producers_many_faults(cluster, tmp_path):
    """Six producers at once through flaky connections while a replica dies and comes back and
    Redis is paused; applied must equal acknowledged, and both the truth."""
    redis = cluster.redis()
    redis_proxy = cluster.proxy(redis.port)
    servers = [cluster.server(redis_proxy.url, f"s{i}") for i in range(2)]
    proxies = [cluster.proxy(server.port) for server in servers]
    for index, proxy in enumerate([redis_proxy, *proxies]):
        proxy.chaos(low=0.3, high=1.5, seed=10 + index)
    jobs, truth = [], {}
    for producer in range(6):
        path = tmp_path / f"p{producer}.jsonl"
        part, valid, bad = write_dataset(path, 25_000, 400, seed=100 + producer)
        for model, downloads in part.items():
            truth[model] = truth.get(model, 0) + downloads
        targets = [proxy.target for proxy in (proxies if producer % 2 else reversed(proxies))]
        jobs.append((start_ingest(path, targets, f"soak-{producer}", batch_size=100), part, valid, bad))
    wait_for_progress(servers[1].target, sum(truth.values()), fraction=0.1)
    servers[0].kill()
    time.sleep(0.5)
    servers[0].restart()
    redis.pause()
    time.sleep(1.5)
    redis.resume()
    acknowledged = 0
    for process, part, valid, bad in jobs:
        summary, _ = finish_ingest(process)
        check_summary(summary, valid, bad, part)
        acknowledged += summary["accepted_downloads"] + summary["duplicate_downloads"]
    for proxy in [redis_proxy, *proxies]:
        proxy.stop_chaos()
    assert acknowledged == applied_total(servers[1].target) == sum(truth.values())
    assert_exact(servers[0].target, truth)
