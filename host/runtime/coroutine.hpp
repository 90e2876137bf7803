// coroutine.resume and coroutine.wrap for tide states. Hooks are per
// lua_State, so a cancel or Ctrl-C that hooks a thread's main state would
// never stop a busy loop inside a coroutine. These versions publish the
// running coroutine as the OS thread's signal target (so the handler hooks
// it), hand a pending hook on to it, and, like tide's pcall, re-raise a
// Cancelled or Interrupted error the coroutine died of instead of returning
// it as a value. Inside a tide.async task they also pass an await made in
// the coroutine on to the task (async_task.hpp).
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// Replaces coroutine.resume and coroutine.wrap in L (after luaL_openlibs).
void install_coroutine(lua_State* L);

// lua_resume(co, from, narg, nres) with `co` published as the OS thread's
// signal target while it runs (a cancel or Ctrl-C hook pending on `from` is
// handed on to it), as coroutine.resume does, but without its re-raising:
// tide.async's loop resumes its tasks through this. The arguments must
// already be on co's stack.
// `hook_resumer` false leaves `from` alone when the OS thread was cancelled
// meanwhile (tide.async's loop notices that itself, between tasks).
int resume_as_target(lua_State* from, lua_State* co, int narg, int* nres, bool hook_resumer = true);

}  // namespace tide::runtime
