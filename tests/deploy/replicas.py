"""hubstats-server replicas with their metrics endpoints, a Prometheus text parser, a health
client we did not write (the npm grpc-health-check package), and event files with their truth:
what the telemetry and load-balancer tests share. Every process is started on free loopback
ports and stopped by its own pid."""

import datetime
import json
import os
import random
import re
import signal
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

from conftest import HERE, SERVER_BIN, free_port

CLI_BIN = os.environ.get("HUBSTATS_CLI_BIN",
                         str(Path(SERVER_BIN).parents[2] / "client/cli/hubstats"))


class Replica:
    """A hubstats-server process; `target` its gRPC address, `metrics_url` its /metrics."""

    def __init__(self, args, env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="hubstats-replica-", suffix=".log",
                                               delete=False)
        self.process = subprocess.Popen(
            [SERVER_BIN, "--listen", "127.0.0.1:0", "--metrics-listen", "127.0.0.1:0", *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True, env=env)
        first = self.process.stdout.readline()
        # The log names the metrics port (logged before the gRPC port is printed).
        metrics_port = re.search(r"metrics on \S+ \(port (\d+)\)", self.logs())
        if not first.startswith("listening on port ") or not metrics_port:
            self.stop()
            raise RuntimeError(f"server did not start: {first}{self.logs()}")
        self.target = f"127.0.0.1:{int(first.split()[-1])}"
        self.metrics_url = f"http://127.0.0.1:{int(metrics_port.group(1))}/metrics"

    def logs(self):
        if hasattr(self, "final_logs"):
            return self.final_logs
        return Path(self.log.name).read_text(errors="replace")

    def scrape(self):
        with urllib.request.urlopen(self.metrics_url, timeout=5) as answer:
            assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
            return parse_prometheus(answer.read().decode())

    def terminate(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout=20):
        """SIGTERM, then kill -9 after `timeout`; `logs()` still answers afterwards."""
        self.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if not hasattr(self, "final_logs"):
            self.final_logs = self.logs()
            os.unlink(self.log.name)


_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """{(name, ((label, value), ...)): value} from the text exposition format; checks that every
    sample belongs to a family announced by HELP and TYPE lines."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        family = re.sub(r"_(bucket|sum|count)$", "", name) if name not in types else name
        assert family in types, f"{name} has no TYPE line"
        parsed = tuple((k, bytes(v, "utf-8").decode("unicode_escape"))
                       for k, v in _LABEL.findall(labels or ""))
        samples[(name, parsed)] = float(value)
    return samples


def metric(samples, name, **labels):
    """One sample's value (0 when the series does not exist yet)."""
    return samples.get((name, tuple(labels.items())), 0.0)


def health_node_modules():
    """The npm packages of health_check.mjs, from the committed lock file."""
    if not (HERE / "node_modules/grpc-health-check").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       check=True, timeout=300)


def health(target, *services):
    """{service: status} by grpc-health-check's client (health_check.mjs)."""
    result = subprocess.run(["node", str(HERE / "health_check.mjs"), target, *services],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def watch_health(target, *services):
    """Starts health_check.mjs --watch: one JSON line {service, status} per update it receives."""
    return subprocess.Popen(["node", str(HERE / "health_check.mjs"), "--watch", target, *services],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_until(condition, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"no {what} after {timeout}s")


def write_events(path, count, seed, invalid_every=0):
    """`count` event lines (JSONL) over 400 models and the last five days (UTC), which a server
    with the default --max-lateness-days (7) counts; every `invalid_every`-th line has a model
    id the server refuses. Returns the truth: valid and invalid lines, downloads, models with
    downloads."""
    rng = random.Random(seed)
    today = datetime.datetime.now(datetime.timezone.utc).date()
    truth = {"valid": 0, "invalid": 0, "downloads": 0, "models": set()}
    with open(path, "w") as out:
        for i in range(count):
            count_ = rng.randint(1, 1000)
            if invalid_every and i % invalid_every == invalid_every - 1:
                model = "bad--model"
                truth["invalid"] += 1
            else:
                model = f"org{rng.randrange(40)}/model-{rng.randrange(400)}"
                truth["valid"] += 1
                truth["downloads"] += count_
                truth["models"].add(model)
            day = today - datetime.timedelta(days=rng.randrange(5))
            out.write(json.dumps({"model_id": model, "count": count_,
                                  "timestamp": day.isoformat()}) + "\n")
    truth["models"] = len(truth["models"])
    return truth


def cli(*args, timeout=300):
    """The hubstats CLI; returns (exit status, stdout, stderr)."""
    result = subprocess.run([CLI_BIN, *args], capture_output=True, text=True, timeout=timeout)
    return result.returncode, result.stdout, result.stderr
