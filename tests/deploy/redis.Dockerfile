# Redis for the `podman kube play` test: Debian 12's redis-server on the base image that
# scripts/image.sh makes, standing in for the redis image the manifests name (no registry here).
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends redis-server \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
