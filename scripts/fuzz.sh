#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for a bounded time.
#   scripts/fuzz.sh [seconds-per-target]     (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTIDE_FUZZ=ON -DTIDE_SANITIZE=address,undefined >/dev/null
# Only the fuzz targets: the rest of the tree is built and tested elsewhere.
targets=()
for src in tests/fuzz/*.cpp; do targets+=("fuzz_$(basename "$src" .cpp)"); done
cmake --build build-fuzz --target "${targets[@]}"
for name in "${targets[@]}"; do
  target=build-fuzz/tests/$name
  echo "== $(basename "$target") for ${seconds}s"
  corpus="build-fuzz/corpus/$(basename "$target")"
  mkdir -p "$corpus"
  "$target" -max_total_time="$seconds" -print_final_stats=1 "$corpus" 2>&1 | tail -n 12
done
