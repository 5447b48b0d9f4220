"""Runs rendered Kubernetes manifests on this machine with `podman kube play` (podman 4.3).

podman plays Pods, Deployments (every replica a pod), PersistentVolumeClaims and ConfigMaps, and
honours the security contexts. What it cannot do is adapted here, and only that:

* no cluster network: every pod shares the host's network (hostNetwork), so servers listen on
  free loopback ports; the settings and the Redis command get those ports, container ports are
  dropped (podman maps no ports on the host network). The hubstats replicas share one port, as
  behind a Service: gRPC listens with SO_REUSEPORT, so the kernel spreads connections over them.
  Their metrics endpoints (which do not share a port) each get a free one (port 0, logged).
* no Secret objects: the Secret becomes a podman secret of the same name (podman reads
  secretKeyRef from those), its URL pointed at the loopback Redis;
* no StatefulSet: its pod template becomes a Pod named like the set's first pod, each volume
  claim template a PersistentVolumeClaim (a podman volume) named as Kubernetes names it, owned
  by the pod's fsGroup;
* Services, the autoscaler, the disruption budget, the network policy and the namespace have no
  podman counterpart and are left out; probes are not run (podman runs health checks through
  systemd, which this machine does not have).

Names get a suffix of the run, so runs do not collide and everything can be removed after.
"""

import base64
import copy
import json
import shutil
import tempfile
from pathlib import Path

import yaml

from conftest import podman

PLAYED_KINDS = {"ConfigMap", "Deployment", "StatefulSet"}


class Played:
    """The objects of one overlay running under podman; `down()` removes everything."""

    def __init__(self, objects, suffix, images, hubstats_port, redis_port):
        self.suffix = suffix
        self.directory = Path(tempfile.mkdtemp(prefix="hubstats-kube-"))
        self.secrets, self.volumes = [], []
        self.redis_password = None
        renamed = {o["metadata"]["name"]: f"{o['metadata']['name']}-{suffix}" for o in objects
                   if o["kind"] in PLAYED_KINDS | {"Secret"}}
        self.objects = []
        for original in objects:
            o = copy.deepcopy(original)
            if o["kind"] == "Secret":
                self._secret(o, renamed[o["metadata"]["name"]], redis_port)
            if o["kind"] not in PLAYED_KINDS:
                continue
            o["metadata"]["name"] = renamed[o["metadata"]["name"]]
            o["metadata"].pop("namespace", None)
            if o["kind"] == "ConfigMap":
                o["data"]["HUBSTATS_LISTEN"] = f"127.0.0.1:{hubstats_port}"
                o["data"]["HUBSTATS_METRICS_LISTEN"] = "127.0.0.1:0"
                # The tests import the 2024 snapshot: a backfill, so any day counts and every
                # day is kept.
                o["data"]["HUBSTATS_MAX_LATENESS_DAYS"] = "any"
                o["data"]["HUBSTATS_RETENTION_DAYS"] = "forever"
                self.objects.append(o)
                continue
            pod = o["spec"]["template"]["spec"]
            pod["hostNetwork"] = True
            for container in pod["containers"]:
                container["image"] = images.get(container["name"], container["image"])
                container.pop("ports", None)
                for source in container.get("envFrom", []):
                    ref = source.get("configMapRef") or source.get("secretRef")
                    ref["name"] = renamed[ref["name"]]
                for env in container.get("env", []):
                    ref = env.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        ref["name"] = renamed[ref["name"]]
            if o["kind"] == "Deployment":
                self.objects.append(o)
            else:
                self._stateful_set(o, redis_port)
        self.file = self.directory / "play.yaml"
        self.file.write_text(yaml.safe_dump_all(self.objects))

    def _secret(self, secret, name, redis_port):
        data = {key: base64.b64decode(value).decode()
                for key, value in secret.get("data", {}).items()}
        data.update(secret.get("stringData", {}))
        if "url" in data:
            head, _, _ = data["url"].rpartition("@")
            data["url"] = f"{head}@127.0.0.1:{redis_port}"
        path = self.directory / f"{name}.json"
        # podman reads a secret for secretKeyRef as a JSON object of base64 values.
        path.write_text(json.dumps({k: base64.b64encode(v.encode()).decode()
                                    for k, v in data.items()}))
        self.secrets.append((name, path))
        self.redis_password = data.get("password")

    def _stateful_set(self, stateful_set, redis_port):
        name = stateful_set["metadata"]["name"]
        template = stateful_set["spec"]["template"]
        pod = template["spec"]
        group = str(pod.get("securityContext", {}).get("fsGroup", 0))
        for claim in stateful_set["spec"].get("volumeClaimTemplates", []):
            claim_name = f"{claim['metadata']['name']}-{name}-0"
            self.objects.append({
                "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                "metadata": {"name": claim_name, "annotations": {
                    "volume.podman.io/uid": str(pod["securityContext"].get("runAsUser", 0)),
                    "volume.podman.io/gid": group}},
                "spec": claim["spec"]})
            volume = {"name": claim["metadata"]["name"],
                      "persistentVolumeClaim": {"claimName": claim_name}}
            pod.setdefault("volumes", []).append(volume)
            self.volumes.append(claim_name)
        for container in pod["containers"]:
            container["args"] = [arg.replace("--port 6379", f"--bind 127.0.0.1 --port {redis_port}")
                                 for arg in container.get("args", [])]
            probe = container.get("readinessProbe", {}).get("exec")
            if probe:
                probe["command"] = [part.replace("-p 6379", f"-p {redis_port}")
                                    for part in probe["command"]]
        self.objects.append({"apiVersion": "v1", "kind": "Pod", "spec": pod, "metadata": {
            "name": f"{name}-0", "labels": template["metadata"]["labels"]}})

    def play(self):
        for name, path in self.secrets:
            podman("secret", "create", name, str(path))
        podman("kube", "play", str(self.file))

    def containers(self, prefix):
        """Names of the running containers whose pod name starts with `prefix` (+ the suffix)."""
        names = podman("ps", "--filter", "status=running", "--format", "{{.Names}}").split()
        return sorted(n for n in names if n.startswith(f"{prefix}-{self.suffix}")
                      and not n.endswith("-infra"))

    def down(self):
        podman("kube", "down", str(self.file), check=False)
        pods = podman("pod", "ps", "--format", "{{.Name}}", check=False).split()
        for pod in pods:
            if self.suffix in pod:
                podman("pod", "rm", "--force", pod, check=False)
        for volume in self.volumes:
            podman("volume", "rm", "--force", volume, check=False)
        for name, _ in self.secrets:
            podman("secret", "rm", name, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)
