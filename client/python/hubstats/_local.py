"""Local redis-server and hubstats-server processes for the demo (loopback only).

    with LocalStack(log_dir) as stack:
        redis = stack.start_redis()
        server = stack.start_server(server_bin, redis.url, prefix="snapshot")
        ...                      # server.target is "127.0.0.1:PORT"
    # every process started is stopped here, servers first, also on an exception

Every child runs in its own session, so a Ctrl-C on the terminal reaches only the demo, which
then stops the children in order (servers with SIGTERM so they drain, then Redis). Where
util-linux `setpriv` exists, each child also gets SIGTERM from the kernel if the demo dies
without cleaning up (e.g. SIGKILL), so no server outlives it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: util-linux: sets the parent-death signal, then execs the command.
_SETPRIV = shutil.which("setpriv")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_ping(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class LocalProcess:
    """A child process with a name for messages and a log file."""

    name: str
    process: subprocess.Popen
    log_path: Path
    stop_timeout: float = 15.0

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after stop_timeout seconds; returns the exit status."""
        if self.process.poll() is None:
            try:
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            except ProcessLookupError:
                pass
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()
        return self.process.returncode

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Redis(LocalProcess):
    port: int = 0

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@dataclass
class Server(LocalProcess):
    port: int = 0

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class LocalStack:
    """Starts local processes and stops all of them (in reverse order) on exit."""

    log_dir: Path | None = None
    processes: list[LocalProcess] = field(default_factory=list)

    def __post_init__(self):
        self._temporary = None
        if self.log_dir is None:
            self._temporary = tempfile.mkdtemp(prefix="hubstats-demo-")
            self.log_dir = Path(self._temporary)
        self.log_dir = Path(self.log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()

    def _spawn(self, args: list[str], log_path: Path, pipe_stdout: bool) -> subprocess.Popen:
        """Starts `args` in its own session, stderr (and stdout unless piped) to log_path."""
        command = ([_SETPRIV, "--pdeathsig", "TERM", "--", *args] if _SETPRIV else args)
        with open(log_path, "ab") as log:
            return subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if pipe_stdout else log,
                                    stderr=log, start_new_session=True)

    def start_redis(self, redis_bin: str = "redis-server", timeout: float = 10.0) -> Redis:
        """redis-server on a free loopback port, without persistence (nothing is written)."""
        binary = shutil.which(redis_bin) or redis_bin
        log_path = self.log_dir / "redis.log"
        last_error = ""
        for _ in range(5):
            port = free_port()
            process = self._spawn(
                [binary, "--bind", "127.0.0.1", "--port", str(port), "--dir", str(self.log_dir),
                 "--save", "", "--appendonly", "no", "--logfile", ""], log_path,
                pipe_stdout=False)
            redis = Redis("redis-server", process, log_path, port=port)
            self.processes.append(redis)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and redis.running():
                if _redis_ping(port):
                    return redis
                time.sleep(0.05)
            last_error = redis.log_tail()
            redis.stop()
            self.processes.remove(redis)
        raise RuntimeError(f"could not start redis-server ({binary}):\n{last_error}")

    def start_server(self, server_bin: str | os.PathLike, redis_url: str, prefix: str,
                     timeout: float = 30.0) -> Server:
        """hubstats-server on a free loopback port (it picks the port and prints it), keeping
        its keys under `prefix`."""
        name = f"hubstats-server[{prefix}]"
        log_path = self.log_dir / f"server-{prefix}.log"
        process = self._spawn(
            [str(server_bin), "--listen", "127.0.0.1:0", "--store", "redis", "--redis",
             redis_url, "--redis-prefix", prefix], log_path, pipe_stdout=True)
        server = Server(name, process, log_path)
        self.processes.append(server)
        line = b""
        deadline = time.monotonic() + timeout
        while not line.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([process.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(process.stdout.fileno(), 256)
                if not chunk:
                    break
                line += chunk
            elif process.poll() is not None:
                break
        text = line.decode(errors="replace").strip()
        if not text.startswith("listening on port "):
            server.stop()
            self.processes.remove(server)
            raise RuntimeError(f"{name} did not start ({text or 'no output'}):\n"
                               f"{server.log_tail()}")
        server.port = int(text.split()[-1])
        return server

    def stop_all(self) -> None:
        """Stops every process, newest first; safe to call twice. A stop signal (SIGINT,
        SIGTERM, SIGHUP) arriving meanwhile does not cut the cleanup short: it is held and
        takes effect (its previous handler runs) once every process is stopped."""
        held: list[int] = []
        previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                previous[signum] = signal.signal(signum, lambda number, _: held.append(number))
        try:
            while self.processes:
                self.processes.pop().stop()
            if self._temporary:
                shutil.rmtree(self._temporary, ignore_errors=True)
                self._temporary = None
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        if held:
            signal.raise_signal(held[0])
