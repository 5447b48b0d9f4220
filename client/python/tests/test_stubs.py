"""tools/generate_stubs.py --check: passes on the committed stubs, fails on drifted ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[1]
SCRIPT = CLIENT_DIR / "tools" / "generate_stubs.py"
STUBS = CLIENT_DIR / "hubstats" / "v1"
GENERATED = ["error_details_pb2.py", "error_details_pb2_grpc.py", "hubstats_pb2.py",
             "hubstats_pb2_grpc.py"]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def stub_copy(tmp_path) -> Path:
    """A copy of the committed stubs to tamper with."""
    copy = tmp_path / "v1"
    shutil.copytree(STUBS, copy, ignore=shutil.ignore_patterns("__pycache__"))
    return copy


def test_committed_stubs_are_current():
    result = run("--check")
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in STUBS.glob("*_pb2*.py")) == GENERATED


def test_check_passes_on_an_untouched_copy(stub_copy):
    assert run("--check", "--stubs-dir", str(stub_copy)).returncode == 0


def test_check_fails_on_a_hand_edited_stub(stub_copy):
    edited = stub_copy / "hubstats_pb2.py"
    edited.write_text(edited.read_text().replace("DO NOT EDIT!", "DO NOT EDIT! (edited)"))

    result = run("--check", "--stubs-dir", str(stub_copy))

    assert result.returncode == 1
    assert f"{edited}: differs" in result.stderr
    assert "error_details_pb2.py" not in result.stderr
    assert "run client/python/tools/generate_stubs.py" in result.stderr


def test_check_fails_on_missing_and_stale_stubs(stub_copy):
    (stub_copy / "error_details_pb2_grpc.py").unlink()
    (stub_copy / "old_pb2.py").write_text("# left over\n")

    result = run("--check", "--stubs-dir", str(stub_copy))

    assert result.returncode == 1
    assert "error_details_pb2_grpc.py: missing" in result.stderr
    assert "old_pb2.py: not generated from any proto" in result.stderr


def test_regenerating_repairs_the_copy(stub_copy):
    (stub_copy / "hubstats_pb2_grpc.py").write_text("# broken\n")
    assert run("--stubs-dir", str(stub_copy)).returncode == 0
    assert run("--check", "--stubs-dir", str(stub_copy)).returncode == 0
    assert (stub_copy / "__init__.py").exists()  # Hand-written files are kept.
