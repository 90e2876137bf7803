#!/bin/sh
# Runs every tide-vs-Python benchmark in this directory.
# Usage: scripts/bench/run.sh [build-dir]   (default: build/ at the repo root)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../../build}
tide=$build/tide
[ -x "$tide" ] || { echo "no tide binary at $tide (build first)" >&2; exit 2; }

# Parallel figures (W6) are only meaningful on an otherwise idle machine.
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   cpus: $(nproc)"

status=0
export TIDE_BUILD_DIR=$build  # where the C reference programs are
for lua in "$here"/w[0-9]*.lua "$here"/codec.lua "$here"/pipe.lua "$here"/subprocess_throughput.lua "$here"/async_*.lua "$here"/actor.lua; do
  # The load changes during a long run: each figure gets the one it met.
  echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   $(basename "$lua")"
  # A hang is a result to report, not a reason to block the whole run.
  timeout 120 "$tide" "$lua" || { echo "FAILED ($?): $tide $lua" >&2; status=1; }
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)   arena_pair"
"$build/bench_arena_pair" || { echo "FAILED ($?): $build/bench_arena_pair" >&2; status=1; }
exit $status
