"""The container image: small, runtime files only, a numeric non-root user, configured by
HUBSTATS_* variables; the server in it answers health and queries, loaded and asked through the
CLI inside the image and the Python client outside it, and drains on SIGTERM.

Expected figures are recomputed from the data set by hubstats.snapshot.figures (the demo's
check), independently of the service."""

import json

import pytest

from conftest import free_port, health, logs, podman, run_json, wait_serving
from hubstats import Client, snapshot

# Containers are started with the restrictions the manifests give them in Kubernetes.
RESTRICTED = ["--read-only", "--cap-drop", "ALL", "--security-opt", "no-new-privileges"]
MODELS = 2000  # the snapshot's most downloaded models: enough for every figure to matter
SIZE_BUDGET_MB = 150


def inspect(image):
    return json.loads(podman("image", "inspect", image))[0]


def test_image_is_small_and_holds_the_two_binaries_and_runtime_libraries_only(image):
    info = inspect(image)
    size_mb = info["Size"] / 1e6
    assert size_mb < SIZE_BUDGET_MB, f"image is {size_mb:.0f} MB"
    config = info["Config"]
    assert config["Entrypoint"] == ["hubstats-server"]      # no flags that beat the environment
    assert not config.get("Cmd")
    assert config["User"] == "65532:65532"
    assert "Healthcheck" not in config or not config["Healthcheck"]
    # What is installed beyond the base: no compilers, no -dev packages; both binaries on PATH.
    listing = podman("run", "--rm", *RESTRICTED, "--entrypoint", "sh", image, "-c",
                     "for b in hubstats-server hubstats; do command -v $b; done; "
                     "dpkg-query -W -f '${Package}\\n' "
                     "| grep -E -- '-dev$|^(g\\+\\+|gcc|cpp|cmake|make)(-[0-9]+)?$' || true")
    assert listing.split() == ["/usr/local/bin/hubstats-server", "/usr/local/bin/hubstats"], \
        listing


@pytest.fixture
def data_set(tmp_path):
    """The snapshot's top models as the CLI's input files, and their figures computed here."""
    models = snapshot.read()[:MODELS]
    with open(tmp_path / "models.jsonl", "w") as file:
        for record in snapshot.records(models):
            file.write(json.dumps({k: v for k, v in record.items() if v is not None}) + "\n")
    with open(tmp_path / "events.jsonl", "w") as file:
        for event in snapshot.events(models):
            file.write(json.dumps({"model_id": event["model_id"], "count": event["count"],
                                   "timestamp": event["timestamp"].isoformat()}) + "\n")
    tmp_path.chmod(0o755)
    return tmp_path, snapshot.figures(models)


@pytest.fixture
def container(image, redis, data_set):
    """The image's server on the test's redis-server, configured only by the environment."""
    directory, _ = data_set
    port = free_port()
    name = f"hubstats-test-server-{port}"
    podman("run", "--detach", "--name", name, "--network", "host", *RESTRICTED,
           "--volume", f"{directory}:/data:ro",
           "--env", "HUBSTATS_STORE=redis", "--env", f"HUBSTATS_REDIS={redis.url}",
           "--env", f"HUBSTATS_REDIS_PREFIX=image{port}",
           "--env", f"HUBSTATS_LISTEN=127.0.0.1:{port}",
           # The 2024 snapshot: a backfill, every day kept.
           "--env", "HUBSTATS_MAX_LATENESS_DAYS=any", "--env", "HUBSTATS_RETENTION_DAYS=forever",
           image)
    try:
        wait_serving(f"127.0.0.1:{port}", logs=lambda: logs(name))
        yield name, f"127.0.0.1:{port}"
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def test_server_in_the_image_answers_the_cli_inside_and_python_outside_exactly(container,
                                                                              data_set):
    name, target = container
    _, local = data_set

    def cli(*args):
        return run_json(["podman", "exec", name, "hubstats", "--target", target, *args, "--json"])

    catalog = cli("catalog", "/data/models.jsonl")
    assert (catalog["accepted"], catalog["rejected"]) == (MODELS, 0)
    ingest = cli("ingest", "/data/events.jsonl", "--producer-id", "image-test")
    assert (ingest["accepted"], ingest["rejected"]) == (MODELS, 0)
    assert ingest["accepted_downloads"] == local["total_downloads"]

    # Inside the image: the CLI.
    totals = cli("totals")
    assert totals["total_downloads"] == local["total_downloads"]
    assert totals["models_with_downloads"] == local["models"]
    assert totals["authors_with_downloads"] == local["authors"]
    modality = cli("modality")
    assert {row["modality"]: row["share_pct"] for row in modality["rows"] if row["downloads"]} \
        == pytest.approx(local["modality"], abs=1e-9)
    for n, share in local["top_authors"].items():
        assert cli("top", "--by", "author", "--n", str(n))["top_share_pct"] \
            == pytest.approx(share, abs=1e-9)

    # Outside: the Python client, every figure the demo checks.
    with Client(target) as client:
        assert snapshot.differences(local, snapshot.measure(client), tolerance=1e-9) == []


def test_sigterm_drains_and_the_server_exits_cleanly_within_its_grace(container):
    name, target = container
    assert health(target) == "SERVING"
    # SIGTERM, and SIGKILL (exit code 137) if the server is still running after its grace.
    podman("stop", "--time", "15", name)
    state = json.loads(podman("inspect", name))[0]["State"]
    assert state["ExitCode"] == 0, logs(name)
    assert "stopped; ingest since start" in logs(name)
