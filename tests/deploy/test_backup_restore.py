"""Backup and restore of the counters, as docs/OPERATIONS.md tells operators to do it:
`redis-cli --rdb` while everything runs, scripts/redis-restore.sh into an empty data directory,
Redis started again as in production (append-only file, fsync always, password), and the
ingestion jobs re-run with their producer ids. The figures are exact at every step, checked
against hubstats.snapshot.figures computed from the data set alone."""

import os
import shutil
import signal
import subprocess
import time

import pytest

from conftest import REPO, SERVER_BIN, free_port, wait_serving
from hubstats import Client, snapshot

PASSWORD = "backup-test-password"
BATCH = 250
MODELS = 3000
BEFORE_BACKUP = 1500   # models whose events are in the backup; a multiple of BATCH


class Process:
    def __init__(self, args, directory, name):
        self.log = open(directory / f"{name}.log", "ab")
        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def redis_cli(port, *args):
    result = subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                            text=True, env={**os.environ, "REDISCLI_AUTH": PASSWORD}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.fixture
def stack(tmp_path):
    """Starts Redis as production runs it, and a hubstats-server on it; stops them at the end."""
    started = []

    def start(data):
        data.mkdir(exist_ok=True)
        port = free_port()
        redis = Process(["redis-server", "--bind", "127.0.0.1", "--port", str(port),
                         "--dir", str(data), "--appendonly", "yes", "--appendfsync", "always",
                         "--save", "", "--requirepass", PASSWORD], tmp_path, f"redis-{port}")
        started.append(redis)
        deadline = time.monotonic() + 15
        while subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True,
                             text=True, env={**os.environ, "REDISCLI_AUTH": PASSWORD}) \
                .stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)
        listen = free_port()
        # The 2024 snapshot is a backfill: any day counts.
        server = Process([SERVER_BIN, "--listen", f"127.0.0.1:{listen}", "--store", "redis",
                          "--redis", f"redis://:{PASSWORD}@127.0.0.1:{port}",
                          "--max-lateness-days", "any", "--retention-days", "forever"],
                         tmp_path, f"server-{listen}")
        started.append(server)
        target = f"127.0.0.1:{listen}"
        wait_serving(target)
        return redis, server, port, target

    yield start
    for process in reversed(started):
        process.stop()


def test_a_backup_restores_exactly_and_jobs_rerun_from_it_count_only_what_it_lacks(stack,
                                                                                    tmp_path):
    models = snapshot.read()[:MODELS]
    events = list(snapshot.events(models))

    def job(client, count):
        """The ingestion job, run up to `count` events, always with the same producer id."""
        return client.ingest(events[:count], batch_size=BATCH, producer_id="nightly-job")

    redis, server, port, target = stack(tmp_path / "data")
    with Client(target) as client:
        client.upsert_models(snapshot.records(models))
        job(client, BEFORE_BACKUP)
        assert snapshot.differences(snapshot.figures(models[:BEFORE_BACKUP]),
                                    snapshot.measure(client)) == []

    backup = tmp_path / "hubstats.rdb"
    redis_cli(port, "--rdb", str(backup))               # online: nothing stops

    with Client(target) as client:                       # the job goes on after the backup
        job(client, MODELS)
        assert snapshot.differences(snapshot.figures(models), snapshot.measure(client)) == []

    # Disaster: Redis and its files are gone. Restore the backup into a new data directory.
    server.stop()
    redis.stop()
    shutil.rmtree(tmp_path / "data")
    restored = tmp_path / "restored"
    restored.mkdir()
    result = subprocess.run([str(REPO / "scripts/redis-restore.sh"), str(backup), str(restored)],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "RESTORE_PORT": str(free_port())})
    assert result.returncode == 0, result.stderr + result.stdout
    assert sorted(p.name for p in restored.iterdir()) == ["appendonlydir"]

    redis, server, port, target = stack(restored)
    with Client(target) as client:
        # Exactly the state of the backup: the catalog and the first part of the job.
        assert snapshot.differences(snapshot.figures(models[:BEFORE_BACKUP]),
                                    snapshot.measure(client)) == []
        assert client.totals()["catalogued_models"] == MODELS
        # Re-running the job from the start counts only what the backup lacks.
        summary = job(client, MODELS)
        assert summary["duplicates"] == BEFORE_BACKUP
        assert summary["accepted"] == MODELS - BEFORE_BACKUP
        assert snapshot.differences(snapshot.figures(models), snapshot.measure(client)) == []
    assert redis_cli(port, "config", "get", "appendonly").split() == ["appendonly", "yes"]
