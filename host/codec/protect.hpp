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
