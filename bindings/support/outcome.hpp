// Turns a finished Completion into Lua results or the error API.md §0
// prescribes: the values (Completed), RemoteError with the original error as
// `cause` and the worker's traceback (Failed), Cancelled (Cancelled).
#pragma once
#include <lua.hpp>

#include <string>

#include "thread/completion.hpp"

namespace tide {

// For use inside protect(): returns the number of values pushed, or kRaise
// with a RemoteError on the stack; throws Cancelled. `who` names the worker
// in messages ("thread 'Thread-1'").
int push_outcome(lua_State* L, const Outcome& outcome, const std::string& who);

}  // namespace tide
