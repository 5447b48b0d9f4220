# hubstats image: hubstats-server (the entrypoint) and the hubstats CLI on Debian 12, running as
# a non-root numeric user. Configure the server with HUBSTATS_* environment variables (every flag
# has one, see `hubstats-server --help` and docs/OPERATIONS.md); arguments after the image name
# are passed to the server as flags and win over the environment.
#
#   scripts/image.sh                        builds it with podman (no Docker or registry needed)
#   docker build -t hubstats .              builds it with Docker from Debian's official image
#
# BASE_IMAGE is any Debian 12 (bookworm) image; scripts/image.sh passes one it made with
# debootstrap.
ARG BASE_IMAGE=debian:12-slim

# Build stage: compiles only the two binaries the image ships, without tests.
FROM ${BASE_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config protobuf-compiler protobuf-compiler-grpc libprotobuf-dev \
      libgrpc++-dev libabsl-dev libhiredis-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY service service
COPY client/CMakeLists.txt client/
COPY client/common client/common
COPY client/cli client/cli
COPY client/bench client/bench
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUBSTATS_BUILD_TESTS=OFF \
 && cmake --build build --target hubstats-server hubstats \
 && strip build/service/hubstats-server build/client/cli/hubstats

# Runtime stage: the shared libraries the binaries link against, nothing else.
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libhiredis0.14 libabsl20220623 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log
COPY --from=build /src/build/service/hubstats-server /src/build/client/cli/hubstats /usr/local/bin/
# A numeric user, so Kubernetes' runAsNonRoot can check it without a passwd entry.
USER 65532:65532
EXPOSE 50051
ENTRYPOINT ["hubstats-server"]
