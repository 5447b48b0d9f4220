"""Keepalive: the CLI, the Python client and the Node client ping the way docs/OPERATIONS.md
("Keepalive") says and within what the server's defaults accept; a client pinging more often
than the server's minimum interval would be cut off (GOAWAY too_many_pings)."""

import json
import re
import subprocess

from conftest import REPO, SERVER_BIN

NODE_CLIENT = REPO / "client/node"


def server_defaults():
    help_text = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True,
                               check=True).stdout
    return {name: int(value) for name, value in
            re.findall(r"^\s+--(keepalive-[a-z-]+)\s.*\[(\d+)\]$", help_text, re.M)}


def cli_options():
    source = (REPO / "client/common/channel.cc").read_text()
    names = {"GRPC_ARG_KEEPALIVE_TIME_MS": "grpc.keepalive_time_ms",
             "GRPC_ARG_KEEPALIVE_TIMEOUT_MS": "grpc.keepalive_timeout_ms",
             "GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS": "grpc.keepalive_permit_without_calls",
             "GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA": "grpc.http2.max_pings_without_data"}
    return {names[name]: int(value.replace("'", "")) for name, value in
            re.findall(r"SetInt\((GRPC_ARG_[A-Z0-9_]+), ([\d']+)\)", source) if name in names}


def python_options():
    from hubstats.client import KEEPALIVE_OPTIONS
    return dict(KEEPALIVE_OPTIONS)


def node_options():
    if not (NODE_CLIENT / "node_modules/@grpc/grpc-js").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=NODE_CLIENT, check=True, timeout=300)
    result = subprocess.run(
        ["node", "-e", "console.log(JSON.stringify(require('./hubstats.js').CHANNEL_OPTIONS))"],
        cwd=NODE_CLIENT, capture_output=True, text=True, check=True, timeout=60)
    return json.loads(result.stdout)


def test_every_client_pings_as_documented_and_within_what_the_server_accepts():
    server = server_defaults()
    assert set(server) == {"keepalive-time-ms", "keepalive-timeout-ms",
                           "keepalive-min-ping-interval-ms", "keepalive-permit-without-calls"}
    clients = {"cli": cli_options(), "python": python_options(), "node": node_options()}
    docs = (REPO / "docs/OPERATIONS.md").read_text()
    for name, options in clients.items():
        time_ms = options["grpc.keepalive_time_ms"]
        assert time_ms >= server["keepalive-min-ping-interval-ms"], name
        assert options["grpc.keepalive_timeout_ms"] < time_ms, name
        # Pings without calls are refused by the server's default: clients send none.
        assert options["grpc.keepalive_permit_without_calls"] == \
            server["keepalive-permit-without-calls"] == 0, name
        assert f"`keepalive_time_ms` {time_ms}" in docs, name
        assert f"`keepalive_timeout_ms` {options['grpc.keepalive_timeout_ms']}" in docs, name
    # One behaviour for all three (grpc-js has no limit on pings without data to set).
    assert clients["cli"] == clients["python"]
    assert {k: v for k, v in clients["python"].items() if "max_pings" not in k} == clients["node"]
    assert f"{server['keepalive-min-ping-interval-ms'] // 1000} s or slower" in docs
