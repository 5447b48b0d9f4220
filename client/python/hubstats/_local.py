"""Local redis-server and hubstats-server processes on loopback ports: the one process harness
of the demo and of every Python test suite (client/python/tests, tests/e2e, tests/fault,
tests/bench; their pytest fixtures are in hubstats._fixtures).

    with LocalStack(log_dir) as stack:
        redis = stack.start_redis()                  # aof=True: append-only file, fsync always
        server = stack.start_server(redis.url, prefix="snapshot")
        ...                                          # server.target is "127.0.0.1:PORT"
        server.kill(); server.restart()              # kill -9, then back at the same port
        redis.pause(); redis.resume()                # SIGSTOP / SIGCONT
    # every process started is stopped here, newest first, also on an exception

Each process writes its stdout and stderr to a log file in the stack's folder (`log_text()`).
Every child runs in its own session, so a Ctrl-C on the terminal reaches only the Python
process, which then stops the children in order (servers with SIGTERM so they drain, then
Redis). Where util-linux `setpriv` exists, a child started from the main thread also gets
SIGTERM from the kernel if the Python process dies without cleaning up (e.g. SIGKILL), so no
server outlives it. (The kernel sends it when the *thread* that started the child ends, so
children started from other threads go without.)

Binaries: `server_binary()` and `cli_binary()` take $HUBSTATS_SERVER_BIN / $HUBSTATS_CLI_BIN,
else the build folder of the source tree the package runs from, else the PATH.
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
#: The repository root when the package runs from its source tree (client/python/hubstats).
_SOURCE_TREE = Path(__file__).resolve().parents[3]


def _binary(variable: str, build_path: str, name: str) -> Path:
    if os.environ.get(variable):
        return Path(os.environ[variable])
    built = _SOURCE_TREE / "build" / build_path
    if built.exists():
        return built
    return Path(shutil.which(name) or built)


def server_binary() -> Path:
    """hubstats-server: $HUBSTATS_SERVER_BIN, else build/service/hubstats-server, else PATH."""
    return _binary("HUBSTATS_SERVER_BIN", "service/hubstats-server", "hubstats-server")


def cli_binary() -> Path:
    """The hubstats CLI: $HUBSTATS_CLI_BIN, else build/client/cli/hubstats, else PATH."""
    return _binary("HUBSTATS_CLI_BIN", "client/cli/hubstats", "hubstats")


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
    """A child process: its command, its log file and the port it serves on.

    Not thread-safe: one thread drives a process (another may call kill/stop to end it)."""

    name: str
    args: list[str]
    log_path: Path
    port: int = 0
    stop_timeout: float = 15.0
    process: subprocess.Popen | None = None
    stack: LocalStack | None = field(default=None, repr=False)  # Set by the stack that starts it.

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait(self, timeout: float | None = None) -> int:
        """Waits for the process to end; returns its exit status."""
        return self.process.wait(timeout)

    def kill(self) -> None:
        """kill -9: the process ends at once, answering nothing more."""
        if self.running():
            self.process.kill()
        if self.process is not None:
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()

    def restart(self, timeout: float = 30.0) -> None:
        """Starts the stopped or killed process again with the same command: the same port,
        and for Redis the same folder, so an append-only file is replayed."""
        self.stack.restart(self, timeout)

    def terminate(self) -> None:
        """SIGTERM, without waiting (a server drains its streams, then exits)."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)

    def pause(self) -> None:
        """SIGSTOP: the process holds its connections but answers nothing until resume()."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> int | None:
        """SIGTERM (after SIGCONT, should it be paused), then SIGKILL after stop_timeout
        seconds; returns the exit status."""
        if self.running():
            try:
                self.process.send_signal(signal.SIGCONT)
                self.process.send_signal(signal.SIGTERM)
                self.process.wait(self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            except ProcessLookupError:
                pass
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        return None if self.process is None else self.process.returncode

    def rss_kib(self) -> int:
        """Resident memory in KiB (0 when the process is gone)."""
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 20) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:])


@dataclass
class Redis(LocalProcess):
    """redis-server; `aof` keeps an append-only file (fsync always) in the stack's folder, so a
    restart (or a kill -9 and restart) brings every acknowledged write back."""

    aof: bool = False

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}"


@dataclass
class Server(LocalProcess):
    """hubstats-server; `prefix` is its Redis key prefix (None: the server's default)."""

    prefix: str | None = None

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"


@dataclass
class LocalStack:
    """Starts local processes and stops all of them (newest first) on exit.

    `log_dir` holds the logs (and Redis's files); None makes a temporary folder, removed with
    the stack. Not thread-safe: start processes from one thread at a time."""

    log_dir: Path | None = None
    processes: list[LocalProcess] = field(default_factory=list)

    def __post_init__(self):
        self._temporary = None
        if self.log_dir is None:
            self._temporary = tempfile.mkdtemp(prefix="hubstats-local-")
            self.log_dir = Path(self._temporary)
        self.log_dir = Path(self.log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._names: dict[str, int] = {}

    def __enter__(self) -> LocalStack:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop_all()

    def _log_path(self, stem: str) -> Path:
        count = self._names[stem] = self._names.get(stem, 0) + 1
        return self.log_dir / (f"{stem}.log" if count == 1 else f"{stem}-{count}.log")

    def _spawn(self, process: LocalProcess, pipe_stdout: bool) -> None:
        """Starts `process.args` in its own session, stderr (and stdout unless piped) to its
        log file."""
        command = process.args
        if _SETPRIV and threading.current_thread() is threading.main_thread():
            command = [_SETPRIV, "--pdeathsig", "TERM", "--", *command]
        process.stack = self
        with open(process.log_path, "ab") as log:
            process.process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE if pipe_stdout else log, stderr=log,
                start_new_session=True)

    def start_redis(self, redis_bin: str = "redis-server", *, aof: bool = False,
                    timeout: float = 10.0) -> Redis:
        """redis-server on a free loopback port: without persistence, or with an append-only
        file fsynced on every write (`aof`)."""
        binary = shutil.which(redis_bin) or redis_bin
        log_path = self._log_path("redis")
        directory = Path(tempfile.mkdtemp(prefix="redis-", dir=self.log_dir))
        persistence = (["--appendonly", "yes", "--appendfsync", "always"] if aof
                       else ["--appendonly", "no"])
        last_error = ""
        for _ in range(5):
            port = free_port()
            redis = Redis("redis-server", [binary, "--bind", "127.0.0.1", "--port", str(port),
                                           "--dir", str(directory), "--save", "",
                                           *persistence, "--logfile", ""],
                          log_path, port=port, aof=aof)
            try:
                self._start_redis(redis, timeout)
                return redis
            except RuntimeError as error:
                last_error = str(error)
        raise RuntimeError(f"could not start redis-server ({binary}):\n{last_error}")

    def _start_redis(self, redis: Redis, timeout: float) -> None:
        self._spawn(redis, pipe_stdout=False)
        self.processes.append(redis)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and redis.running():
            if _redis_ping(redis.port):
                return
            time.sleep(0.02)
        redis.stop()
        self.processes.remove(redis)
        raise RuntimeError(redis.log_tail())

    def start_server(self, redis_url: str | None, prefix: str | None = None, *,
                     extra_args=(), port: int = 0, server_bin: str | os.PathLike | None = None,
                     name: str | None = None, timeout: float = 30.0) -> Server:
        """hubstats-server on loopback: `port` 0 lets it pick a free one (it prints it);
        `redis_url` None runs it on the in-memory store. Its keys go under `prefix` (None:
        the server's default prefix). `name` names it in messages and its log file (default:
        the prefix)."""
        # Tests and the demo replay fixed days (2024): a backfill, so any day counts, and they
        # query those days, so every day is kept (`extra_args` may say otherwise: the later
        # flag wins).
        args = [str(server_bin or server_binary()), "--listen", f"127.0.0.1:{port}",
                "--max-lateness-days", "any", "--retention-days", "forever"]
        if redis_url:
            args += ["--store", "redis", "--redis", redis_url]
            if prefix is not None:
                args += ["--redis-prefix", prefix]
        else:
            args += ["--store", "memory"]
        label = name or prefix or "default"
        server = Server(f"hubstats-server[{label}]", [*args, *extra_args],
                        self._log_path(f"server-{label}"), port=port, prefix=prefix)
        self._start_server(server, timeout)
        return server

    def _start_server(self, server: Server, timeout: float) -> None:
        if not Path(server.args[0]).exists():
            raise RuntimeError(f"{server.args[0]} is missing: build it first (scripts/build.sh)")
        self._spawn(server, pipe_stdout=True)
        self.processes.append(server)
        process = server.process
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
            raise RuntimeError(f"{server.name} did not start ({text or 'no output'}):\n"
                               f"{server.log_tail()}")
        server.port = int(text.split()[-1])
        # From now on the server is started again at this port (see restart).
        server.args = [f"127.0.0.1:{server.port}" if arg.startswith("127.0.0.1:") else arg
                       for arg in server.args]

    def restart(self, process: LocalProcess, timeout: float = 30.0) -> None:
        """Starts a stopped or killed process again with the same command: the same port (and
        for Redis the same folder, so an append-only file is replayed)."""
        if process.running():
            raise RuntimeError(f"{process.name} is still running")
        if process in self.processes:
            self.processes.remove(process)
        if isinstance(process, Redis):
            self._start_redis(process, timeout)
        else:
            self._start_server(process, timeout)

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
