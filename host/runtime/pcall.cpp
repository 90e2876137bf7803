#include "runtime/pcall.hpp"

#include <cstdio>

#include "core/wait.hpp"
#include "runtime/async_task.hpp"

namespace tide::runtime {

namespace {

int finish_pcall(lua_State* L, int status, lua_KContext extra) {
  if (status != LUA_OK && status != LUA_YIELD) {
    if (WaitContext::current().cancel_requested() || task_stopping(L)) return lua_error(L);
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - static_cast<int>(extra);
}

int tide_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  int status = lua_pcallk(L, lua_gettop(L) - 2, LUA_MULTRET, 0, 0, finish_pcall);
  return finish_pcall(L, status, 0);
}

int tide_xpcall(lua_State* L) {
  int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finish_pcall);
  return finish_pcall(L, status, 2);
}

int tide_print(lua_State* L) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_addchar(&b, '\n');
  luaL_pushresult(&b);
  size_t len;
  const char* s = lua_tolstring(L, -1, &len);
  std::fwrite(s, 1, len, stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace

void install_pcall(lua_State* L) {
  lua_pushcfunction(L, tide_print);
  lua_setglobal(L, "print");
  lua_pushcfunction(L, tide_pcall);
  lua_setglobal(L, "pcall");
  lua_pushcfunction(L, tide_xpcall);
  lua_setglobal(L, "xpcall");
}

}  // namespace tide::runtime
