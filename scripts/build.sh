#!/usr/bin/env bash
# Configures and builds hubstats.
#   BUILD_DIR   build folder [build]
#   CMAKE_ARGS  extra cmake arguments, e.g. "-DHUBSTATS_SANITIZE=ON"
#   TARGETS     targets to build [all]
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo ${CMAKE_ARGS:-} >/dev/null
# shellcheck disable=SC2086
cmake --build "$build_dir" -j "${JOBS:-2}" ${TARGETS:+--target $TARGETS}
