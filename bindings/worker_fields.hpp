// Fields of worker specs and handles shared by Thread, Process and pool:
// the `args` array of a spec table, and the fields a script may set on a
// worker handle (`name`, and `daemon` until the worker starts).
#pragma once
#include <lua.hpp>

#include <string>
#include <string_view>

#include "support/args.hpp"
#include "luabase/error.hpp"
#include "luabase/protect.hpp"

namespace tide {

// Pushes the values of spec.<field> (an array; its `n` counts when
// present) and returns how many; nothing when the field is nil. Raises
// ArgumentError for a non-table or too many values. A huge `n` is checked
// as a lua_Integer, so it cannot wrap around as an int.
inline int push_args_field(lua_State* L, int spec, const char* field) {
  spec = lua_absindex(L, spec);
  int t = lua_getfield(L, spec, field);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TTABLE) arg_error(L, 1, lua_pushfstring(L, "field '%s' must be a table, got %s", field, type_of(L, -1)));
  int args = lua_gettop(L);
  lua_getfield(L, args, "n");
  lua_Integer n = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : luaL_len(L, args);
  lua_pop(L, 1);
  constexpr lua_Integer kMaxArgs = 1000000;
  if (n < 0 || n > kMaxArgs || !lua_checkstack(L, static_cast<int>(n) + 8))
    arg_error(L, 1, lua_pushfstring(L, "too many arguments in '%s'", field));
  for (lua_Integer i = 1; i <= n; ++i) lua_rawgeti(L, args, i);
  lua_remove(L, args);
  return static_cast<int>(n);
}

// __newindex(handle, key, value) for `w`, whose type reads as `what` in errors.
template <class W>
int set_worker_field(lua_State* L, W* w, const char* what) {
  std::string_view k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (k == "name") {
    size_t len;
    const char* name = check_string(L, 3, &len);
    return protect(L, [&] {
      w->set_name(std::string(name, len));  // every byte: a name may hold zeros
      return 0;
    });
  }
  if (k == "daemon") {
    if (lua_type(L, 3) != LUA_TBOOLEAN) type_error(L, 3, "boolean");
    bool v = lua_toboolean(L, 3);
    return protect(L, [&] {
      w->set_daemon(v);
      return 0;
    });
  }
  if (lua_type(L, 2) == LUA_TSTRING)
    raise_error(L, ErrorKind::ArgumentError, "cannot set field '%s' of a %s", lua_tostring(L, 2), what);
  raise_error(L, ErrorKind::ArgumentError, "cannot set a %s key on a %s", type_of(L, 2), what);
}

}  // namespace tide
