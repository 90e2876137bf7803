#!/usr/bin/env bash
# CI: `luarocks make` builds and installs tide.so into a local tree with
# Debian's luarocks, and a stock lua5.4 then runs threads with it.
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(mktemp -d)
trap 'rm -rf "$tree" build.luarocks' EXIT
luarocks --lua-version=5.4 --tree "$tree" make scripts/tide-scm-1.rockspec >/dev/null
eval "$(luarocks --lua-version=5.4 --tree "$tree" path)"
out=$(lua5.4 -e 'local t = require "tide"
  local th = t.thread.spawn(function(a, b) return a * b end, 6, 7)
  print(t.version, th:join())')
echo "$out"
[ "$out" = "$(printf '0.1.0\t42')" ]
echo "luarocks check passed"
