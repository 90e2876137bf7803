// Done callbacks of tide.future (API.md §5): add_done_callback(fn) keeps
// {future handle, fn} in a list in the adding state's registry; they run in
// that state only, in the order added, each under pcall (an error is
// logged with tide::log and does not stop the others). No worker ever
// touches the adding state: callbacks run when that state calls
// run_done_callbacks (future.poll(), every future wait before and after it
// blocks, and the entry of every other blocking call) or at once when the
// future is already done.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// The future handle at `fut`, the function at `fn`.
void add_done_callback(lua_State* L, int fut, int fn);

// Runs the callbacks of every done future in the list, in order; returns
// how many ran.
int run_done_callbacks(lua_State* L);

// The same, called on entry to every blocking call of every module (API.md
// §5: callbacks run at the state's next tide wait). Costs one thread-local
// read when no callback was added on this OS thread.
void run_due_callbacks(lua_State* L);

// The same, for future waits, which must not miss a callback of a state
// that moved between OS threads. Costs one atomic read when no state of
// this process has a callback waiting.
void run_waiting_callbacks(lua_State* L);

}  // namespace tide::runtime
