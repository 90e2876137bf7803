-- luarocks make scripts/tide-scm-1.rockspec   (from the repository root)
-- Builds tide.so for a stock Lua 5.4 (and the tide command) with CMake.
rockspec_format = "3.0"
package = "tide"
version = "scm-1"
source = { url = "git+file://." }
description = {
  summary = "Real concurrency for Lua: threads, processes, pools, queues, futures",
  detailed = [[
A native C++ core implements threads, processes, locks, queues, pipes, pools,
shared values and futures, exposed as Lua modules: each worker runs in its
own Lua state, in parallel on every core.]],
  license = "MIT",
}
dependencies = { "lua == 5.4" }
build = {
  type = "cmake",
  variables = {
    CMAKE_BUILD_TYPE = "Release",
    CMAKE_INSTALL_PREFIX = "$(PREFIX)",
    TIDE_LUA_CMOD_DIR = "$(LIBDIR)",
    TIDE_TESTS = "OFF",
  },
}
