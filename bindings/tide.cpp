// The root module `tide` (API.md §1): core functions, and the submodules
// loaded lazily on first access (tide.thread -> require "tide.thread").
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>

#include "core/wait.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "thread/host_exit.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/error.hpp"
#include "luabase/finalizer.hpp"
#include "luabase/protect.hpp"

namespace tide {
namespace {

const char* const kSubmodules[] = {"thread", "sync",       "queue",  "future", "pool",
                                   "process", "pipe",      "shared", "subprocess",
                                   "signal",  "os",        "async",  "log",    "cluster", "actor", nullptr};

int l_cpu_count(lua_State* L) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  lua_pushinteger(L, n > 0 ? n : 1);
  return 1;
}

int l_monotonic(lua_State* L) {
  auto ns = std::chrono::steady_clock::now().time_since_epoch();
  lua_pushnumber(L, std::chrono::duration<double>(ns).count());
  return 1;
}

int l_is_error(lua_State* L) {
  const char* kind = lua_isnoneornil(L, 2) ? nullptr : check_string(L, 2);
  lua_pushboolean(L, is_error(L, 1, kind));
  return 1;
}

// tide.error(kind, message) -> a new error object (not raised).
int l_error(lua_State* L) {
  const char* kind = check_string(L, 1);
  ErrorKind k;
  if (!kind_from_name(kind, k)) arg_error(L, 1, lua_pushfstring(L, "unknown error kind '%s'", kind));
  size_t len = 0;
  const char* msg = lua_isnoneornil(L, 2) ? "" : luaL_tolstring(L, 2, &len);
  push_error(L, k, std::string_view(msg, len));
  return 1;
}

// tide._check_options(opts, n, fname, accepted): the options check of
// support/args.hpp for Lua-side modules (lua/tide/*.lua): raises
// ArgumentError for a non-table or for a key not in the array `accepted`.
int l_check_options(lua_State* L) {
  lua_Integer n = check_integer(L, 2);
  const char* fname = check_string(L, 3);
  check_table(L, 4);
  check_options_named(L, 1, static_cast<int>(n), fname, 4);
  lua_settop(L, 1);
  return 1;
}

// A submodule that cannot be loaded (one API.md names that this build
// does not have yet) raises InvalidState, not require's plain message.
int root_index(lua_State* L) {
  const char* key = lua_tostring(L, 2);
  if (!key || lua_type(L, 2) != LUA_TSTRING) return 0;
  for (const char* const* m = kSubmodules; *m; ++m) {
    if (std::strcmp(*m, key) == 0) {
      lua_getglobal(L, "require");
      lua_pushfstring(L, "tide.%s", key);
      if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        if (is_error(L, -1)) return lua_error(L);
        const char* why = lua_tostring(L, -1);
        raise_error(L, ErrorKind::InvalidState, "tide.%s cannot be loaded: %s", key, why ? why : "?");
      }
      lua_pushvalue(L, 2);
      lua_pushvalue(L, -2);
      lua_rawset(L, 1);
      return 1;
    }
  }
  return 0;
}

// tide._counters() -> {futex_wait=, futex_wake=, minflt=, majflt=}: this
// process's futex system calls and page faults so far (benchmarks report
// them per item; getrusage's RUSAGE_SELF covers every thread).
int l_counters(lua_State* L) {
  FutexCounts f = futex_counts();
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  lua_createtable(L, 0, 4);
  auto set = [L](const char* k, std::uint64_t v) {
    lua_pushinteger(L, static_cast<lua_Integer>(v));
    lua_setfield(L, -2, k);
  };
  set("futex_wait", f.waits);
  set("futex_wake", f.wakes);
  set("minflt", static_cast<std::uint64_t>(ru.ru_minflt));
  set("majflt", static_cast<std::uint64_t>(ru.ru_majflt));
  return 1;
}

// Registered in the registry of a stock interpreter's state: lua_close
// joins the threads still running, as the `tide` command does at exit.
int close_sentinel_gc(lua_State*) {
  shutdown_host({});
  return 0;
}

const luaL_Reg kFunctions[] = {{"cpu_count", l_cpu_count}, {"sleep", l_sleep},
                               {"monotonic", l_monotonic}, {"is_error", l_is_error},
                               {"error", l_error},         {"_check_options", l_check_options},
                               {"_counters", l_counters},
                               {nullptr, nullptr}};

}  // namespace

// tide.sleep and tide.thread.sleep: cancellable, interruptible.
int l_sleep(lua_State* L) {
  runtime::run_due_callbacks(L);
  lua_Number s = check_number(L, 1);
  if (std::isnan(s) || s < 0) arg_error(L, 1, "seconds must be a non-negative number");
  return protect(L, [&] {
    sleep_for(s);
    return 0;
  });
}

}  // namespace tide

extern "C" int tide_open_root(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  luaL_newlib(L, kFunctions);
  lua_pushstring(L, TIDE_VERSION);
  lua_setfield(L, -2, "version");
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, root_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}

// Entry point of tide.so in a stock interpreter (see module_entry.c).
extern "C" int tide_open_module(lua_State* L) {
  using namespace tide;
  bindings::register_modules();
  runtime::install(L);
  run_at_close(L, "tide.at_close", close_sentinel_gc);
  lua_getglobal(L, "require");
  lua_pushstring(L, "tide");
  lua_call(L, 1, 1);
  return 1;
}
