"""pytest fixtures on hubstats._local, for every Python test suite. A suite's conftest.py
imports the ones it uses:

    from hubstats._fixtures import local, make_server, redis, server, session_stack  # noqa

* `redis`: one redis-server (no persistence) for the whole session;
* `make_server(prefix=None, extra_args=(), port=0)`: a hubstats-server on that Redis; each call
  without `prefix` gets a key space of its own; `port` starts it at a given port (a killed
  server's, to bring it back at the same address);
* `server`: a fresh Redis-backed server with no data;
* `local`: a LocalStack of the test's own (its Redis may be paused or killed; an AOF Redis,
  restarts), stopped when the test ends.

Every process a fixture starts is stopped when its scope ends; logs go to pytest's temporary
folders.
"""

from __future__ import annotations

import itertools
import os

import pytest

from hubstats._local import LocalStack, Server

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def session_stack(tmp_path_factory):
    with LocalStack(tmp_path_factory.mktemp("hubstats-session")) as stack:
        yield stack


@pytest.fixture(scope="session")
def redis(session_stack):
    return session_stack.start_redis()


@pytest.fixture
def local(tmp_path):
    """A LocalStack of the test's own, stopped when the test ends."""
    with LocalStack(tmp_path / "processes") as stack:
        yield stack


@pytest.fixture
def make_server(redis, local):
    """Starts servers on the shared Redis; see the module's docstring."""

    def make(prefix: str | None = None, extra_args=(), port: int = 0) -> Server:
        if prefix is None:
            prefix = f"pytest{os.getpid()}x{next(_prefixes)}"
        return local.start_server(redis.url, prefix, extra_args=extra_args, port=port)

    return make


@pytest.fixture
def server(make_server) -> Server:
    """A fresh Redis-backed server with no data."""
    return make_server()
