// The fields a script may set on a worker handle (a Thread or a Process):
// `name`, and `daemon` until the worker starts. One __newindex for both.
#pragma once
#include <lua.hpp>

#include <string_view>

#include "support/args.hpp"
#include "support/error.hpp"
#include "support/protect.hpp"

namespace tide {

// __newindex(handle, key, value) for `w`, whose type reads as `what` in errors.
template <class W>
int set_worker_field(lua_State* L, W* w, const char* what) {
  std::string_view k = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  if (k == "name") {
    check_string(L, 3);
    w->set_name(lua_tostring(L, 3));
    return 0;
  }
  if (k == "daemon") {
    if (lua_type(L, 3) != LUA_TBOOLEAN) type_error(L, 3, "boolean");
    bool v = lua_toboolean(L, 3);
    return protect(L, [&] {
      w->set_daemon(v);
      return 0;
    });
  }
  raise_error(L, ErrorKind::ArgumentError, "cannot set field '%s' of a %s", luaL_tolstring(L, 2, nullptr), what);
}

}  // namespace tide
