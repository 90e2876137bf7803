// The state factory and the process-wide runtime setup (DESIGN.md
// mechanism 4). Every state tide makes, and every state that loads tide,
// gets the standard libraries, the tide error metatable and every tide
// module (plus host-registered modules) in package.preload, loaded lazily.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// A fresh state ready for worker code, allocating through a block cache
// (runtime/block_cache.hpp; lua_close frees it). Throws tide::Error on
// failure.
lua_State* new_state();
// The same, allocating with `alloc` from the state's first block (a null
// `alloc` is the block cache).
lua_State* new_state(lua_Alloc alloc, void* ud);

// Makes an existing state (the `tide` command's, or a stock interpreter's
// that ran `require "tide"`) a tide state. Idempotent. May raise (Lua).
void install(lua_State* L);

// A native module opened on demand in every state, workers included
// (the embedding API). Its C functions become transferable by name.
void register_module(const char* name, lua_CFunction open);

// Counts register_module calls: a state made earlier (the fork template)
// lacks the modules registered since.
unsigned modules_generation() noexcept;

// Calls the function below its `nargs` arguments with the traceback
// handler; on error leaves a message (with traceback) on the stack and
// returns the status, and sets *interrupted (when given) to whether the
// error was Interrupted (Ctrl-C). Used by the command and the REPL.
// To-be-closed variables the error closes see an Interrupted or Cancelled
// error as the error object (it becomes a message only after).
int pcall_traceback(lua_State* L, int nargs, int nresults, bool* interrupted = nullptr);

}  // namespace tide::runtime
