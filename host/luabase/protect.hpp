// The binding boundary (DESIGN.md mechanism 5). A Lua-facing C function
// runs its C++ work inside protect(): a tide::Error (or any std::exception)
// thrown there is caught, every C++ local of the body is destroyed, and only
// then is the tide error object raised. A body that has pushed a complete
// error object itself returns kRaise to have it raised the same way.
//
// A PendingLuaError (a signal handler run inside a wait raised) is raised
// as the handler's own error value, taken from the registry.
//
// Rule for bodies: check arguments (which may raise) before creating C++
// objects with destructors, and push results with functions that raise only
// on out-of-memory.
#pragma once
#include <lua.hpp>

#include <cerrno>
#include <cstring>
#include <exception>

#include "core/error.hpp"
#include "luabase/error.hpp"

namespace tide {

inline constexpr int kRaise = -1;

template <class F>
int protect(lua_State* L, F&& body) {
  int result = 0;
  ErrorKind kind = ErrorKind::InvalidState;
  int err_no = 0;
  char message[1024];
  message[0] = '\0';
  bool failed = false, pending = false;
  try {
    result = body();
  } catch (const PendingLuaError&) {
    pending = true;
  } catch (const Error& e) {
    failed = true;
    kind = e.kind();
    err_no = e.err_no();
    std::strncpy(message, e.what(), sizeof message - 1);
    message[sizeof message - 1] = '\0';
  } catch (const std::bad_alloc&) {
    failed = true;
    kind = ErrorKind::OSError;
    err_no = ENOMEM;
    std::strcpy(message, "not enough memory");
  } catch (const std::exception& e) {
    failed = true;
    std::strncpy(message, e.what(), sizeof message - 1);
    message[sizeof message - 1] = '\0';
  }
  if (pending && take_pending_error(L)) return lua_error(L);
  if (pending) {
    failed = true;
    kind = ErrorKind::Interrupted;
    std::strcpy(message, "a signal handler raised an error");
  }
  if (failed) {
    push_error(L, kind, message);
    if (err_no != 0) {
      lua_pushinteger(L, err_no);
      lua_setfield(L, -2, "errno");
    }
    return lua_error(L);
  }
  if (result == kRaise) return lua_error(L);
  return result;
}

}  // namespace tide
