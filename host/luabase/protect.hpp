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
#include <cstddef>
#include <exception>
#include <new>

#include "core/error.hpp"
#include "luabase/error.hpp"

namespace tide {

inline constexpr int kRaise = -1;

namespace detail {
// A caught error on its way to Lua: the message is borrowed from the
// exception object, which the caller keeps alive until it is a Lua string.
struct Raised {
  ErrorKind kind;
  int err_no;
  const char* message;
  std::size_t len;
};
// lua_CFunction: pushes the error object for the Raised at argument 1.
int push_raised(lua_State* L);
}  // namespace detail

template <class F>
int protect(lua_State* L, F&& body) {
  int result = 0;
  bool failed = false, pending = false;
  {
    // Keeps the caught exception (and its message, every byte) alive until
    // the error object is built; gone before lua_error runs.
    std::exception_ptr keep;
    detail::Raised r{ErrorKind::InvalidState, 0, "", 0};
    try {
      result = body();
    } catch (const PendingLuaError&) {
      pending = true;
    } catch (const Error& e) {
      failed = true;
      keep = std::current_exception();
      r = {e.kind(), e.err_no(), e.message().data(), e.message().size()};
    } catch (const std::bad_alloc&) {
      failed = true;
      r = {ErrorKind::OSError, ENOMEM, "not enough memory", 17};
    } catch (const std::exception& e) {
      failed = true;
      keep = std::current_exception();
      r.message = e.what();
      r.len = std::strlen(r.message);
    }
    if (pending && !take_pending_error(L)) {
      failed = true;
      const char* why = "a signal handler raised an error";
      r = {ErrorKind::Interrupted, 0, why, std::strlen(why)};
    }
    if (failed) {
      // Building the object may run out of memory: do it under lua_pcall,
      // so no Lua error jumps over `keep`. Either way an error ends on top.
      if (!lua_checkstack(L, 4)) lua_settop(L, 0);  // we are raising: the stack is no longer needed
      lua_pushcfunction(L, detail::push_raised);
      lua_pushlightuserdata(L, &r);
      lua_pcall(L, 1, 1, 0);
    }
  }
  if (failed || pending || result == kRaise) return lua_error(L);
  return result;
}

}  // namespace tide
