// tide.future (API.md §5). Futures live in the shared arena (host/future/),
// so a handle passed to a thread or a forked child can be completed there.
//
// Callbacks (host/runtime/done_callbacks.hpp): run in the adding state, in the
// order added, each under pcall (errors logged), at future.poll() and
// before and after every future wait in that state (result, exception,
// wait, as_completed, gather); at once if the future is already done.
// Every other module's blocking calls run them on entry (run_due_callbacks).
//
// Errors: result() raises RemoteError (cause = the error value, traceback
// of where set_exception ran); set_exception(e) with a tide error e makes
// result() raise e itself (as Python re-raises the same exception);
// Cancelled for a cancelled future. exception() returns what result()
// would raise (nil when completed), and raises Cancelled.
//
// Many futures: duplicates count once (as_completed yields each once, wait
// lists each once, in first-occurrence order). as_completed yields in
// completion order and raises Timeout mid-iteration at its deadline; wait
// returns (done, not_done) arrays, never raising Timeout; gather waits for
// all, then returns the first result of each (list order, duplicates
// included) or raises the error of the first failed one in list order.
#include <algorithm>
#include <chrono>
#include <cstring>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "runtime/done_callbacks.hpp"
#include "future/future.hpp"
#include "modules.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"

namespace tide {
namespace {

using future::Future;
using namespace sync_binding;

constexpr const char* kModule = "tide.future";

// ---- Future ----------------------------------------------------------------

int l_new(lua_State* L) {
  return protect(L, [&] {
    push_handle(L, Future::create().get());
    return 1;
  });
}

template <bool (Future::*Query)() const noexcept>
int m_query(lua_State* L) {
  lua_pushboolean(L, (self<Future>(L)->*Query)());
  return 1;
}
int m_cancel(lua_State* L) {
  lua_pushboolean(L, self<Future>(L)->cancel());
  return 1;
}

int m_set_result(lua_State* L) {
  Future* f = self<Future>(L);
  int n = lua_gettop(L) - 1;
  return protect(L, [&] {
    Outcome o;
    codec::encode(L, 2, n, o.values, {"result", 1});
    if (!f->complete(o)) throw Error(ErrorKind::InvalidState, "future is already done");
    return 0;
  });
}

int m_set_exception(lua_State* L) {
  Future* f = self<Future>(L);
  if (lua_isnone(L, 2)) arg_error(L, 2, "error value expected");
  lua_settop(L, 2);
  bool raw = is_error(L, 2);
  size_t text_len;
  const char* text = luaL_tolstring(L, 2, &text_len);
  if (raw) {  // a tide error keeps its own traceback
    lua_getfield(L, 2, "traceback");
    if (!lua_isstring(L, -1)) lua_pushliteral(L, "");
  } else {
    luaL_traceback(L, L, nullptr, 1);
  }
  const char* traceback = lua_tostring(L, -1);
  return protect(L, [&] {
    Outcome o{CompletionState::Failed, {}, std::string(text, text_len), traceback};
    codec::encode(L, 2, 1, o.values, {"exception", 0});
    if (!f->complete(o, raw)) throw Error(ErrorKind::InvalidState, "future is already done");
    return 0;
  });
}

// Pushes the error a failed / cancelled future's result() raises.
void push_future_failure(lua_State* L, Future* f, const Outcome& o) {
  tide::push_failure(L, o, "future", f->raw_error());
}

// Waits for f (running due callbacks before and after); pushes the failure
// error and returns kRaise, or returns 0 when completed with values.
template <class OnDone>
int wait_done(lua_State* L, Future* f, const Deadline& d, OnDone&& on_done) {
  runtime::run_waiting_callbacks(L);
  protect(L, [&] {
    if (!f->wait(d)) throw Error(ErrorKind::Timeout, "future did not finish in time");
    return 0;
  });
  runtime::run_waiting_callbacks(L);
  return protect(L, [&] { return on_done(f->outcome()); });
}

int m_result(lua_State* L) {
  Future* f = self<Future>(L);
  Deadline d = check_timeout(L, 2);
  lua_settop(L, 1);
  return wait_done(L, f, d, [&](const Outcome& o) {
    if (o.state == CompletionState::Completed) return codec::decode(L, o.values);
    push_future_failure(L, f, o);
    return kRaise;
  });
}

int m_exception(lua_State* L) {
  Future* f = self<Future>(L);
  Deadline d = check_timeout(L, 2);
  lua_settop(L, 1);
  return wait_done(L, f, d, [&](const Outcome& o) {
    if (o.state == CompletionState::Completed) {
      lua_pushnil(L);
      return 1;
    }
    push_future_failure(L, f, o);
    return o.state == CompletionState::Cancelled ? kRaise : 1;
  });
}

int m_add_done_callback(lua_State* L) {
  self<Future>(L);
  check_function(L, 2);
  lua_settop(L, 2);
  runtime::add_done_callback(L, 1, 2);
  return 0;
}

int future_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Future::kTypeName);
  if (!h->obj) return push_state(L, "Future", "released");
  static const char* const kNames[] = {"pending", "running", "completed", "failed", "cancelled"};
  return push_state(L, "Future", kNames[static_cast<int>(static_cast<Future*>(h->obj)->state())]);
}

const luaL_Reg kMethods[] = {{"done", m_query<&Future::done>},
                             {"running", m_query<&Future::running>},
                             {"cancelled", m_query<&Future::cancelled>},
                             {"cancel", m_cancel},
                             {"result", m_result},
                             {"exception", m_exception},
                             {"set_result", m_set_result},
                             {"set_exception", m_set_exception},
                             {"add_done_callback", m_add_done_callback},
                             {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__tostring", future_tostring}, {nullptr, nullptr}};

// ---- many futures ----------------------------------------------------------
// No C++ object with a destructor lives across a Lua error here: argument
// checks use the Lua API only, and each wait builds its vector inside
// protect().

// Pushes an array of the Futures of the array at `arg`, each once (first
// occurrence); returns its stack index. Raises ArgumentError.
int check_futures(lua_State* L, int arg) {
  check_table(L, arg);
  lua_newtable(L);
  int handles = lua_gettop(L);
  lua_newtable(L);  // seen: header -> true
  lua_Integer n = luaL_len(L, arg), count = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, arg, i);
    Handle* h = test_handle(L, -1);
    if (!h || !h->obj || !luaL_testudata(L, -1, Future::kTypeName))
      raise_error(L, ErrorKind::ArgumentError, "bad argument #%d (array of Futures expected, item %d is not)", arg,
                  static_cast<int>(i));
    lua_pushlightuserdata(L, static_cast<Future*>(h->obj)->shared_header());
    if (lua_rawget(L, handles + 1) == LUA_TNIL) {
      lua_pushlightuserdata(L, static_cast<Future*>(h->obj)->shared_header());
      lua_pushboolean(L, 1);
      lua_rawset(L, handles + 1);
      lua_pushvalue(L, -2);
      lua_seti(L, handles, ++count);
    }
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  return handles;
}

std::vector<Future*> futures_of(lua_State* L, int handles) {
  std::vector<Future*> out;
  lua_Integer n = luaL_len(L, handles);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, handles, i);
    out.push_back(static_cast<Future*>(static_cast<Handle*>(lua_touserdata(L, -1))->obj));
    lua_pop(L, 1);
  }
  return out;
}

double now_seconds() {
  return std::chrono::duration<double>(Deadline::Clock::now().time_since_epoch()).count();
}

// as_completed iterator: upvalue 1 the futures not yet yielded, upvalue 2
// the deadline in now_seconds() time (-1: never).
int as_completed_next(lua_State* L) {
  int handles = lua_upvalueindex(1);
  double at = lua_tonumber(L, lua_upvalueindex(2));
  lua_Integer n = luaL_len(L, handles), best = 0;
  if (n == 0) return 0;
  Deadline d = at < 0 ? Deadline::never() : Deadline::after(std::max(0.0, at - now_seconds()));
  runtime::run_waiting_callbacks(L);
  protect(L, [&] {
    std::vector<Future*> futs = futures_of(L, handles);
    auto any = [&] { return std::any_of(futs.begin(), futs.end(), [](Future* f) { return f->done(); }); };
    if (!Future::wait_many(futs, d, any))
      throw Error(ErrorKind::Timeout, "as_completed: futures unfinished at the deadline");
    for (std::size_t i = 0; i < futs.size(); ++i)  // the earliest finished
      if (futs[i]->done() && (best == 0 || futs[i]->done_stamp() < futs[best - 1]->done_stamp()))
        best = static_cast<lua_Integer>(i) + 1;
    return 0;
  });
  runtime::run_waiting_callbacks(L);
  lua_geti(L, handles, best);
  for (lua_Integer i = best; i < n; ++i) {  // table.remove(handles, best)
    lua_geti(L, handles, i + 1);
    lua_seti(L, handles, i);
  }
  lua_pushnil(L);
  lua_seti(L, handles, n);
  return 1;
}

int l_as_completed(lua_State* L) {
  double at = -1;
  if (!lua_isnoneornil(L, 2)) {
    check_timeout(L, 2);  // validates
    at = now_seconds() + lua_tonumber(L, 2);
  }
  check_futures(L, 1);
  lua_pushnumber(L, at);
  lua_pushcclosure(L, as_completed_next, 2);
  return 1;
}

enum class ReturnWhen { All, First, FirstException };

const char* const kWaitOptions[] = {"timeout", "return_when", nullptr};

int l_wait(lua_State* L) {
  Deadline d = Deadline::never();
  ReturnWhen when = ReturnWhen::All;
  if (!lua_isnoneornil(L, 2)) {
    check_table(L, 2);
    check_options(L, 2, kWaitOptions);
    lua_getfield(L, 2, "timeout");
    d = check_timeout(L, lua_gettop(L));
    lua_getfield(L, 2, "return_when");
    const char* mode = lua_isnil(L, -1) ? "ALL_COMPLETED" : lua_tostring(L, -1);
    if (mode && std::strcmp(mode, "FIRST_COMPLETED") == 0)
      when = ReturnWhen::First;
    else if (mode && std::strcmp(mode, "FIRST_EXCEPTION") == 0)
      when = ReturnWhen::FirstException;
    else if (!mode || std::strcmp(mode, "ALL_COMPLETED") != 0)
      raise_error(L, ErrorKind::ArgumentError,
                  "return_when must be ALL_COMPLETED, FIRST_COMPLETED or FIRST_EXCEPTION");
    lua_pop(L, 2);
  }
  int handles = check_futures(L, 1);
  runtime::run_waiting_callbacks(L);
  protect(L, [&] {
    std::vector<Future*> futs = futures_of(L, handles);
    Future::wait_many(futs, d, [&] {
      bool all = true;
      for (Future* f : futs) {
        CompletionState s = f->state();
        if (s >= CompletionState::Completed && when == ReturnWhen::First) return true;
        if (s == CompletionState::Failed && when == ReturnWhen::FirstException) return true;
        all = all && s >= CompletionState::Completed;
      }
      return all;
    });
    return 0;
  });
  runtime::run_waiting_callbacks(L);
  lua_newtable(L);
  lua_newtable(L);
  lua_Integer n = luaL_len(L, handles), nd = 0, nn = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, handles, i);
    bool done = static_cast<Future*>(static_cast<Handle*>(lua_touserdata(L, -1))->obj)->done();
    lua_seti(L, done ? -3 : -2, done ? ++nd : ++nn);
  }
  return 2;
}

int l_gather(lua_State* L) {
  check_table(L, 1);
  lua_Integer n = luaL_len(L, 1);
  lua_settop(L, 1);
  lua_createtable(L, static_cast<int>(n), 0);  // a copy callbacks cannot change
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    lua_seti(L, 2, i);
  }
  lua_replace(L, 1);
  int handles = check_futures(L, 1);
  runtime::run_waiting_callbacks(L);
  protect(L, [&] {
    std::vector<Future*> futs = futures_of(L, handles);
    Future::wait_many(futs, Deadline::never(), [&] {
      return std::all_of(futs.begin(), futs.end(), [](Future* f) { return f->done(); });
    });
    return 0;
  });
  runtime::run_waiting_callbacks(L);
  lua_createtable(L, static_cast<int>(n), 0);
  int out = lua_gettop(L);
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, 1, i);
    auto* f = static_cast<Future*>(static_cast<Handle*>(lua_touserdata(L, -1))->obj);
    lua_pop(L, 1);
    int top = lua_gettop(L);
    protect(L, [&] {
      Outcome o = f->outcome();
      if (o.state == CompletionState::Completed) return codec::decode(L, o.values);
      push_future_failure(L, f, o);
      return kRaise;
    });
    lua_settop(L, top + 1);  // the first result (nil if none)
    lua_seti(L, out, i);
  }
  return 1;
}

int l_poll(lua_State* L) {
  runtime::run_done_callbacks(L);
  return 0;
}

const luaL_Reg kFunctions[] = {{"new", l_new},   {"as_completed", l_as_completed}, {"wait", l_wait},
                               {"gather", l_gather}, {"poll", l_poll},             {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(Future::kTypeName, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_future(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  install_class(L, Future::kTypeName, kModule, kMethods, nullptr, kMeta);
  luaL_newlib(L, kFunctions);
  return 1;
}
