// Private to host/codec: what both halves of the codec share around their
// lua_pcall boundary.
#pragma once
#include <lua.hpp>
#include <new>
#include <string>

#include "core/error.hpp"

namespace tide::codec::detail {

// After a failed lua_pcall: the error value's text. Touches the stack only
// with calls that cannot raise (we are outside protected mode here).
inline std::string pcall_message(lua_State* L, int status) {
  if (status == LUA_ERRMEM) return "not enough memory";
  if (lua_type(L, -1) == LUA_TSTRING) return lua_tostring(L, -1);
  return std::string("transfer failed with a ") + luaL_typename(L, -1) + " error value";
}

[[noreturn]] inline void throw_transfer(std::string message) {
  throw Error(ErrorKind::TransferError, std::move(message));
}

// (error value) -> its kind and message fields, if it is a table.
inline int read_error_fields(lua_State* L) {
  if (lua_type(L, 1) != LUA_TTABLE) return 0;
  lua_getfield(L, 1, "kind");
  lua_getfield(L, 1, "message");
  return 2;
}

// After a failed lua_pcall: Ctrl-C or a cancellation that struck while
// the codec ran (its hooks fire in any Lua code) stays what it is;
// anything else is a TransferError.
[[noreturn]] inline void throw_pcall_error(lua_State* L, int status) {
  if (status != LUA_ERRMEM && lua_type(L, -1) == LUA_TTABLE) {
    lua_pushcfunction(L, read_error_fields);
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 2, 0) == LUA_OK) {
      ErrorKind k;
      const char* kind = lua_tostring(L, -2);
      if (kind && kind_from_name(kind, k) && (k == ErrorKind::Interrupted || k == ErrorKind::Cancelled)) {
        std::string message = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";
        lua_pop(L, 2);
        throw Error(k, std::move(message));
      }
      lua_pop(L, 2);
    } else {
      lua_pop(L, 1);
    }
  }
  throw_transfer(pcall_message(L, status));
}

// Inside a catch block: rethrows, with std::bad_alloc turned into
// TransferError ("not enough memory") like Lua's own memory errors.
[[noreturn]] inline void rethrow_as_transfer_error() {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    throw_transfer("not enough memory");
  }
}

// Raises the Lua error at the top of the stack. Only for code running under
// the codec's own lua_pcall, with no live C++ destructors.
[[noreturn]] inline void raise(lua_State* L) {
  lua_error(L);
  __builtin_unreachable();  // lua_error never returns
}

}  // namespace tide::codec::detail
