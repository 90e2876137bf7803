#!/usr/bin/env bash
# Builds and runs the whole test suite: doctest unit tests and the Lua specs
# run by the real `tide` binary (ctest).
#   scripts/test.sh          plain build in build/
#   scripts/test.sh asan     AddressSanitizer + UndefinedBehaviorSanitizer, in build-asan/
#   scripts/test.sh tsan     ThreadSanitizer, in build-tsan/
set -euo pipefail
cd "$(dirname "$0")/.."

variant=${1:-plain}
case "$variant" in
  plain) dir=build; extra=() ;;
  asan)  dir=build-asan; extra=(-DTIDE_SANITIZE=address,undefined) ;;
  tsan)  dir=build-tsan; extra=(-DTIDE_SANITIZE=thread) ;;
  *) echo "usage: $0 [plain|asan|tsan]" >&2; exit 2 ;;
esac

cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_WERROR=ON "${extra[@]}" >/dev/null
cmake --build "$dir"
# Specs read this to scale their work and hang guards, and to fork without
# other threads allocating under TSan (its runtime's allocator is not locked
# around fork(); host/core/asan_fork.cpp does that for ASan's).
export TIDE_SANITIZER=$([ "$variant" = plain ] && echo "" || echo "$variant")
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# die_after_fork=0: the fork specs start threads in a child of a
# multi-threaded parent, which tide supports and TSan only warns about.
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:die_after_fork=0}
ctest --test-dir "$dir" --output-on-failure -j2
