"""The suite's fixtures come from the one process harness (hubstats._local via
hubstats._fixtures): a real redis-server and real servers on free loopback ports."""

from hubstats._fixtures import local, make_server, redis, server, session_stack  # noqa: F401
