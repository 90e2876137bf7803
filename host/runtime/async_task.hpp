// What the runtime knows of tide.async's tasks (lua/tide/async.lua): how the
// loop resumes one, and the flag that makes a cancelled task's Cancelled
// impossible to swallow. A task is a coroutine; once it is cancelled, the
// loop resumes it with the state marked "stopping", and while the mark is
// set tide's pcall, xpcall and coroutine.resume raise again whatever they
// catch (pcall.cpp, coroutine.cpp), as they do in a cancelled thread. Only
// one task of a state runs at a time, so one mark per state is exact.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

void set_task_stopping(lua_State* L, bool on);

// The light userdata every await yields first (async.lua's SUSPEND). A
// coroutine running inside a task that yields it (it awaited something) is
// suspending the whole task: tide's coroutine.resume and coroutine.wrap pass
// the yield on to their own resumer and, once resumed, resume the inner
// coroutine with what they were given (coroutine.cpp). So a generator made
// with coroutine.wrap may await inside a task.
void* suspend_marker() noexcept;

// Steps a tide.async loop from C++ (a host's frame loop, API.md §15): calls
// loop:step(max_seconds) on the loop at stack index `loop` (a value from
// require("tide.async").new_loop()) under lua_pcall, so it never blocks
// longer than max_seconds (0: not at all). Returns true while the loop has
// tasks not done. A Lua error is thrown as tide::Error, keeping the kind of a
// tide error (Interrupted after Ctrl-C, InvalidState for a closed loop).
// The stack is left as it was.
bool step_async_loop(lua_State* L, int loop, double max_seconds);

// A lua_CFunction for tide::Host::pump (run it under lua_pcall): one
// non-blocking step of this state's default loop (async.loop()), if the
// state has loaded tide.async and made one. Pushes how many tasks ran.
int pump_async_loop(lua_State* L);
// Never raises; cheap (a registry read), meant for error paths.
bool task_stopping(lua_State* L) noexcept;

}  // namespace tide::runtime
