#!/usr/bin/env bash
# Installs tide's build dependencies (Debian 12 packages) and builds it into
# build/. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(build-essential cmake ninja-build pkg-config lua5.4 liblua5.4-dev
          libspdlog-dev doctest-dev libreadline-dev clang python3 python3-uvloop tmux lua5.3 lua5.1 luarocks
          lua-luv libhiredis-dev redis-server python3-redis python3-rq python3-celery)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# CI builds through scripts/test.sh (with warnings as errors) instead.
[ "${TIDE_DEPS_ONLY:-0}" = 1 ] && exit 0

# The same configuration as scripts/test.sh's plain build, so running the
# tests next does not rebuild everything.
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTIDE_WERROR=ON ${TIDE_CMAKE_ARGS:-} >/dev/null
cmake --build build
