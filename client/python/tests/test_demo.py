"""The main demo job: a short run passes, writes the charts and leaves no process behind, also
when it is stopped with SIGTERM or Ctrl-C (SIGINT)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubstats import demo, synth

PYTHON_DIR = Path(__file__).resolve().parents[1]
REPO = PYTHON_DIR.parents[1]
SERVER_BIN = Path(os.environ.get("HUBSTATS_SERVER_BIN",
                                 REPO / "build" / "service" / "hubstats-server"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# The snapshot has no parameter counts, so it gets no (empty) size chart, and one day: no trend.
CHARTS = {
    "synthetic": ["modality_share.png", "modality_trend.png", "organisation_concentration.png",
                  "size_share.png", "task_share.png", "top_concentration.png",
                  "top_organisations.png"],
    "snapshot": ["modality_share.png", "organisation_concentration.png", "task_share.png",
                 "top_concentration.png", "top_organisations.png"],
}


def demo_command(out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "hubstats.demo", "--server-bin", str(SERVER_BIN),
            "--out", str(out), *extra]


def demo_env() -> dict:
    return dict(os.environ, PYTHONPATH=str(PYTHON_DIR))


def started_pids(stderr: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"started \S+ pid (\d+)", stderr)]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def processes_mentioning(text: str) -> list[int]:
    """Processes whose command line contains `text` (the demo's redis gets --dir OUT/logs)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if pid != os.getpid() and alive(pid)]


def assert_nothing_left(stderr: str, out: Path) -> None:
    pids = started_pids(stderr)
    assert len(pids) == 3, stderr  # redis-server and two hubstats-servers
    deadline = time.monotonic() + 20
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in pids if alive(pid)], stderr
    assert processes_mentioning(str(out)) == []


def test_short_demo_run_passes_and_cleans_up(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(demo_command(out, "--models", "2000", "--events", "10000"),
                            cwd=PYTHON_DIR, env=demo_env(), capture_output=True, text=True,
                            timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "14 of 14 figures within 0.5 pp" in result.stdout
    assert "the synthetic hub over its last 30 days, 2024-08-22..2024-09-20" in result.stdout
    assert "service equals the file" in result.stdout
    # The trend: 12 months from Oct 2023, as GetTrend answers it, equal to the generator's.
    trend = result.stdout.split("Trend: the synthetic hub's modality share per month")[1]
    months = re.findall(r"^  ([A-Z][a-z]{2} 20\d\d) ", trend, re.MULTILINE)
    assert months[0] == "Oct 2023" and months[-1] == "Sep 2024" and len(months) == 12
    assert "the service's trend equals the generator's totals, month by month" in trend
    for data_set, names in CHARTS.items():
        assert sorted(path.name for path in (out / data_set).iterdir()) == names
        for name in names:
            data = (out / data_set / name).read_bytes()
            assert data.startswith(PNG_SIGNATURE) and len(data) > 10_000, (data_set, name)
    assert "snapshot: no model has a known parameter count" in result.stderr
    figures = json.loads((out / "figures.json").read_text())
    rows = figures["synthetic"]["rows"]
    assert len(rows) == len(synth.REPORT) and all(row["ok"] for row in rows)
    hub = synth.SyntheticHub(synth.DEFAULT_SEED, 2000, 10000, trend_months=12)
    assert figures["synthetic"]["trend"]["mismatches"] == []
    assert {(row["period"], row["modality"]): row["downloads"]
            for row in figures["synthetic"]["trend"]["downloads"]} == {
        (str(period), modality): downloads
        for (period, modality), downloads in hub.period_totals("month").items()}
    assert figures["snapshot"]["mismatches"] == []
    assert (out / "report.txt").read_text().strip() in result.stdout
    assert_nothing_left(result.stderr, out)


@pytest.mark.parametrize("signum,status", [
    (signal.SIGTERM, 143),
    (signal.SIGINT, 130),
    # No cleanup can run: the kernel's parent-death signal (setpriv) stops the children.
    pytest.param(signal.SIGKILL, -9, marks=pytest.mark.skipif(
        not shutil.which("setpriv"), reason="needs util-linux setpriv")),
])
def test_stop_signal_stops_every_process(tmp_path, signum, status):
    out = tmp_path / "out"
    # Big enough to still be streaming when the signal arrives.
    process = subprocess.Popen(demo_command(out, "--models", "30000", "--events", "400000",
                                            "--no-charts"),
                               cwd=PYTHON_DIR, env=demo_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    stderr = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            stderr.append(line)
            if line.startswith(("synthetic catalog", "[demo] snapshot:")):
                break  # the synthetic data set is being loaded now
        assert len(started_pids("".join(stderr))) == 3, "".join(stderr)
        time.sleep(0.5)
        process.send_signal(signum)
        remaining_out, remaining_err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr_text = "".join(stderr) + remaining_err
    assert process.returncode == status, stderr_text
    if signum != signal.SIGKILL:
        assert "interrupted" in stderr_text
    assert_nothing_left(stderr_text, out)


def test_exit_status_is_non_zero_when_a_figure_misses(tmp_path, monkeypatch, capsys):
    # A report figure the synthetic hub cannot meet: the demo must say FAIL and exit 1.
    monkeypatch.setattr(synth, "REPORT", synth.REPORT + (("modality:nlp", "impossible", 70.0),))
    status = demo.main(["--server-bin", str(SERVER_BIN), "--out", str(tmp_path / "out"),
                        "--models", "1000", "--events", "2000", "--no-charts"])
    captured = capsys.readouterr()
    assert status == 1
    assert "FAIL" in captured.out
    assert_nothing_left(captured.err, tmp_path / "out")


def test_exit_status_is_non_zero_when_the_trend_differs(tmp_path, monkeypatch, capsys):
    # The generator expecting one download more than it sent: the demo must say MISMATCH.
    period_totals = synth.SyntheticHub.period_totals

    def one_more(hub, granularity):
        totals = period_totals(hub, granularity)
        totals[min(totals)] += 1
        return totals

    monkeypatch.setattr(synth.SyntheticHub, "period_totals", one_more)
    status = demo.main(["--server-bin", str(SERVER_BIN), "--out", str(tmp_path / "out"),
                        "--models", "1000", "--events", "2000", "--no-charts"])
    captured = capsys.readouterr()
    assert status == 1
    assert "MISMATCH: 2023-10-01 " in captured.out
    assert_nothing_left(captured.err, tmp_path / "out")


def test_missing_server_binary_is_a_usage_error(tmp_path):
    with pytest.raises(SystemExit) as exit_info:
        demo.main(["--server-bin", str(tmp_path / "nope"), "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 2
