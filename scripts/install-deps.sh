#!/usr/bin/env bash
# Installs what hubstats needs to build, test and run, from Debian 12 packages.
# Does nothing when everything is there; otherwise needs root (or sudo).
set -euo pipefail

packages=(
  cmake ninja-build g++ pkg-config ccache clang-format
  protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  libabsl-dev libhiredis-dev libcivetweb-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev
  # Fuzzing (scripts/fuzz.sh): clang (14 on Debian 12) with libFuzzer and the sanitizers'
  # runtimes. Test TLS material (tests/support/make_test_certs.sh): the openssl command.
  clang libclang-rt-14-dev openssl
  redis-server redis-tools
  python3 python3-grpcio python3-protobuf python3-pandas python3-numpy python3-matplotlib
  python3-pytest
  # Container image and deployment tests (scripts/image.sh, tests/deploy)
  podman runc catatonit debootstrap python3-yaml
  # The Python package's install test: a venv with pip, offline, on these packages.
  python3-venv python3-pip python3-setuptools python3-wheel
  # The load-balancer test (tests/deploy/test_load_balancer.py): an L7 gRPC proxy
  nginx
)
# The deploy tests also need kubectl 1.21+ (kustomize v4+, for `kubectl kustomize`), which Debian
# 12 does not have (its kubernetes-client is 1.20): they say so when it is missing.
# Node.js (any vendor) for the Node client; Debian's when none is installed.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  run_as_root=()
elif command -v sudo >/dev/null 2>&1; then
  run_as_root=(sudo)
else
  echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
  exit 1
fi
"${run_as_root[@]}" apt-get update
DEBIAN_FRONTEND=noninteractive "${run_as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
