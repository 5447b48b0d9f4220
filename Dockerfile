# hubstats-server image (Debian 12). Not built in this repository's CI: the build machines have
# no Docker engine. Deployment manifests come with the Kubernetes work (deploy/).
FROM debian:12 AS build
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake ninja-build g++ pkg-config protobuf-compiler protobuf-compiler-grpc libprotobuf-dev \
      libgrpc++-dev libabsl-dev libhiredis-dev && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake cmake
COPY proto proto
COPY service service
COPY client client
COPY tests tests
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DHUBSTATS_BUILD_TESTS=OFF \
 && cmake --build build --target hubstats-server hubstats

FROM debian:12-slim
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libgrpc++1.51 libprotobuf32 libhiredis0.14 libabsl20220623 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/service/hubstats-server /src/build/client/cli/hubstats /usr/local/bin/
USER nobody
EXPOSE 50051
ENTRYPOINT ["hubstats-server", "--listen", "0.0.0.0:50051"]
