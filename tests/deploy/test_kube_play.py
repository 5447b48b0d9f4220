"""The dev overlay, rendered by kustomize, runs under `podman kube play` (adapted as
podman_kube.py says): three hubstats replicas and Redis with its append-only file on a volume,
as the manifests configure them. The demo's real-snapshot figures come back exact through them,
checked against hubstats.snapshot.figures, computed from the CSV file alone."""

import json
import os
import subprocess
import tempfile
import time

import pytest

from conftest import BASE_IMAGE, HERE, free_port, logs, podman, render, run_json, wait_serving
from hubstats import Client, snapshot
from podman_kube import Played


@pytest.fixture(scope="module")
def redis_image(image):
    """Debian's redis-server on the base image, standing in for the image the manifests name."""
    name = f"localhost/hubstats-test-redis:{os.getpid()}"
    with tempfile.TemporaryDirectory() as context:
        podman("build", "--quiet", "--pull=never", "--network", "host", "--layers=false",
               "--build-arg", f"BASE_IMAGE={BASE_IMAGE}", "--tag", name,
               "--file", str(HERE / "redis.Dockerfile"), context)
    try:
        yield name
    finally:
        podman("rmi", "--force", name, check=False)


def pause_images():
    """podman's pod infrastructure images (it builds one on the first `kube play`)."""
    return set(podman("images", "--format", "{{.Repository}}:{{.Tag}}",
                      "--filter", "reference=localhost/podman-pause").split())


@pytest.fixture(scope="module")
def played(image, redis_image):
    ports = {"hubstats_port": free_port(), "redis_port": free_port()}
    deployment = Played(render("dev"), f"t{os.getpid()}",
                        {"hubstats": image, "redis": redis_image}, **ports)
    had_pause_images = pause_images()
    try:
        deployment.play()
        deployment.target = f"127.0.0.1:{ports['hubstats_port']}"
        deployment.redis_port = ports["redis_port"]
        yield deployment
    finally:
        deployment.down()
        for pause_image in pause_images() - had_pause_images:
            podman("rmi", pause_image, check=False)


def redis_cli(port, *args, password=None):
    env = {**os.environ, "REDISCLI_AUTH": password} if password else \
        {k: v for k, v in os.environ.items() if k != "REDISCLI_AUTH"}
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True, text=True,
                          env=env, timeout=30).stdout.strip()


def wait_for_log(containers, text, timeout=90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(text in logs(c) for c in containers):
            return
        time.sleep(0.3)
    raise AssertionError(f"no '{text}' after {timeout}s:\n" +
                         "\n".join(f"{c}:\n{logs(c)}" for c in containers))


def test_dev_overlay_under_podman_answers_the_demo_figures_exactly(played):
    servers = played.containers("hubstats")
    [redis] = played.containers("hubstats-redis")
    assert len(servers) == 3, podman("ps", "-a")
    wait_for_log(servers, "store answers: SERVING")   # each replica reached Redis by the Secret
    wait_serving(played.target)

    # Redis as the manifests run it: password required, append-only file fsynced always.
    assert "NOAUTH" in redis_cli(played.redis_port, "ping")
    password = played.redis_password
    assert redis_cli(played.redis_port, "config", "get", "appendfsync", password=password) \
        .split() == ["appendfsync", "always"]
    assert redis_cli(played.redis_port, "config", "get", "appendonly", password=password) \
        .split() == ["appendonly", "yes"]
    assert podman("exec", redis, "ls", "/data/appendonlydir").split()

    # The demo's real snapshot through the replicas, as the demo loads and checks it.
    models = snapshot.read()
    local = snapshot.figures(models)
    with Client(played.target, timeout=120) as client:
        snapshot.load(client, models)
        assert snapshot.differences(local, snapshot.measure(client), tolerance=1e-9) == []

    # Replicas leave one at a time, as in a rolling update: each drains on SIGTERM and exits 0
    # within its grace; the rest keep answering exactly (the CLI inside the last one asks).
    for leaving in servers[:-1]:
        podman("stop", "--time", "15", leaving)
        assert json.loads(podman("inspect", leaving))[0]["State"]["ExitCode"] == 0, logs(leaving)
        totals = run_json(["podman", "exec", servers[-1], "hubstats", "--target", played.target,
                           "totals", "--json"])
        assert (totals["total_downloads"], totals["models_with_downloads"],
                totals["authors_with_downloads"]) == \
            (local["total_downloads"], local["models"], local["authors"])
