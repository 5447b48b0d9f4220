"""Deployment tests: the container image built by scripts/image.sh, run with podman; the
Kubernetes manifests rendered with `kubectl kustomize`, validated, and run with `podman kube play`.

Every container, pod, volume, secret and image a test creates is removed when it ends; the base
image scripts/image.sh makes (localhost/hubstats-base:bookworm) is kept, as a cache like ccache.
Servers listen on free loopback ports only (containers share the host's network).

HUBSTATS_DEPLOY_IMAGE=NAME uses an image that is already built instead of building one (and
leaves it in place): for iterating on the tests, not for CI.
"""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import grpc
import pytest
import yaml
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SERVER_BIN = os.environ.get("HUBSTATS_SERVER_BIN", str(REPO / "build/service/hubstats-server"))
BASE_IMAGE = "localhost/hubstats-base:bookworm"
OVERLAYS = ("dev", "production")
# Every podman command of the tests (and scripts/image.sh) runs with the repository's settings.
os.environ.setdefault("CONTAINERS_CONF", str(REPO / "deploy/podman/containers.conf"))
sys.path.insert(0, str(REPO / "client/python"))

# The one process harness: free loopback ports and a real redis-server (hubstats._local).
from hubstats._fixtures import redis, session_stack  # noqa: E402,F401
from hubstats._local import free_port  # noqa: E402,F401


def podman(*args, check=True, timeout=600):
    """Runs podman; returns its stdout. Raises with podman's stderr when `check` and it fails."""
    result = subprocess.run(["podman", *args], capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stderr}{result.stdout}")
    return result.stdout


def logs(container):
    """A container's output, stdout and stderr."""
    result = subprocess.run(["podman", "logs", container], capture_output=True, text=True,
                            timeout=60)
    return result.stdout + result.stderr


def render(overlay):
    """The objects `kubectl kustomize` renders for deploy/k8s/overlays/<overlay>."""
    result = subprocess.run(["kubectl", "kustomize", str(REPO / "deploy/k8s/overlays" / overlay)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def the(objects, kind, name=None):
    """The one object of `kind` (and `name`, if given) among `objects`."""
    found = [o for o in objects if o["kind"] == kind
             and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


# grpc.health.v1 messages, built from their published definition: Debian packages no Python
# health stubs, and the two messages are small.
def _health_messages():
    file = descriptor_pb2.FileDescriptorProto(name="hubstats_tests/health.proto",
                                              package="grpc.health.v1", syntax="proto3")
    request = file.message_type.add(name="HealthCheckRequest")
    field = descriptor_pb2.FieldDescriptorProto
    request.field.add(name="service", number=1, type=field.TYPE_STRING,
                      label=field.LABEL_OPTIONAL)
    response = file.message_type.add(name="HealthCheckResponse")
    status = response.enum_type.add(name="ServingStatus")
    for number, name in enumerate(("UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN")):
        status.value.add(name=name, number=number)
    response.field.add(name="status", number=1, type=field.TYPE_ENUM,
                       type_name=".grpc.health.v1.HealthCheckResponse.ServingStatus",
                       label=field.LABEL_OPTIONAL)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    factory = message_factory.MessageFactory(pool)
    return (factory.GetPrototype(pool.FindMessageTypeByName("grpc.health.v1.HealthCheckRequest")),
            factory.GetPrototype(pool.FindMessageTypeByName("grpc.health.v1.HealthCheckResponse")))


_HealthRequest, _HealthResponse = _health_messages()


def health(target, service=""):
    """grpc.health.v1.Health/Check at `target`: "SERVING", "NOT_SERVING", ... or the gRPC error
    code's name when the call fails."""
    with grpc.insecure_channel(target) as channel:
        check = channel.unary_unary("/grpc.health.v1.Health/Check",
                                    request_serializer=_HealthRequest.SerializeToString,
                                    response_deserializer=_HealthResponse.FromString)
        try:
            response = check(_HealthRequest(service=service), timeout=2)
        except grpc.RpcError as error:
            return error.code().name
    return _HealthResponse.DESCRIPTOR.enum_types_by_name["ServingStatus"] \
        .values_by_number[response.status].name


def wait_serving(target, timeout=90.0, logs=lambda: ""):
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = health(target)
        if status == "SERVING":
            return
        time.sleep(0.3)
    raise AssertionError(f"{target} is {status} after {timeout}s\n{logs()}")


def run_json(args, timeout=300):
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stderr}{result.stdout}"
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def tools():
    """podman and its helpers, kubectl with kustomize v4 or newer; fails with what is missing."""
    missing = [tool for tool in ("podman", "runc", "catatonit", "debootstrap", "kubectl", "node",
                                 "npm", "redis-cli") if shutil.which(tool) is None]
    assert not missing, f"missing {missing}: run scripts/install-deps.sh"
    version = subprocess.run(["kubectl", "version", "--client", "--output=json"],
                             capture_output=True, text=True)
    kustomize = json.loads(version.stdout or "{}").get("kustomizeVersion", "")
    assert kustomize.startswith(("v4", "v5", "v6")), (
        f"kubectl's kustomize is {kustomize or 'missing'}; the overlays need kustomize v4+ "
        "(kubectl 1.21+; Debian 12's kubernetes-client 1.20 is too old)")


@pytest.fixture(scope="session")
def image(tools):
    """The hubstats image, built by scripts/image.sh under a tag of this run; removed at the end
    (built without cached layers, so nothing else of the build remains)."""
    if os.environ.get("HUBSTATS_DEPLOY_IMAGE"):
        yield os.environ["HUBSTATS_DEPLOY_IMAGE"]
        return
    name = f"localhost/hubstats-test:{os.getpid()}"
    started = time.monotonic()
    # At the lowest CPU priority: the compile must not slow the tests that run beside it.
    result = subprocess.run(["nice", "-n", "19", str(REPO / "scripts/image.sh"),
                             "--layers=false", "--quiet"],
                            env={**os.environ, "IMAGE": name, "BASE_IMAGE": BASE_IMAGE},
                            capture_output=True, text=True, timeout=1500)
    assert result.returncode == 0, f"scripts/image.sh failed:\n{result.stderr}{result.stdout}"
    print(f"\n{result.stderr.strip()}\nbuilt in {time.monotonic() - started:.0f}s")
    try:
        yield name
    finally:
        podman("rmi", "--force", name, check=False)
