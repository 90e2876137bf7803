// Turns a finished Completion into Lua results or the error API.md §0
// prescribes: the values (Completed), RemoteError with the original error as
// `cause` and the worker's traceback (Failed), Cancelled (Cancelled).
#pragma once
#include <lua.hpp>

#include <string>

#include "thread/completion.hpp"

namespace tide {

// For use inside protect(): returns the number of values pushed, or kRaise
// with the error on the stack (see push_failure). `who` names the worker in
// messages ("thread 'Thread-1'", "future").
int push_outcome(lua_State* L, const Outcome& outcome, const std::string& who);

// Pushes the error a failed or cancelled outcome raises: Cancelled, the
// failure kind (WorkerDied...), or RemoteError whose cause is the error
// value (other kinds carry the decoded values, if any, as cause too). The
// pool worker that ran the work, if any, is the field `worker`. With
// `pass_tide_errors`, an error value that is itself a tide error is pushed
// as it is (a future's set_exception(e)).
void push_failure(lua_State* L, const Outcome& outcome, const std::string& who,
                  bool pass_tide_errors = false);

}  // namespace tide
