"""Reuses the server fixtures of the Python client's tests (real redis-server, real servers)."""

import importlib.util
from pathlib import Path

_path = Path(__file__).resolve().parents[2] / "client" / "python" / "tests" / "conftest.py"
_spec = importlib.util.spec_from_file_location("hubstats_server_fixtures", _path)
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

REPO = _fixtures.REPO
free_port = _fixtures.free_port
redis = _fixtures.redis
make_server = _fixtures.make_server
server = _fixtures.server
