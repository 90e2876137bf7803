#include "luabase/cfunctions.hpp"

#include <mutex>
#include <unordered_map>

#include "core/fork_safe.hpp"

namespace tide::cfunctions {

namespace {
ForkSafeMutex g_mutex;  // a fork child finds it free (core/fork_safe.hpp)
std::unordered_map<lua_CFunction, Name>& table() {
  static std::unordered_map<lua_CFunction, Name> t;
  return t;
}
}  // namespace

bool find(lua_CFunction f, Name& out) {
  std::lock_guard lock(g_mutex);
  auto it = table().find(f);
  if (it == table().end()) return false;
  out = it->second;
  return true;
}

void register_table(lua_State* L, int idx, const char* module) {
  idx = lua_absindex(L, idx);
  std::lock_guard lock(g_mutex);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_iscfunction(L, -1)) {
      lua_CFunction f = lua_tocfunction(L, -1);
      table().try_emplace(f, Name{module, lua_tostring(L, -2)});
    }
    lua_pop(L, 1);
  }
}

}  // namespace tide::cfunctions
