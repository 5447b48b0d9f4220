"""TLS, mutual TLS and tokens end to end from every client: the Python client, the hubstats CLI
and the Node client against a Redis-backed server with a test CA (tests/support/
make_test_certs.sh), mutual TLS and a token file. Each client ingests or reads with the right
token and is refused (UNAUTHENTICATED, PERMISSION_DENIED, or the handshake) otherwise; every
count read back equals what was sent. Settings come from options and from the environment
alone; a token is never taken from a command-line argument.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import hubstats
from hubstats._local import cli_binary

REPO = Path(__file__).resolve().parents[3]
MAKE_CERTS = REPO / "tests" / "support" / "make_test_certs.sh"
NODE = shutil.which("node")
NODE_CLI = REPO / "client" / "node" / "hubstats.js"

WRITER = "py-writer-5f0c2a9e71d34b86"
READER = "py-reader-0b7e3d91c4a25f68"
OTHER = "py-other-8d2f41a6e90c37b5"
OPS = "py-ops-4c1d8e2a7f6b9035"


def _line(name: str, scopes: str, token: str, options: str = "") -> str:
    return f"{name} {scopes} sha256:{hashlib.sha256(token.encode()).hexdigest()} {options}\n"


@pytest.fixture(scope="module")
def material(tmp_path_factory):
    """The test CA's files and the tokens, written to files as clients would get them."""
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run([str(MAKE_CERTS), str(directory)], check=True)
    (directory / "tokens").write_text(
        _line("writer", "ingest", WRITER, "producers=py-,cli-") + _line("reader", "read", READER)
        + _line("other", "ingest", OTHER, "producers=other-") + _line("ops", "ingest,read", OPS))
    for name, token in (("writer", WRITER), ("reader", READER)):
        (directory / f"{name}.token").write_text(token + "\n")
    return directory


@pytest.fixture
def secure(make_server, material):
    """A server with mutual TLS and tokens; its target by the certificate's name."""
    server = make_server(extra_args=[
        "--tls-cert", str(material / "server.pem"), "--tls-key", str(material / "server.key"),
        "--tls-client-ca", str(material / "ca.pem"), "--tokens-file", str(material / "tokens")])
    return f"localhost:{server.port}"


def tls_options(material) -> dict:
    return {"ca_file": str(material / "ca.pem"), "cert_file": str(material / "client.pem"),
            "key_file": str(material / "client.key")}


def tls_flags(material) -> list[str]:
    return ["--ca-file", str(material / "ca.pem"), "--cert-file", str(material / "client.pem"),
            "--key-file", str(material / "client.key")]


def clean_environment(**variables) -> dict:
    """The process environment without any HUBSTATS_* security setting, plus `variables`."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("HUBSTATS_TOKEN", "HUBSTATS_TLS", "HUBSTATS_CA_FILE",
                                  "HUBSTATS_CERT_FILE", "HUBSTATS_KEY_FILE"))}
    env.update(variables)
    return env


EVENTS = [{"model_id": "org/alpha", "count": 5, "timestamp": "2024-09-20"},
          {"model_id": "org/beta", "count": 3, "timestamp": "2024-09-21"},
          {"model_id": "solo", "count": 2, "timestamp": "2024-09-21"}]
SENT = sum(event["count"] for event in EVENTS)


def test_python_client_with_mutual_tls_and_tokens(secure, material):
    with hubstats.Client(secure, token=WRITER, **tls_options(material)) as writer:
        summary = writer.ingest(EVENTS, producer_id="py-job-1")
        assert summary["accepted_downloads"] == SENT
        with pytest.raises(hubstats.PermissionDeniedError, match="'read'"):
            writer.totals()
        with pytest.raises(hubstats.PermissionDeniedError, match="producer"):
            writer.ingest(EVENTS, producer_id="other-job-1")
    with hubstats.Client(secure, token_file=str(material / "reader.token"),
                         **tls_options(material)) as reader:
        assert reader.totals()["total_downloads"] == SENT
        with pytest.raises(hubstats.PermissionDeniedError, match="'ingest'"):
            reader.upsert_models([{"model_id": "org/alpha", "pipeline_tag": "fill-mask"}])
    with hubstats.Client(secure, **tls_options(material)) as anonymous:
        with pytest.raises(hubstats.UnauthenticatedError):
            anonymous.totals()
    with hubstats.Client(secure, token="not-a-token", **tls_options(material)) as wrong:
        with pytest.raises(hubstats.UnauthenticatedError):
            wrong.totals()
    # Without a client certificate, or trusting another CA, the handshake fails.
    for options in ({"ca_file": str(material / "ca.pem")},
                    {**tls_options(material), "ca_file": str(material / "other-ca.pem")}):
        with hubstats.Client(secure, token=READER, timeout=5, **options) as client:
            with pytest.raises(hubstats.UnavailableError):
                client.totals()


def test_python_client_from_the_environment_alone(secure, material, monkeypatch):
    monkeypatch.setenv("HUBSTATS_CA_FILE", str(material / "ca.pem"))
    monkeypatch.setenv("HUBSTATS_CERT_FILE", str(material / "client.pem"))
    monkeypatch.setenv("HUBSTATS_KEY_FILE", str(material / "client.key"))
    monkeypatch.setenv("HUBSTATS_TOKEN_FILE", str(material / "writer.token"))
    with hubstats.Client(secure) as client:
        assert client.ingest(EVENTS, producer_id="py-env")["accepted_downloads"] == SENT
    monkeypatch.delenv("HUBSTATS_TOKEN_FILE")
    monkeypatch.setenv("HUBSTATS_TOKEN", READER)
    with hubstats.Client(secure) as client:
        assert client.totals()["total_downloads"] == SENT
    # A certificate without its key is a mistake of the caller's, caught before any call.
    monkeypatch.delenv("HUBSTATS_KEY_FILE")
    with pytest.raises(ValueError, match="needs its key"):
        hubstats.Client(secure)


def run_cli(*args, env=None, input_file=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(cli_binary()), *args], capture_output=True, text=True,
                          timeout=120, env=env or clean_environment())


def test_cli_with_mutual_tls_and_tokens(secure, material, tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("".join(json.dumps(event) + "\n" for event in EVENTS))
    target = ["--target", secure]
    # No token: UNAUTHENTICATED, exit 1, and where the token comes from.
    refused = run_cli(*target, *tls_flags(material), "totals")
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr
    assert "HUBSTATS_TOKEN" in refused.stderr
    # The writer ingests (token in the environment), as one of its producers only.
    writer_env = clean_environment(HUBSTATS_TOKEN=WRITER)
    ingested = run_cli(*target, *tls_flags(material), "ingest", str(events), "--producer-id",
                       "cli-job-1", "--json", env=writer_env)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["accepted_downloads"] == SENT
    hijack = run_cli(*target, *tls_flags(material), "ingest", str(events), "--producer-id",
                     "other-job-9", env=writer_env)
    assert hijack.returncode == 1 and "PERMISSION_DENIED" in hijack.stderr
    # The reader reads (token in a file) what was sent, and cannot ingest.
    reader = ["--token-file", str(material / "reader.token")]
    totals = run_cli(*target, *tls_flags(material), *reader, "totals", "--json")
    assert totals.returncode == 0, totals.stderr
    assert json.loads(totals.stdout)["total_downloads"] == SENT
    denied = run_cli(*target, *tls_flags(material), *reader, "catalog", str(events))
    assert denied.returncode == 1
    # Without a client certificate the handshake fails; plaintext to the TLS port too.
    no_certificate = run_cli(*target, "--ca-file", str(material / "ca.pem"), *reader, "totals")
    assert no_certificate.returncode == 1 and "UNAVAILABLE" in no_certificate.stderr
    plaintext = run_cli(*target, *reader, "totals")
    assert plaintext.returncode == 1 and "UNAVAILABLE" in plaintext.stderr
    # Everything from the environment alone.
    env_only = clean_environment(HUBSTATS_TARGET=secure, HUBSTATS_CA_FILE=str(material / "ca.pem"),
                                 HUBSTATS_CERT_FILE=str(material / "client.pem"),
                                 HUBSTATS_KEY_FILE=str(material / "client.key"),
                                 HUBSTATS_TOKEN_FILE=str(material / "reader.token"))
    totals = run_cli("totals", "--json", env=env_only)
    assert totals.returncode == 0, totals.stderr
    assert json.loads(totals.stdout)["total_downloads"] == SENT
    # A token is never an argument: there is no such option.
    argument = run_cli(*target, "--token", READER, "totals")
    assert argument.returncode == 2 and "--token" in argument.stderr


@pytest.mark.skipif(NODE is None, reason="`node` is not on PATH")
def test_node_client_with_mutual_tls_and_tokens(secure, material):
    if not (NODE_CLI.parent / "node_modules" / "@grpc" / "grpc-js").is_dir():
        pytest.fail("client/node/node_modules is missing: run `npm ci` there", pytrace=False)
    with hubstats.Client(secure, token=WRITER, **tls_options(material)) as writer:
        writer.ingest(EVENTS, producer_id="py-for-node")

    def node(*args, env=None):
        return subprocess.run([NODE, str(NODE_CLI), "--target", secure, *args],
                              capture_output=True, text=True, timeout=60,
                              env=env or clean_environment())

    answer = node(*tls_flags(material), "--token-file", str(material / "reader.token"), "--json")
    assert answer.returncode == 0, answer.stderr
    headline = json.loads(answer.stdout)
    assert headline["modality"]["total_downloads"] == SENT
    refused = node(*tls_flags(material), "--json")
    assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr
    writer = node(*tls_flags(material), "--json", env=clean_environment(HUBSTATS_TOKEN=WRITER))
    assert writer.returncode == 1 and "PERMISSION_DENIED" in writer.stderr
    no_certificate = node("--ca-file", str(material / "ca.pem"), "--token-file",
                          str(material / "reader.token"), "--json", "--timeout", "5")
    assert no_certificate.returncode == 1
    env_only = clean_environment(HUBSTATS_CA_FILE=str(material / "ca.pem"),
                                 HUBSTATS_CERT_FILE=str(material / "client.pem"),
                                 HUBSTATS_KEY_FILE=str(material / "client.key"),
                                 HUBSTATS_TOKEN=READER)
    answer = node("--json", env=env_only)
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["modality"]["total_downloads"] == SENT


BENCH = os.environ.get("HUBSTATS_BENCH_BIN", str(REPO / "build/client/bench/hubstats-bench"))


@pytest.mark.skipif(not Path(BENCH).exists(), reason="hubstats-bench is not built")
def test_bench_tool_from_the_environment(secure, material):
    """hubstats-bench takes TLS and the token from the environment alone."""
    env = clean_environment(HUBSTATS_CA_FILE=str(material / "ca.pem"),
                            HUBSTATS_CERT_FILE=str(material / "client.pem"),
                            HUBSTATS_KEY_FILE=str(material / "client.key"), HUBSTATS_TOKEN=OPS)

    def bench(*args, env=env):
        return subprocess.run([BENCH, *args, "--target", secure, "--models", "200", "--json"],
                              capture_output=True, text=True, timeout=120, env=env)

    catalog = bench("catalog")
    assert catalog.returncode == 0, catalog.stderr
    assert json.loads(catalog.stdout)["records"] == 200
    query = bench("query", "--duration", "1s", "--concurrency", "1")
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["modality_share"]["errors"] == 0
    # Without the environment's token it fails.
    refused = bench("query", "--duration", "1s", "--concurrency", "1",
                    env=clean_environment(HUBSTATS_CA_FILE=str(material / "ca.pem"),
                                          HUBSTATS_CERT_FILE=str(material / "client.pem"),
                                          HUBSTATS_KEY_FILE=str(material / "client.key")))
    assert refused.returncode != 0
