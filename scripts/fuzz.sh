#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into build-fuzz/, then runs each for SECONDS from its seed corpus,
# two at a time (one per core). A crash, a sanitizer report or a broken invariant fails the
# run; the input that did it is kept in build-fuzz/artifacts/<target>/.
#
#   scripts/fuzz.sh                 every target for 60 s (CI)
#   scripts/fuzz.sh 3600 csv_reader one target for an hour
#
# New inputs that reach new code go to build-fuzz/corpus/<target> (the seeds in
# tests/fuzz/corpus are never changed); copy the interesting ones into the seeds by hand.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(jsonl_reader csv_reader validation proto_convert ingest_decoder redis_replies)
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}

scripts/install-deps.sh
CC=clang CXX=clang++ BUILD_DIR=$build_dir \
  CMAKE_ARGS="-DHUBSTATS_FUZZ=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++" \
  TARGETS="$(printf 'hubstats_fuzz_%s ' "${targets[@]}")" scripts/build.sh

run() {
  local target=$1 corpus=$build_dir/corpus/$1 artifacts=$build_dir/artifacts/$1
  mkdir -p "$corpus" "$artifacts"
  local log=$build_dir/fuzz-$target.log
  # -timeout: an input taking over 30 s is a hang (generous: CI machines are shared and an
  # input that takes milliseconds alone was seen to take 11 s under load); -rss_limit_mb:
  # the whole run may not take 2 GB.
  if "$build_dir/tests/fuzz/hubstats_fuzz_$target" -max_total_time="$seconds" -timeout=30 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" \
      "$corpus" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    echo "fuzz $target: ok, $(grep -Eo 'stat::number_of_executed_units: *[0-9]+' "$log" |
      grep -Eo '[0-9]+$') runs in ${seconds}s, corpus $(find "$corpus" -type f | wc -l) inputs"
  else
    echo "fuzz $target: FAILED (see $log; input in $artifacts/)" >&2
    tail -40 "$log" >&2
    return 1
  fi
}

failed=0
running=0
for target in "${targets[@]}"; do
  run "$target" &
  running=$((running + 1))
  if [ "$running" -ge "${FUZZ_JOBS:-2}" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit $failed
