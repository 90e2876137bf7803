#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/*.cpp) with clang and ASan+UBSan
# and runs each for a bounded time, starting from its corpus kept in git
# (tests/fuzz/corpus/<target>/); new inputs go to build-fuzz/corpus/.
#   scripts/fuzz.sh [seconds-per-target]    (default 60; CI runs 30)
#   scripts/fuzz.sh --merge [seconds]       fuzz, then fold what was found into
#                                           tests/fuzz/corpus (minimized; commit it)
# Prints each target's executions; exits non-zero if a target crashed (the
# input is left as build-fuzz/crash-*).
set -euo pipefail
cd "$(dirname "$0")/.."
merge=0
if [ "${1:-}" = "--merge" ]; then merge=1; shift; fi
seconds=${1:-60}
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTIDE_FUZZ=ON -DTIDE_SANITIZE=address,undefined >/dev/null
# Only the fuzz targets: the rest of the tree is built and tested elsewhere.
names=()
for src in tests/fuzz/*.cpp; do names+=("$(basename "$src" .cpp)"); done
targets=()
for n in "${names[@]}"; do targets+=("fuzz_$n"); done
nice cmake --build build-fuzz --target "${targets[@]}"
status=0
summary=()
for n in "${names[@]}"; do
  target=build-fuzz/tests/fuzz_$n
  seeds=tests/fuzz/corpus/$n
  work=build-fuzz/corpus/$n
  mkdir -p "$seeds" "$work"
  echo "== fuzz_$n for ${seconds}s ($(ls "$seeds" | wc -l) seeds)"
  log=build-fuzz/fuzz_$n.log
  # -rss_limit_mb: the targets cap their own Lua memory; this catches the rest.
  if ! "$target" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 \
       -artifact_prefix=build-fuzz/ "$work" "$seeds" >"$log" 2>&1; then
    status=1
    echo "fuzz_$n FAILED:"
    tail -n 40 "$log"
  fi
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 || true)
  summary+=("fuzz_$n: $execs executions in ${seconds}s, $cov")
  if [ "$merge" = 1 ]; then
    mkdir -p build-fuzz/merged/$n
    "$target" -merge=1 build-fuzz/merged/$n "$seeds" "$work" >/dev/null 2>&1
    rm -rf "$seeds" && mv build-fuzz/merged/$n "$seeds"
    echo "   corpus now $(ls "$seeds" | wc -l) inputs"
  fi
done
printf '%s\n' "${summary[@]}"
exit $status
