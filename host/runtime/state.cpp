#include "runtime/state.hpp"

#include <atomic>
#include <csignal>
#include <cstring>
#include <mutex>
#include <vector>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/wait.hpp"
#include "luabase/aux_defaults.hpp"
#include "luabase/cfunctions.hpp"
#include "runtime/block_cache.hpp"
#include "runtime/child_main.hpp"
#include "runtime/coroutine.hpp"
#include "runtime/embedded.hpp"
#include "runtime/pcall.hpp"
#include "runtime/signals.hpp"
#include "luabase/error.hpp"

namespace tide::runtime {

namespace {

ForkSafeMutex g_modules_mutex;  // a fork child finds it free (core/fork_safe.hpp)
std::vector<luaL_Reg>& host_modules() {
  static std::vector<luaL_Reg> v;
  return v;
}

// preload loader for native modules: opens the module (upvalue 1), then
// registers its C functions so they can cross states by name.
int load_native(lua_State* L) {
  const char* name = luaL_checkstring(L, 1);
  auto open = lua_tocfunction(L, lua_upvalueindex(1));
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  if (lua_istable(L, -1)) cfunctions::register_table(L, -1, name);
  return 1;
}

int load_embedded(lua_State* L) {
  const EmbeddedModule& m = kEmbeddedModules[lua_tointeger(L, lua_upvalueindex(1))];
  if (luaL_loadbuffer(L, m.source.data(), m.source.size(), m.chunkname) != LUA_OK) lua_error(L);
  lua_pushstring(L, m.name);
  lua_call(L, 1, 1);
  return 1;
}

void preload(lua_State* L, int preload_idx, const char* name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushcclosure(L, load_native, 1);
  lua_setfield(L, preload_idx, name);
}

// The standard library's C functions are registered once per process, from
// the first state tide sets up.
void register_stdlib(lua_State* L) {
  static std::once_flag once;
  std::call_once(once, [L] {
    static const char* const libs[] = {"string", "table", "math", "io", "os", "utf8",
                                       "coroutine", "debug", "package"};
    lua_pushglobaltable(L);
    cfunctions::register_table(L, -1, "_G");
    lua_pop(L, 1);
    for (const char* lib : libs) {
      if (lua_getglobal(L, lib) == LUA_TTABLE) cfunctions::register_table(L, -1, lib);
      lua_pop(L, 1);
    }
  });
}

int setup_state(lua_State* L) {
  luaL_openlibs(L);
  install(L);
  return 0;
}

}  // namespace

void install(lua_State* L) {
  lua_getfield(L, LUA_REGISTRYINDEX, "tide.installed");
  bool done = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (done) return;
  install_process_handlers();
  install_child_runner();
  open_error_meta(L);
  install_pcall(L);
  install_coroutine(L);
  register_stdlib(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  int idx = lua_gettop(L);
  for (int i = 0; kEmbeddedModules[i].name; ++i) {
    lua_pushinteger(L, i);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, idx, kEmbeddedModules[i].name);
  }
  std::vector<luaL_Reg> extra;
  {
    std::lock_guard lock(g_modules_mutex);
    extra = host_modules();
  }
  for (const luaL_Reg& m : extra) preload(L, idx, m.name, m.func);
  lua_pop(L, 1);
  lua_pushboolean(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "tide.installed");
}

lua_State* new_state() { return new_state(nullptr, nullptr); }

lua_State* new_state(lua_Alloc alloc, void* ud) {
  lua_State* L = alloc ? lua_newstate(alloc, ud) : new_cached_state();
  if (!L) throw Error(ErrorKind::OSError, "cannot create a Lua state: not enough memory");
  if (alloc) set_aux_defaults(L);
  lua_pushcfunction(L, setup_state);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    std::string msg = lua_tostring(L, -1) ? lua_tostring(L, -1) : "error setting up a state";
    lua_close(L);
    throw Error(ErrorKind::OSError, "cannot set up a Lua state: " + msg);
  }
  return L;
}

namespace {
std::atomic<unsigned> g_modules_generation{0};
}  // namespace

void register_module(const char* name, lua_CFunction open) {
  std::lock_guard lock(g_modules_mutex);
  host_modules().push_back(luaL_Reg{name, open});
  g_modules_generation.fetch_add(1, std::memory_order_release);
}

unsigned modules_generation() noexcept { return g_modules_generation.load(std::memory_order_acquire); }

namespace {

constexpr const char* kPendingReport = "tide.pending_report";

// Upvalue 1: a light userdata to a bool set when the error is Interrupted,
// read off the error object before it is formatted (never from the text).
int traceback_handler(lua_State* L) {
  if (auto* interrupted = static_cast<bool*>(lua_touserdata(L, lua_upvalueindex(1))))
    *interrupted = is_error(L, 1, "Interrupted");
  const char* msg = nullptr;
  lua_pushnil(L);  // an earlier error's report (a __close then raised again) is stale
  lua_setfield(L, LUA_REGISTRYINDEX, kPendingReport);
  if (is_error(L, 1, "Interrupted") || is_error(L, 1, "Cancelled")) {
    // Lua closes to-be-closed variables with what this handler returns, and
    // they must still see the error for what it is (a pool's __close ends
    // its tasks on Ctrl-C instead of waiting for them): the object goes on,
    // its report waits in the registry for pcall_traceback.
    luaL_traceback(L, L, luaL_tolstring(L, 1, nullptr), 1);
    lua_setfield(L, LUA_REGISTRYINDEX, kPendingReport);
    lua_settop(L, 1);
    return 1;
  }
  if (is_error(L, 1)) {
    lua_getfield(L, 1, "traceback");
    bool has_tb = lua_tostring(L, -1) && *lua_tostring(L, -1);
    lua_pop(L, 1);
    if (has_tb) {  // a RemoteError: show the worker's traceback too
      lua_getfield(L, 1, "traceback");
      const char* text = luaL_tolstring(L, 1, nullptr);
      msg = lua_pushfstring(L, "%s\n%s", text, lua_tostring(L, -2));
      luaL_traceback(L, L, msg, 1);
      return 1;
    }
  }
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
    msg = lua_tostring(L, -1);
  else if (lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER)
    msg = lua_tostring(L, 1);
  else
    msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  luaL_traceback(L, L, msg, 1);
  return 1;
}
}  // namespace

int pcall_traceback(lua_State* L, int nargs, int nresults, bool* interrupted) {
  if (interrupted) *interrupted = false;
  int base = lua_gettop(L) - nargs;
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, kPendingReport);
  lua_pushlightuserdata(L, interrupted);
  lua_pushcclosure(L, traceback_handler, 1);
  lua_insert(L, base);
  int status = lua_pcall(L, nargs, nresults, base);
  lua_remove(L, base);
  if (status != LUA_OK) {
    // The error object kept for to-be-closed variables becomes its report.
    if (lua_getfield(L, LUA_REGISTRYINDEX, kPendingReport) == LUA_TSTRING)
      lua_replace(L, -2);
    else
      lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, kPendingReport);
  }
  return status;
}

}  // namespace tide::runtime
