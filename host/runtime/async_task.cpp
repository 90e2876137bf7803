#include "runtime/async_task.hpp"

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

}  // namespace tide::runtime
