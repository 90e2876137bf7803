#include "support/outcome.hpp"

#include "codec/codec.hpp"
#include "luabase/error.hpp"
#include "luabase/protect.hpp"
#include "process/process.hpp"

namespace tide {

namespace {

// A worker process's end as fields of its WorkerDied error: `exitcode`
// (Python's: -N after signal N) and, after a signal, `signal` (its name).
void set_exit_fields(lua_State* L, const Outcome& o) {
  if (!o.has_exitcode) return;
  lua_pushinteger(L, o.exitcode);
  lua_setfield(L, -2, "exitcode");
  if (o.exitcode < 0) {
    lua_pushstring(L, process::signal_name(-o.exitcode).c_str());
    lua_setfield(L, -2, "signal");
  }
}

}  // namespace

void push_failure(lua_State* L, const Outcome& o, const std::string& who, bool pass_tide_errors) {
  if (o.state == CompletionState::Cancelled) {
    push_error(L, ErrorKind::Cancelled, who + " was cancelled");
    return;
  }
  int cause = 0;
  if (!o.values.empty()) {
    try {
      codec::decode(L, o.values);
      cause = lua_gettop(L);
    } catch (const Error&) {
      cause = 0;  // the text below still says what happened
    }
  }
  if (!cause && o.failure_kind == ErrorKind::BrokenPool && o.has_exitcode) {
    // Broken by a worker process that kept dying: the cause says how.
    push_error(L, ErrorKind::WorkerDied, o.text.c_str());
    set_exit_fields(L, o);
    cause = lua_gettop(L);
  }
  if (o.failure_kind != ErrorKind::RemoteError) {  // WorkerDied, BrokenPool (cause: why)...
    push_error(L, o.failure_kind, who + " " + o.text, o.traceback, cause);
    if (o.failure_kind == ErrorKind::WorkerDied) set_exit_fields(L, o);
  } else {
    if (cause && pass_tide_errors && is_error(L, cause)) return;
    std::string in_worker = o.worker.empty() ? "" : "in worker '" + o.worker + "': ";
    std::string message = who + " failed: " + in_worker + o.text;
    push_error(L, ErrorKind::RemoteError, message, o.traceback, cause);
  }
  if (cause) lua_remove(L, cause);
  if (!o.worker.empty()) {  // the field callers read (pool.lua), not the text
    lua_pushlstring(L, o.worker.data(), o.worker.size());
    lua_setfield(L, -2, "worker");
  }
}

int push_outcome(lua_State* L, const Outcome& o, const std::string& who) {
  switch (o.state) {
    case CompletionState::Completed:
      return codec::decode(L, o.values);
    case CompletionState::Failed:
    case CompletionState::Cancelled:
      push_failure(L, o, who);
      return kRaise;
    default:
      throw Error(ErrorKind::InvalidState, who + " has not finished");
  }
}

}  // namespace tide
