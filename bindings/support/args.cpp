#include "support/args.hpp"

#include <cmath>
#include <cstring>

#include "core/signal_names.hpp"
#include "luabase/error.hpp"

namespace tide {

namespace {

// Like lauxlib's pushglobalfuncname: finds the running function as a field
// of a loaded module ("tide.thread.spawn") when the call site gave no name.
const char* loaded_name(lua_State* L, lua_Debug* ar) {
  int top = lua_gettop(L);
  lua_getinfo(L, "f", ar);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TTABLE) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_rawequal(L, -1, top + 1)) {
          const char* name = lua_pushfstring(L, "%s.%s", lua_tostring(L, -4), lua_tostring(L, -2));
          if (std::strncmp(name, "_G.", 3) == 0) name += 3;
          lua_replace(L, top + 1);  // keep the string alive on the stack
          lua_settop(L, top + 1);
          return name;
        }
        lua_pop(L, 1);
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, top);
  return nullptr;
}

}  // namespace

void arg_error(lua_State* L, int arg, const char* extramsg) {
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar))
    raise_error(L, ErrorKind::ArgumentError, "bad argument #%d (%s)", arg, extramsg);
  lua_getinfo(L, "n", &ar);
  if (!ar.name) ar.name = loaded_name(L, &ar);
  if (ar.namewhat && std::strcmp(ar.namewhat, "method") == 0) {
    --arg;
    if (arg == 0)
      raise_error(L, ErrorKind::ArgumentError, "calling '%s' on bad self (%s)",
                  ar.name ? ar.name : "?", extramsg);
  }
  raise_error(L, ErrorKind::ArgumentError, "bad argument #%d to '%s' (%s)", arg,
              ar.name ? ar.name : "?", extramsg);
}

void type_error(lua_State* L, int arg, const char* expected) {
  const char* got;
  if (luaL_getmetafield(L, arg, "__name") == LUA_TSTRING)
    got = lua_tostring(L, -1);
  else if (lua_type(L, arg) == LUA_TLIGHTUSERDATA)
    got = "light userdata";
  else
    got = luaL_typename(L, arg);
  arg_error(L, arg, lua_pushfstring(L, "%s expected, got %s", expected, got));
}

void check_function(lua_State* L, int arg) {
  if (lua_type(L, arg) != LUA_TFUNCTION) type_error(L, arg, "function");
}

lua_Integer check_integer(lua_State* L, int arg) {
  int isnum = 0;
  lua_Integer v = lua_tointegerx(L, arg, &isnum);
  if (!isnum) {
    if (lua_type(L, arg) == LUA_TNUMBER) arg_error(L, arg, "number has no integer representation");
    type_error(L, arg, "integer");
  }
  return v;
}

lua_Number check_number(lua_State* L, int arg) {
  if (lua_type(L, arg) != LUA_TNUMBER) type_error(L, arg, "number");
  return lua_tonumber(L, arg);
}

const char* check_string(lua_State* L, int arg, size_t* len) {
  if (lua_type(L, arg) != LUA_TSTRING) type_error(L, arg, "string");
  return lua_tolstring(L, arg, len);
}

const char* opt_string(lua_State* L, int arg, const char* def) {
  return lua_isnoneornil(L, arg) ? def : check_string(L, arg);
}

bool opt_boolean(lua_State* L, int arg, bool def) {
  if (lua_isnoneornil(L, arg)) return def;
  if (lua_type(L, arg) != LUA_TBOOLEAN) type_error(L, arg, "boolean");
  return lua_toboolean(L, arg);
}

void check_table(lua_State* L, int arg) {
  if (lua_type(L, arg) != LUA_TTABLE) type_error(L, arg, "table");
}

Deadline check_timeout(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) return Deadline::never();
  if (lua_type(L, arg) != LUA_TNUMBER) type_error(L, arg, "number or nil (timeout)");
  lua_Number s = lua_tonumber(L, arg);
  if (std::isnan(s) || s < 0) arg_error(L, arg, "timeout must be a non-negative number");
  return Deadline::after(s);
}

int check_signal(lua_State* L, int arg) {
  if (lua_type(L, arg) == LUA_TSTRING) {
    size_t len;
    const char* name = lua_tolstring(L, arg, &len);
    if (int n = signal_number(std::string_view(name, len))) return n;
    arg_error(L, arg, lua_pushfstring(L, "unknown signal '%s'", name));
  }
  lua_Integer n = check_integer(L, arg);
  if (n < 0 || n > 64) arg_error(L, arg, "signal number out of range");
  return static_cast<int>(n);
}

}  // namespace tide
