#include "support/outcome.hpp"

#include "codec/codec.hpp"
#include "support/error.hpp"
#include "support/protect.hpp"

namespace tide {

int push_outcome(lua_State* L, const Outcome& o, const std::string& who) {
  switch (o.state) {
    case CompletionState::Completed:
      return codec::decode(L, o.values);
    case CompletionState::Cancelled:
      throw Error(ErrorKind::Cancelled, who + " was cancelled");
    case CompletionState::Failed:
      break;
    default:
      throw Error(ErrorKind::InvalidState, who + " has not finished");
  }
  if (o.failure_kind != ErrorKind::RemoteError) throw Error(o.failure_kind, who + " " + o.text);
  int cause = 0;
  if (!o.values.empty()) {
    try {
      codec::decode(L, o.values);
      cause = lua_gettop(L);
    } catch (const Error&) {
      cause = 0;  // the text below still says what happened
    }
  }
  std::string message = who + " failed: " + o.text;
  push_error(L, ErrorKind::RemoteError, message.c_str(), o.traceback.c_str(), cause);
  if (cause) lua_remove(L, cause);
  return kRaise;
}

}  // namespace tide
