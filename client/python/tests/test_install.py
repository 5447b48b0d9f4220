"""`pip install ./client/python` into a fresh virtual environment (made with
--system-site-packages from /usr/bin/python3, so Debian's grpcio, protobuf, pandas and
matplotlib serve; offline: --no-index) and every documented module run from outside the source
tree: the package must carry its own data (the Hub snapshot, the task table)."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import hubstats
from hubstats._local import server_binary

CLIENT_DIR = Path(__file__).resolve().parents[1]
REPO = CLIENT_DIR.parents[1]


def source_copy(destination: Path) -> Path:
    """client/python copied to `destination` as it is, its data links made absolute, so pip's
    build leaves its files there and not in the source tree."""
    shutil.copytree(CLIENT_DIR, destination, symlinks=True,
                    ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    for link in (destination / "hubstats" / "data").iterdir():
        target = (CLIENT_DIR / "hubstats" / "data" / os.readlink(link)).resolve()
        link.unlink()
        link.symlink_to(target)
    return destination


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The python of a fresh venv with the package installed."""
    source = source_copy(tmp_path_factory.mktemp("source") / "python")
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)],
                   check=True, timeout=120)
    python = venv / "bin" / "python"
    result = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-index",
                             "--no-build-isolation", "--disable-pip-version-check",
                             str(source)],
                            capture_output=True, text=True, timeout=300, env=clean_env())
    assert result.returncode == 0, result.stdout + result.stderr
    return python


def clean_env() -> dict:
    """The environment without anything that points into the source tree."""
    return {key: value for key, value in os.environ.items()
            if key not in ("PYTHONPATH", "HUBSTATS_SNAPSHOT_CSV")}


def run(python: Path, cwd: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=clean_env())


def test_the_installed_package_is_used(installed, tmp_path):
    result = run(installed, tmp_path, "-c", "import hubstats, hubstats.charts, hubstats.demo, "
                 "hubstats.snapshot, hubstats.synth; print(hubstats.__file__)")
    assert result.returncode == 0, result.stderr
    location = Path(result.stdout.strip())
    assert installed.parent.parent in location.parents
    assert CLIENT_DIR not in location.parents


def test_snapshot_reads_its_packaged_data(installed, tmp_path):
    with open(REPO / "data" / "hf_models_top10k_2024-09.csv", newline="") as file:
        total = sum(int(row["downloads"]) for row in csv.DictReader(file))
    result = run(installed, tmp_path, "-m", "hubstats.snapshot")
    assert result.returncode == 0, result.stderr
    assert f"{total:,} downloads" in result.stdout


def test_synth_runs(installed, tmp_path):
    result = run(installed, tmp_path, "-m", "hubstats.synth", "--dry-run", "--models", "1000",
                 "--events", "2000")
    assert result.returncode == 0, result.stderr
    assert "authors with downloads" in result.stderr


def test_charts_and_the_demo_run(installed, tmp_path, server):
    with hubstats.Client(server.target) as client:
        client.upsert_models([{"model_id": "org/a", "pipeline_tag": "fill-mask",
                               "num_parameters": "110M"}])
        client.ingest([{"model_id": "org/a", "timestamp": "2024-09-20", "count": 5},
                       {"model_id": "other/b", "timestamp": "2024-09-21", "count": 3}])
    result = run(installed, tmp_path, "-m", "hubstats.charts", "--target", server.target,
                 "--out", str(tmp_path / "charts"))
    assert result.returncode == 0, result.stderr
    # Two days of data: the five charts and the daily modality trend.
    assert len(list((tmp_path / "charts").glob("*.png"))) == 6

    result = run(installed, tmp_path, "-m", "hubstats.demo", "--server-bin",
                 str(server_binary()), "--models", "2000", "--events", "10000", "--no-charts",
                 "--out", str(tmp_path / "demo"), timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "service equals the file" in result.stdout
