// Running a transferred Lua call in a fresh state: the body of tide Threads
// (and of pool tasks and child processes). The payload is the function followed by its
// arguments, encoded with the transfer codec by the caller's state.
#pragma once
#include <lua.hpp>

#include <memory>

#include "core/message.hpp"
#include "thread/thread.hpp"

namespace tide::runtime {

std::unique_ptr<ThreadBody> make_call_body(Message payload);

// Runs payload's function with its arguments in L (top-level call, under
// the traceback handler); fills the outcome. Never raises or throws.
Outcome run_call(lua_State* L, const Message& payload) noexcept;

// The same for the function at stack slot `fn` (left in place) called with
// the values of `args` (pool tasks, whose function a worker caches).
// `portable`: the results leave this machine (tide.cluster), so tide
// objects among them are a TransferError.
Outcome call_function(lua_State* L, int fn, const Message& args, bool portable = false) noexcept;

}  // namespace tide::runtime
