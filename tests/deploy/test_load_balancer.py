"""Three hubstats-server replicas on one redis-server behind nginx (grpc_pass, HTTP/2), as an L7
gRPC balancer runs them: one long ingest stream from the CLI through the balancer while the
replicas age their connections out (--max-connection-age-ms), and the replica holding the stream
is SIGTERMed mid-stream. The stream moves on to the other replicas and the totals stay exact,
checked against a recomputation from the input file."""

import json
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from conftest import free_port
from replicas import CLI_BIN, Replica, metric, wait_until, write_events
from hubstats import Client

INGEST = "/hubstats.v1.IngestService/StreamEvents"
EVENTS = 60_000
BATCH = 100


class Nginx:
    """nginx on a free loopback port spreading gRPC calls over `backends` (round robin)."""

    def __init__(self, backends):
        self.directory = Path(tempfile.mkdtemp(prefix="hubstats-nginx-"))
        self.port = free_port()
        servers = "\n".join(f"    server {backend};" for backend in backends)
        temp = {name: self.directory / name for name in
                ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")}
        (self.directory / "nginx.conf").write_text(textwrap.dedent(f"""\
            daemon off;
            worker_processes 1;
            pid {self.directory}/nginx.pid;
            error_log {self.directory}/error.log info;
            events {{ worker_connections 256; }}
            http {{
              access_log {self.directory}/access.log;
              client_body_temp_path {temp['client_body']};
              proxy_temp_path {temp['proxy']};
              fastcgi_temp_path {temp['fastcgi']};
              uwsgi_temp_path {temp['uwsgi']};
              scgi_temp_path {temp['scgi']};
              upstream hubstats {{
            {servers}
              }}
              server {{
                listen 127.0.0.1:{self.port} http2;
                # An ingest stream is one request whose body never ends: no size limit on it.
                client_max_body_size 0;
                location / {{
                  grpc_pass grpc://hubstats;
                }}
              }}
            }}
            """))
        self.process = subprocess.Popen(
            ["nginx", "-p", str(self.directory), "-c", str(self.directory / "nginx.conf"),
             "-e", str(self.directory / "error.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.target = f"127.0.0.1:{self.port}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def balanced(redis):
    if shutil.which("nginx") is None:
        pytest.fail("nginx is missing: run scripts/install-deps.sh")
    prefix = f"balanced{int(time.time() * 1000)}"
    replicas = [Replica(["--store", "redis", "--redis", redis.url, "--redis-prefix", prefix,
                         # Connections age out every ~2 s; calls on them get 1 s more.
                         "--max-connection-age-ms", "2000", "--max-connection-age-grace-ms",
                         "1000",
                         # Longer windows make the stream last while the test acts on it.
                         "--commit-window-ms", "100", "--shutdown-grace-ms", "5000"])
                for _ in range(3)]
    nginx = Nginx([replica.target for replica in replicas])
    try:
        yield replicas, nginx
    finally:
        nginx.stop()
        for replica in replicas:
            replica.stop()


def reachable(target):
    try:
        with Client(target, timeout=5) as client:
            client.totals()
        return True
    except Exception:  # noqa: BLE001 - not up yet, whatever the error
        return False


def streams_open(replica):
    samples = replica.scrape()
    started = metric(samples, "hubstats_grpc_server_started_total", method=INGEST)
    ended = sum(value for (name, labels), value in samples.items()
                if name == "hubstats_grpc_server_handled_total" and ("method", INGEST) in labels)
    return started - ended


def test_a_long_stream_through_nginx_survives_aging_connections_and_a_drained_replica(
        balanced, tmp_path):
    replicas, nginx = balanced
    events = tmp_path / "events.jsonl"
    truth = write_events(events, EVENTS, seed=11)
    wait_until(lambda: reachable(nginx.target), what="nginx answering")

    ingest = subprocess.Popen([CLI_BIN, "--target", nginx.target, "--json", "ingest", str(events),
                               "--batch-size", str(BATCH), "--producer-id", "balanced-job",
                               "--retry-for", "60s"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # A third of the events in: drain the replica that holds the stream now.
        wait_until(lambda: sum(metric(r.scrape(), "hubstats_ingest_events_total",
                                      outcome="accepted") for r in replicas) >= EVENTS // 3,
                   timeout=120, what="a third of the events committed")
        holder = wait_until(lambda: next((r for r in replicas if streams_open(r) > 0), None),
                            timeout=30, what="the replica holding the stream")
        survivors = [r for r in replicas if r is not holder]
        before = [metric(r.scrape(), "hubstats_grpc_server_started_total", method=INGEST)
                  for r in survivors]
        holder.terminate()
        assert holder.process.wait(30) == 0, holder.logs()   # Drained within its grace, exit 0.
        assert ingest.poll() is None, "the stream ended before the drain: make it longer"
        out, err = ingest.communicate(timeout=300)
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait()
    assert ingest.returncode == 0, err
    summary = json.loads(out)
    # Every line acknowledged once: accepted now, or a duplicate of a batch committed just before
    # its stream was cut.
    assert summary["accepted"] + summary["duplicates"] == truth["valid"], summary
    assert summary["rejected"] == 0
    # Aged connections and the drain each cut the stream: the CLI went on, through nginx, on
    # the replicas left.
    assert summary["reconnects"] >= 2, (summary, err)
    after = [metric(r.scrape(), "hubstats_grpc_server_started_total", method=INGEST)
             for r in survivors]
    assert sum(after) > sum(before), "no stream reached the other replicas after the drain"
    print(f"\n{summary['reconnects']} reconnects, {summary['duplicates']} duplicates:\n{err}")

    # The totals, through the balancer, are exactly the input's.
    # Fresh: the replica nginx picks may not have applied the last commits of the others yet
    # (its read model follows the store a few milliseconds behind, more on a loaded machine).
    with Client(nginx.target, timeout=60, fresh=True) as client:
        totals = client.totals()
    assert totals["total_downloads"] == truth["downloads"]
    assert totals["models_with_downloads"] == truth["models"]
