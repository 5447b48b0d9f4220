"""The Kubernetes manifests: both overlays render with `kubectl kustomize`, validate offline
against the Kubernetes API schemas, and hold together: ports, probes, grace periods, selectors,
security settings and secrets agree with each other, with the image and with the server's flags.
"""

import base64
import copy
import json
import re
import subprocess

import pytest

from conftest import HERE, OVERLAYS, REPO, SERVER_BIN, render, the

SERVER_LABELS = {"app.kubernetes.io/name": "hubstats", "app.kubernetes.io/component": "server"}
# Settings the manifests carry before the server has the flag (the server ignores the variable
# until then). Remove an entry once `--help` lists the flag.
PENDING_FLAGS = set()


@pytest.fixture(scope="module", params=OVERLAYS)
def overlay(request, tools):
    return request.param, render(request.param)


@pytest.fixture(scope="module")
def validator(tools):
    """node validate_manifests.mjs, with its npm packages installed from the lock file."""
    if not (HERE / "node_modules/kubernetes-models").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE,
                       check=True, timeout=300)

    def validate(objects):
        return subprocess.run(["node", str(HERE / "validate_manifests.mjs")],
                              input=json.dumps(objects), capture_output=True, text=True,
                              timeout=120)
    return validate


def server(objects):
    deployment = the(objects, "Deployment", "hubstats")
    return deployment, deployment["spec"]["template"], \
        the_container(deployment["spec"]["template"], "hubstats")


def the_container(template, name):
    return next(c for c in template["spec"]["containers"] if c["name"] == name)


def settings(objects):
    """The server's HUBSTATS_* settings from its ConfigMap."""
    return the(objects, "ConfigMap")["data"]


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def secret_value(secret, key):
    if key in secret.get("stringData", {}):
        return secret["stringData"][key]
    return base64.b64decode(secret["data"][key]).decode()


def matches(selector, labels):
    return all(labels.get(key) == value for key, value in selector.items())


def test_overlays_validate_against_the_kubernetes_schemas(overlay, validator):
    name, objects = overlay
    result = validator(objects)
    assert result.returncode == 0, f"{name}:\n{result.stdout}{result.stderr}"
    assert result.stdout.count("\nok ") + result.stdout.startswith("ok ") == len(objects)


def test_the_validator_rejects_what_kubernetes_would(validator):
    objects = render("dev")
    broken = copy.deepcopy(objects)
    the(broken, "Deployment")["spec"]["replicas"] = "three"
    assert validator(broken).returncode == 1
    broken = copy.deepcopy(objects)
    del the_container(the(broken, "Deployment")["spec"]["template"], "hubstats") \
        ["readinessProbe"]["grpc"]["port"]
    result = validator(broken)
    assert result.returncode == 1 and "port" in result.stdout
    assert validator([{"apiVersion": "example.com/v1", "kind": "Nothing",
                       "metadata": {"name": "x"}}]).returncode == 1


def test_every_setting_is_a_server_flag(overlay):
    _, objects = overlay
    help_text = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True,
                               check=True).stdout
    flags = {"HUBSTATS_" + flag.upper().replace("-", "_")
             for flag in re.findall(r"^\s+--([a-z-]+)", help_text, re.M)}
    unknown = set(settings(objects)) - flags - PENDING_FLAGS
    assert not unknown, f"not flags of hubstats-server: {unknown}"


def server_flags():
    """{flag name: default} from `hubstats-server --help` ("" when it prints none)."""
    help_text = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True,
                               check=True).stdout
    return {name: default or "" for name, default in
            re.findall(r"^\s+--([a-z-]+)\s.*?(?:\[([^\]]*)\])?$", help_text, re.M)}


def test_operations_documents_every_server_flag_and_no_other():
    # docs/OPERATIONS.md's settings table: | `--flag` | `HUBSTATS_FLAG` | default | ... |
    rows = re.findall(r"^\| `--([a-z-]+)` \| `(HUBSTATS_[A-Z_]+)` \|",
                      (REPO / "docs/OPERATIONS.md").read_text(), re.M)
    documented = {flag for flag, _ in rows}
    flags = server_flags()
    assert len(flags) > 20, flags
    assert documented == set(flags), (set(flags) - documented, documented - set(flags))
    for flag, variable in rows:
        assert variable == "HUBSTATS_" + flag.upper().replace("-", "_")


def test_the_read_model_settings_hold_together(overlay):
    _, objects = overlay
    config = {**{"HUBSTATS_" + name.upper().replace("-", "_"): value
                 for name, value in server_flags().items()}, **settings(objects)}
    follow_ms = int(config["HUBSTATS_FOLLOW_INTERVAL_MS"])
    version_wait_ms = int(config["HUBSTATS_MAX_VERSION_WAIT_MS"])
    change_log_ms = int(config["HUBSTATS_CHANGE_LOG_SECONDS"]) * 1000
    # A read-your-writes query waits for at least a few polls, and a replica that fell as far
    # behind as a query may wait still finds the records it missed in the log (no reload).
    assert 0 < follow_ms * 5 <= version_wait_ms
    assert version_wait_ms * 10 <= change_log_ms


def test_server_ports_probes_and_scrape_annotations_agree(overlay):
    _, objects = overlay
    deployment, template, container = server(objects)
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    config = settings(objects)
    assert ports["grpc"] == port_of(config["HUBSTATS_LISTEN"])
    assert ports["metrics"] == port_of(config["HUBSTATS_METRICS_LISTEN"])
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert int(annotations["prometheus.io/port"]) == ports["metrics"]
    # Probes ask the main port, or the plaintext health-only port when there is one (the
    # kubelet's gRPC probes speak no TLS).
    probed = ports["grpc"]
    if "HUBSTATS_HEALTH_LISTEN" in config:
        probed = ports["health"]
        assert probed == port_of(config["HUBSTATS_HEALTH_LISTEN"])
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["grpc"]["port"] == probed, probe
    # Startup and readiness follow the whole server (Redis too); liveness only the process.
    assert container["startupProbe"]["grpc"].get("service", "") == ""
    assert container["readinessProbe"]["grpc"].get("service", "") == ""
    assert container["livenessProbe"]["grpc"]["service"] == "liveness"
    # Liveness turns NOT_SERVING at SIGTERM: it must not restart a pod during its grace period.
    liveness = container["livenessProbe"]
    grace = template["spec"]["terminationGracePeriodSeconds"]
    assert liveness["periodSeconds"] * liveness["failureThreshold"] > grace
    assert deployment["spec"]["replicas"] == 3
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_the_grace_period_covers_the_prestop_pause_and_the_drain(overlay):
    _, objects = overlay
    _, template, container = server(objects)
    command = container["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pause = int(command[1])
    drain = int(settings(objects)["HUBSTATS_SHUTDOWN_GRACE_MS"]) / 1000
    grace = template["spec"]["terminationGracePeriodSeconds"]
    # Room for the process to exit after the drain, but not so much that a stuck pod lingers.
    assert pause + drain + 1 <= grace <= pause + drain + 15


def test_the_server_runs_unprivileged_as_the_image_user(overlay):
    _, objects = overlay
    _, template, container = server(objects)
    image_user = re.search(r"^USER (\d+):(\d+)$", (REPO / "Dockerfile").read_text(), re.M)
    pod = template["spec"]["securityContext"]
    assert pod["runAsNonRoot"] is True
    assert (pod["runAsUser"], pod["runAsGroup"]) == tuple(map(int, image_user.groups()))
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert template["spec"]["automountServiceAccountToken"] is False
    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]


def mebibytes(quantity):
    units = {"Mi": 1, "Gi": 1024}
    return int(quantity[:-2]) * units[quantity[-2:]]


def test_the_memory_limit_covers_the_ingest_budget(overlay):
    _, objects = overlay
    _, _, container = server(objects)
    budget = int(settings(objects)["HUBSTATS_MAX_INFLIGHT_MB"])
    # The rest: 455 MiB measured at 2.2M catalogued models (v2's read model,
    # docs/BENCHMARKS.md), and headroom.
    assert mebibytes(container["resources"]["limits"]["memory"]) >= budget + 512


def test_the_redis_url_comes_from_a_secret_and_no_setting_holds_a_password(overlay):
    _, objects = overlay
    _, _, container = server(objects)
    redis = next(env for env in container["env"] if env["name"] == "HUBSTATS_REDIS")
    reference = redis["valueFrom"]["secretKeyRef"]
    assert reference["key"] == "url" and reference["name"].startswith("hubstats-redis")
    assert not [value for value in settings(objects).values()
                if "@" in value or "redis://" in value]


def test_both_services_and_the_autoscaler_and_budget_reach_the_replicas(overlay):
    _, objects = overlay
    deployment, template, container = server(objects)
    labels = template["metadata"]["labels"]
    port_names = {port["name"] for port in container["ports"]}
    services = {s["metadata"]["name"]: s for s in objects if s["kind"] == "Service"
                and matches(s["spec"]["selector"], SERVER_LABELS)}
    assert set(services) == {"hubstats", "hubstats-headless"}
    assert services["hubstats-headless"]["spec"]["clusterIP"] == "None"
    for service in services.values():
        assert matches(service["spec"]["selector"], labels)
        assert [p["targetPort"] for p in service["spec"]["ports"]] == ["grpc"]
        assert "grpc" in port_names
    assert matches(deployment["spec"]["selector"]["matchLabels"], labels)
    autoscaler = the(objects, "HorizontalPodAutoscaler")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert autoscaler["spec"]["minReplicas"] == deployment["spec"]["replicas"]
    budget = the(objects, "PodDisruptionBudget")
    assert matches(budget["spec"]["selector"]["matchLabels"], labels)


def test_dev_runs_redis_durably_reachable_only_from_hubstats():
    objects = render("dev")
    redis = the(objects, "StatefulSet", "hubstats-redis")
    template = redis["spec"]["template"]
    container = the_container(template, "redis")
    command = " ".join(container["command"] + container["args"])
    for setting in ("--appendonly yes", "--appendfsync always", "--maxmemory-policy noeviction"):
        assert setting in command
    assert "requirepass $REDIS_PASSWORD" in command
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["data"] in command                                 # --dir is on the volume
    assert [t["metadata"]["name"] for t in redis["spec"]["volumeClaimTemplates"]] == ["data"]
    assert redis["spec"]["serviceName"] == "hubstats-redis"
    assert the(objects, "Service", "hubstats-redis")["spec"]["clusterIP"] == "None"

    # The password hubstats sends is the one Redis requires: both from one Secret.
    secret = the(objects, "Secret")
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}
    assert env["REDIS_PASSWORD"] == {"name": secret["metadata"]["name"], "key": "password"}
    url = secret_value(secret, "url")
    assert url.startswith(f"redis://:{secret_value(secret, 'password')}@hubstats-redis:")
    assert port_of(url) == container["ports"][0]["containerPort"]

    policy = the(objects, "NetworkPolicy")
    assert matches(policy["spec"]["podSelector"]["matchLabels"], template["metadata"]["labels"])
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    [rule] = policy["spec"]["ingress"]
    assert rule["from"] == [{"podSelector": {"matchLabels": SERVER_LABELS}}]
    assert rule["ports"] == [{"port": 6379, "protocol": "TCP"}]


def test_production_uses_a_managed_redis_a_pinned_image_and_no_secret_in_the_repository():
    objects = render("production")
    assert not [o for o in objects if o["kind"] in ("StatefulSet", "Secret", "NetworkPolicy")]
    _, _, container = server(objects)
    image, _, tag = container["image"].rpartition(":")
    assert "/" in image and tag and tag != "latest"


def test_production_turns_tls_and_tokens_on_from_mounted_secrets():
    objects = render("production")
    _, template, container = server(objects)
    config = settings(objects)
    assert config["HUBSTATS_ALLOW_INSECURE"] == "false"
    assert config["HUBSTATS_REFLECTION"] == "false"
    assert "HUBSTATS_PUBLIC_READS" not in config
    volumes = {v["name"]: v["secret"] for v in template["spec"]["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    secret_of_path = {}
    for path, mount in mounts.items():
        assert mount["readOnly"] is True and "subPath" not in mount   # updates must reach it
        secret_of_path[path] = volumes[mount["name"]]["secretName"]
    def secret_holding(setting):
        directory, _, key = config[setting].rpartition("/")
        return secret_of_path[directory], key
    assert secret_holding("HUBSTATS_TLS_CERT") == ("hubstats-tls", "tls.crt")
    assert secret_holding("HUBSTATS_TLS_KEY") == ("hubstats-tls", "tls.key")
    assert secret_holding("HUBSTATS_TOKENS_FILE") == ("hubstats-tokens", "tokens")
    # The server's user reads them through the pod's group, and nobody else.
    assert template["spec"]["securityContext"]["fsGroup"] == \
        template["spec"]["securityContext"]["runAsGroup"]
    assert all(secret["defaultMode"] == 0o440 for secret in volumes.values())


def test_dev_serves_plaintext_only_because_it_is_told_to():
    config = settings(render("dev"))
    assert config["HUBSTATS_ALLOW_INSECURE"] == "true"
    assert not [key for key in config if key.startswith("HUBSTATS_TLS") or "TOKEN" in key]
