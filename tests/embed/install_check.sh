#!/usr/bin/env bash
# cmake --install into a temporary prefix, then build the example embedding
# program (scripts/examples/embed) against it twice, with find_package(tide
# CONFIG) and with pkg-config, and run both; then configure tide as a CMake
# subproject.
#   install_check.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null

check() {  # name, program
  local out
  out=$(env -u TIDE_EXECUTABLE PATH=/usr/bin:/bin "$2" 20 50)
  echo "$out" | sed "s/^/$1: /"
  grep -q '^frames: 20$' <<<"$out"
  grep -Eq '^tasks: ([0-9]+) submitted, \1 completed, 0 wrong$' <<<"$out"
  grep -q "^spawned child process: same result$" <<<"$out"
  grep -q '^error crossed to C++: RemoteError: from a script$' <<<"$out"
}

cmake -S "$src/scripts/examples/embed" -B "$work/cmake-build" -G Ninja \
  -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$work/cmake-build" >/dev/null
check cmake "$work/cmake-build/game_loop"

export PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig"
c++ -std=c++20 -O1 "$src/scripts/examples/embed/main.cpp" -o "$work/game_loop_pc" $(pkg-config --cflags --libs tide)
check pkg-config "$work/game_loop_pc"

# The installed command and module work from the prefix too.
"$work/prefix/bin/tide" -e 'print(require("tide").thread.spawn(function() return "installed" end):join())' | grep -qx installed
# tide as a CMake subproject: configures with tests off, and its generated
# sources land in its own binary folder (not the parent's).
mkdir -p "$work/sub"
cat >"$work/sub/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.21)
project(parent LANGUAGES C CXX)
add_subdirectory("$src" tide)
find_package(PkgConfig REQUIRED)
pkg_check_modules(PARENT_LUA REQUIRED IMPORTED_TARGET lua5.4)
add_executable(parent_game "$src/scripts/examples/embed/main.cpp")
target_link_libraries(parent_game PRIVATE tide::host PkgConfig::PARENT_LUA)
CMAKE
cmake -S "$work/sub" -B "$work/sub-build" -G Ninja >/dev/null
grep -q '^TIDE_TESTS:BOOL=OFF$' "$work/sub-build/CMakeCache.txt"
cmake --build "$work/sub-build" --target tide/generated/embedded_lua.cpp >/dev/null
test -s "$work/sub-build/tide/generated/embedded_lua.cpp"
echo "install check passed"
