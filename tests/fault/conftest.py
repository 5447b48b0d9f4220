"""Fault tests: redis-server with an append-only file, hubstats-server replicas (the process
harness of hubstats._local), a TCP proxy that drops connections, and the CLI. Everything runs
on free loopback ports and is stopped when the test ends."""

import itertools
import json
import random
import socket
import subprocess
import threading
import time

import pytest

from hubstats._fixtures import local  # noqa: F401
from hubstats._local import LocalStack, cli_binary

CLI_BIN = str(cli_binary())


class Proxy:
    """Forwards 127.0.0.1:<port> to a target port; can drop every connection, now or at
    random intervals."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = []
        self.drops = 0
        self.stopping = False
        self.chaos_stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def target(self):
        return f"127.0.0.1:{self.port}"

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port))
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections.append((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def drop_all(self):
        with self.lock:
            connections, self.connections = self.connections, []
        for pair in connections:
            for sock in pair:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                    sock.close()
                except OSError:
                    pass
        self.drops += 1

    def chaos(self, low=0.15, high=0.8, seed=0):
        """Drops all connections at random intervals until stop_chaos()."""
        chooser = random.Random(seed)

        def run():
            while not self.chaos_stop.wait(chooser.uniform(low, high)):
                self.drop_all()

        threading.Thread(target=run, daemon=True).start()

    def stop_chaos(self):
        self.chaos_stop.set()

    def close(self):
        self.stop_chaos()
        self.stopping = True
        self.listener.close()
        self.drop_all()


class Cluster:
    """What one test started; everything is stopped at the end."""

    def __init__(self, stack: LocalStack):
        self.stack = stack
        self.proxies = []

    def redis(self):
        """redis-server with an append-only file fsynced on every write; restart() replays it."""
        return self.stack.start_redis(aof=True)

    def server(self, redis_url, name="server", extra=()):
        """A hubstats-server replica (the default key prefix, so replicas share the data);
        restart() brings it back at the same port."""
        return self.stack.start_server(redis_url, name=name,
                                       extra_args=["--redis-timeout-ms", "1000", *extra])

    def proxy(self, target_port):
        proxy = Proxy(target_port)
        self.proxies.append(proxy)
        return proxy

    def close(self):
        for proxy in reversed(self.proxies):
            proxy.close()


@pytest.fixture
def cluster(local):
    owned = Cluster(local)
    yield owned
    owned.close()


# --- data and checks ------------------------------------------------------------------------

def write_dataset(path, events, models, seed, bad_every=97):
    """JSON lines with some bad ones; returns (downloads per model, valid lines, bad lines)."""
    chooser = random.Random(seed)
    names = [f"org{index % 50}/model-{index}" for index in range(models)]
    cumulative = list(itertools.accumulate(1.0 / (rank + 1) for rank in range(models)))
    picks = chooser.choices(names, cum_weights=cumulative, k=events)
    truth, valid, bad = {}, 0, 0
    with open(path, "w") as out:
        for line, model in enumerate(picks, start=1):
            count = chooser.randint(1, 1000)
            if line % bad_every == 0:
                out.write(json.dumps({"model_id": model, "count": 0}) + "\n")
                bad += 1
                continue
            day = 1 + chooser.randrange(28)
            out.write(json.dumps({"model_id": model, "count": count,
                                  "timestamp": f"2024-09-{day:02d}T12:00:00Z"}) + "\n")
            truth[model] = truth.get(model, 0) + count
            valid += 1
    return truth, valid, bad


def start_ingest(path, targets, producer, batch_size=250, retry_for="60s"):
    return subprocess.Popen(
        [CLI_BIN, "ingest", str(path), "--target", ",".join(targets), "--producer-id", producer,
         "--batch-size", str(batch_size), "--retry-for", retry_for, "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish_ingest(process, timeout=180):
    stdout, stderr = process.communicate(timeout=timeout)
    assert process.returncode == 0, f"ingest failed: {stderr[-3000:]}"
    return json.loads(stdout), stderr


def query(target, *args):
    """The CLI's JSON answer, or None when the query failed (its error is printed, so a failed
    assertion on the answer shows why)."""
    result = subprocess.run([CLI_BIN, "--target", target, *args, "--json", "--timeout", "10"],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        print(f"query {' '.join(args)} on {target} failed: {result.stderr.strip()}")
        return None
    return json.loads(result.stdout)


def applied_total(target):
    totals = query(target, "totals")
    return None if totals is None else totals["total_downloads"]


def wait_for_progress(target, fraction_of, fraction=0.2, timeout=60):
    """Waits until the service counts at least `fraction` of `fraction_of` downloads."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        total = applied_total(target)
        if total is not None and total >= fraction * fraction_of:
            return total
        time.sleep(0.05)
    raise AssertionError("ingest made no progress")


def assert_exact(target, truth):
    """Every model's downloads, and the total, equal the data set's."""
    top = query(target, "top", "--n", "10000")
    assert top is not None, "query failed"
    got = {row["id"]: row["downloads"] for row in top["rows"]}
    assert top["total_downloads"] == sum(truth.values())
    assert got == truth
