"""The suite's fixtures come from the one process harness (hubstats._local via
hubstats._fixtures): real redis-server and hubstats-server processes on free loopback ports."""

from hubstats._fixtures import local, make_server, redis, server, session_stack  # noqa: F401
