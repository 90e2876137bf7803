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

namespace {

const char* type_name_of(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING) return lua_tostring(L, -1);
  if (lua_type(L, idx) == LUA_TLIGHTUSERDATA) return "light userdata";
  return luaL_typename(L, idx);
}

// "unknown option 'wrkers' (accepted: workers, name)"; the key is shown
// with every byte it has (the message is built with lua_concat).
const char* unknown_option(lua_State* L, int key, const char* const* names, int accepted) {
  key = lua_absindex(L, key);
  int top = lua_gettop(L);
  if (lua_type(L, key) == LUA_TSTRING) {
    lua_pushliteral(L, "unknown option '");
    lua_pushvalue(L, key);
    lua_pushliteral(L, "'");
  } else {
    lua_pushfstring(L, "option names are strings, got a %s key", type_name_of(L, key));
  }
  lua_pushliteral(L, " (accepted: ");
  int n = 0;
  if (names) {
    for (const char* const* a = names; *a; ++a) lua_pushfstring(L, n++ ? ", %s" : "%s", *a);
  } else {
    for (lua_Integer i = 1; lua_rawgeti(L, accepted, i) == LUA_TSTRING; ++i) {
      if (n++) {
        lua_pushliteral(L, ", ");
        lua_insert(L, -2);
      }
    }
    lua_pop(L, 1);
  }
  lua_pushliteral(L, ")");
  lua_concat(L, lua_gettop(L) - top);
  return lua_tostring(L, -1);
}

bool accepted_key(lua_State* L, int key, const char* const* names, int accepted) {
  if (lua_type(L, key) != LUA_TSTRING) return false;
  size_t len;
  const char* k = lua_tolstring(L, key, &len);
  std::string_view kv(k, len);
  if (names) {
    for (const char* const* a = names; *a; ++a)
      if (kv == *a) return true;
    return false;
  }
  for (lua_Integer i = 1;; ++i) {
    int t = lua_rawgeti(L, accepted, i);
    bool same = t == LUA_TSTRING && lua_rawequal(L, -1, key);
    lua_pop(L, 1);
    if (same) return true;
    if (t != LUA_TSTRING) return false;
  }
}

// The first key of the table at `opts` that is not accepted is left on the
// stack (true); false when all are accepted.
bool find_unknown_key(lua_State* L, int opts, const char* const* names, int accepted) {
  lua_pushnil(L);
  while (lua_next(L, opts)) {
    lua_pop(L, 1);
    if (!accepted_key(L, lua_gettop(L), names, accepted)) return true;
  }
  return false;
}

}  // namespace

const char* type_of(lua_State* L, int idx) { return type_name_of(L, idx); }

const char* describe(lua_State* L, int idx) {
  if (lua_type(L, idx) == LUA_TNUMBER) {
    lua_pushvalue(L, idx);
    return lua_tostring(L, -1);  // converts the copy, never the argument
  }
  return type_name_of(L, idx);
}

void type_error(lua_State* L, int arg, const char* expected) {
  arg_error(L, arg, lua_pushfstring(L, "%s expected, got %s", expected, type_name_of(L, arg)));
}

void check_options(lua_State* L, int arg, const char* const* accepted) {
  if (lua_isnoneornil(L, arg)) return;
  check_table(L, arg);
  arg = lua_absindex(L, arg);
  if (find_unknown_key(L, arg, accepted, 0)) arg_error(L, arg, unknown_option(L, -1, accepted, 0));
}

void check_options_named(lua_State* L, int opts, int n, const char* fname, int accepted) {
  opts = lua_absindex(L, opts);
  accepted = lua_absindex(L, accepted);
  if (lua_isnoneornil(L, opts)) return;
  if (lua_type(L, opts) != LUA_TTABLE)
    raise_error(L, ErrorKind::ArgumentError, "bad argument #%d to '%s' (options table expected, got %s)", n, fname,
                type_name_of(L, opts));
  if (find_unknown_key(L, opts, nullptr, accepted))
    raise_error(L, ErrorKind::ArgumentError, "bad argument #%d to '%s' (%s)", n, fname,
                unknown_option(L, -1, nullptr, accepted));
}

const char* check_path(lua_State* L, int arg) {
  size_t len;
  const char* s = check_string(L, arg, &len);
  if (std::strlen(s) != len) arg_error(L, arg, "a path cannot contain a zero byte");
  return s;
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
