#include "runtime/done_callbacks.hpp"

#include <atomic>
#include <cstdint>

#include "core/log.hpp"
#include "future/future.hpp"
#include "luabase/handles.hpp"

namespace tide::runtime {

namespace {

constexpr const char* kCallbacks = "tide.future.callbacks";

// Entries in the callback lists of every state of this process: counted
// when one is appended, uncounted when a run takes it out of its list. A
// state closed with entries left keeps them counted, so the count is never
// below the truth, and 0 means no state has a callback waiting, whichever
// OS thread runs which state (W4: every result() asked its state twice).
std::atomic<std::int64_t> g_pending{0};

// Callbacks waiting in the lists of states used on this OS thread (a state
// runs on one OS thread at a time; the count is a hint for the fast path
// of other modules' waits, which a state moving between threads may miss).
thread_local lua_Integer t_waiting = 0;

void push_callback_list(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, kCallbacks) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, kCallbacks);
  }
}

bool handle_done(lua_State* L, int idx) {
  Handle* h = test_handle(L, idx);
  return h && h->obj && static_cast<future::Future*>(h->obj)->done();
}

// Calls fn (at -2) with the future (at -1) under pcall; logs an error.
void call_callback(lua_State* L) {
  if (lua_pcall(L, 1, 0, 0) != LUA_OK) {
    const char* msg = luaL_tolstring(L, -1, nullptr);
    log::error("error in a future's done callback: {}", msg);
    lua_pop(L, 2);
  }
}

}  // namespace

// Runs the callbacks of every done future, in the order they were added.
int run_done_callbacks(lua_State* L) {
  push_callback_list(L);
  int list = lua_gettop(L);
  lua_Integer n = luaL_len(L, list);
  if (n == 0) {
    t_waiting = 0;
    lua_pop(L, 1);
    return 0;
  }
  lua_newtable(L);  // due entries
  lua_newtable(L);  // remaining entries
  int due = list + 1, rest = list + 2;
  lua_Integer nd = 0, nr = 0;
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_geti(L, list, i);
    lua_geti(L, -1, 1);
    Handle* h = test_handle(L, -1);
    lua_pop(L, 1);
    if (!h || !h->obj) {  // a closed handle: its callbacks can never run
      lua_pop(L, 1);
      continue;
    }
    bool done = static_cast<future::Future*>(h->obj)->done();
    lua_seti(L, done ? due : rest, done ? ++nd : ++nr);
  }
  // Callbacks added while the due ones run go to the new list.
  lua_pushvalue(L, rest);
  lua_setfield(L, LUA_REGISTRYINDEX, kCallbacks);
  g_pending.fetch_sub(n - nr, std::memory_order_relaxed);
  t_waiting = nr;
  for (lua_Integer i = 1; i <= nd; ++i) {
    lua_geti(L, due, i);
    lua_geti(L, -1, 2);
    lua_geti(L, -2, 1);
    call_callback(L);
    lua_pop(L, 1);
  }
  lua_settop(L, list - 1);
  return static_cast<int>(nd);
}

void add_done_callback(lua_State* L, int fut, int fn) {
  fut = lua_absindex(L, fut);
  fn = lua_absindex(L, fn);
  if (handle_done(L, fut)) {
    lua_pushvalue(L, fn);
    lua_pushvalue(L, fut);
    call_callback(L);
    return;
  }
  push_callback_list(L);
  lua_createtable(L, 2, 0);
  lua_pushvalue(L, fut);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, fn);
  lua_rawseti(L, -2, 2);
  lua_seti(L, -2, luaL_len(L, -2) + 1);
  lua_pop(L, 1);
  g_pending.fetch_add(1, std::memory_order_relaxed);
  ++t_waiting;
}

void run_due_callbacks(lua_State* L) {
  if (t_waiting > 0) run_done_callbacks(L);
}

void run_waiting_callbacks(lua_State* L) {
  if (g_pending.load(std::memory_order_relaxed) > 0) run_done_callbacks(L);
}

}  // namespace tide::runtime
