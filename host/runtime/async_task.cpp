#include "runtime/async_task.hpp"

#include <string>

#include "core/error.hpp"
#include "luabase/error.hpp"

namespace tide::runtime {

namespace {
const char kStoppingKey = 0;  // its address keys the mark in the registry
const char kSuspendMarker = 0;
}  // namespace

void* suspend_marker() noexcept { return const_cast<char*>(&kSuspendMarker); }

void set_task_stopping(lua_State* L, bool on) {
  lua_pushboolean(L, on);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kStoppingKey);
}

bool task_stopping(lua_State* L) noexcept {
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kStoppingKey);
  bool on = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return on;
}

namespace {

// loop, max_seconds -> loop:step(max_seconds)
int call_step(lua_State* L) {
  lua_getfield(L, 1, "step");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 2, 1);
  return 1;
}

// The error at the top (a tide error or any value) as tide::Error, popped.
Error error_from_lua(lua_State* L) {
  ErrorKind kind = ErrorKind::InvalidState;
  if (is_error(L, -1)) {
    lua_getfield(L, -1, "kind");
    if (const char* k = lua_tostring(L, -1)) kind_from_name(k, kind);
    lua_pop(L, 1);
  }
  std::string text;
  if (is_error(L, -1) || lua_type(L, -1) == LUA_TSTRING || lua_type(L, -1) == LUA_TNUMBER) {
    // Never raises: tide errors format themselves, strings and numbers are text.
    text = luaL_tolstring(L, -1, nullptr);
    lua_pop(L, 1);
  } else {
    text = std::string("(error object is a ") + luaL_typename(L, -1) + " value)";
  }
  lua_pop(L, 1);
  return Error(kind, text);
}

}  // namespace

int pump_async_loop(lua_State* L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  if (lua_getfield(L, -1, "tide._asyncrun") != LUA_TTABLE) {  // tide.async never used: no loop
    lua_pushinteger(L, 0);
    return 1;
  }
  lua_getfield(L, -1, "pump");
  lua_call(L, 0, 1);
  return 1;
}

bool step_async_loop(lua_State* L, int loop, double max_seconds) {
  loop = lua_absindex(L, loop);
  if (!lua_checkstack(L, 4)) throw Error(ErrorKind::OSError, "step_async_loop: no room on the Lua stack");
  lua_pushcfunction(L, call_step);
  lua_pushvalue(L, loop);
  lua_pushnumber(L, max_seconds);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) throw error_from_lua(L);
  bool more = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return more;
}

}  // namespace tide::runtime
