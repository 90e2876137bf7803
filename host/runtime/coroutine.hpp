// coroutine.resume and coroutine.wrap for tide states. Hooks are per
// lua_State, so a cancel or Ctrl-C that hooks a thread's main state would
// never stop a busy loop inside a coroutine. These versions publish the
// running coroutine as the OS thread's signal target (so the handler hooks
// it), hand a pending hook on to it, and, like tide's pcall, re-raise a
// Cancelled or Interrupted error the coroutine died of instead of returning
// it as a value.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// Replaces coroutine.resume and coroutine.wrap in L (after luaL_openlibs).
void install_coroutine(lua_State* L);

}  // namespace tide::runtime
