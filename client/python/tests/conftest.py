"""Shared pytest fixtures: a real redis-server and real hubstats-server processes.

Each server listens on a free loopback port. The server binary is taken from
$HUBSTATS_SERVER_BIN, else <repo>/build/service/hubstats-server (what scripts/test.sh builds).
"""

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
SERVER_BIN = Path(os.environ.get("HUBSTATS_SERVER_BIN", REPO / "build" / "service" / "hubstats-server"))
_prefixes = itertools.count()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


class Redis:
    """redis-server on a free loopback port, without persistence."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="hubstats-pytest-redis-")
        for _ in range(5):
            self.port = free_port()
            log = open(os.path.join(self.directory, "redis.log"), "ab")
            self.process = subprocess.Popen(
                ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                 self.directory, "--save", "", "--appendonly", "no"],
                stdout=log, stderr=log)
            try:
                wait_for_port(self.port, 5)
                return
            except RuntimeError:
                self.process.kill()
        raise RuntimeError("could not start redis-server")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"

    def stop(self):
        self.process.kill()
        self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


class Server:
    """A hubstats-server process; `target` is its host:port, `prefix` its Redis key prefix.

    `port` 0 picks a free port; give a dead server's port to restart it at the same address.
    """

    def __init__(self, redis_url: str | None, prefix: str | None = None, extra_args=(),
                 port: int = 0):
        if not SERVER_BIN.exists():
            raise RuntimeError(f"{SERVER_BIN} is missing: build first (scripts/test.sh)")
        args = [str(SERVER_BIN), "--listen", f"127.0.0.1:{port}"]
        self.prefix = None
        if redis_url:
            self.prefix = prefix or f"pytest{os.getpid()}x{next(_prefixes)}"
            args += ["--store", "redis", "--redis", redis_url, "--redis-prefix", self.prefix]
        else:
            args += ["--store", "memory"]
        self.process = subprocess.Popen([*args, *extra_args], stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)
        line = self.process.stdout.readline()
        if not line.startswith("listening on port "):
            self.process.kill()
            raise RuntimeError(f"server did not start: {line}{self.process.stderr.read()}")
        self.port = int(line.split()[-1])
        self.target = f"127.0.0.1:{self.port}"

    def kill(self):
        """kill -9: the process ends at once, without answering anything more."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def terminate(self):
        """SIGTERM, without waiting: the server drains its streams, then exits."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture(scope="session")
def redis():
    server = Redis()
    yield server
    server.stop()


@pytest.fixture
def make_server(redis):
    """Starts servers on the shared Redis; each call without `prefix` gets an empty key space.

    `port` starts the server at a given port (e.g. a killed server's, to restart it there).
    Every server started is stopped at the end of the test.
    """
    started = []

    def make(prefix: str | None = None, extra_args=(), port: int = 0) -> Server:
        server = Server(redis.url, prefix, extra_args, port)
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server) -> Server:
    """A fresh redis-backed server with no data."""
    return make_server()
