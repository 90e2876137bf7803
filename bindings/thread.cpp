// tide.thread (API.md §2).
#include <sched.h>

#include <cmath>

#include "codec/codec.hpp"
#include "core/wait.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "worker_fields.hpp"
#include "runtime/run_call.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "thread/thread.hpp"

namespace tide {
namespace {

Thread* self(lua_State* L) { return check_object<Thread>(L, 1); }

std::string who(Thread* t) { return "thread '" + t->name() + "'"; }

// Pushes the handle of a new thread built from stack slots [first, first+n)
// (function then arguments).
// `name` with a null data() means "make one up" from `prefix`.
int push_new_thread(lua_State* L, int first, int n, std::string_view name, bool daemon,
                    double delay, bool start, const char* prefix = "Thread") {
  return protect(L, [&] {
    Message payload;
    codec::encode(L, first, n, payload, {"argument", 1});
    auto t = Ref<Thread>::adopt(new Thread(runtime::make_call_body(std::move(payload)),
                                           name.data() ? std::string(name) : Thread::next_name(prefix),
                                           daemon, delay));
    if (start) t->start();
    push_handle(L, t.get());
    return 1;
  });
}

int l_spawn(lua_State* L) {
  check_function(L, 1);
  return push_new_thread(L, 1, lua_gettop(L), {}, false, -1, true);
}

const char* const kThreadOptions[] = {"target", "args", "name", "daemon", nullptr};

// Thread{target=fn, args={...}, name=?, daemon=?}
int l_Thread(lua_State* L) {
  check_table(L, 1);
  check_options(L, 1, kThreadOptions);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "target") != LUA_TFUNCTION)
    arg_error(L, 1, lua_pushfstring(L, "field 'target' must be a function, got %s", type_of(L, -1)));
  int fn = lua_gettop(L);
  int nargs = push_args_field(L, 1, "args");
  std::string_view name;
  if (lua_getfield(L, 1, "name") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      arg_error(L, 1, lua_pushfstring(L, "field 'name' must be a string, got %s", type_of(L, -1)));
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    name = std::string_view(s, len);
  }
  int name_idx = lua_gettop(L);  // keeps `name` alive on the stack
  int dt = lua_getfield(L, 1, "daemon");
  if (dt != LUA_TNIL && dt != LUA_TBOOLEAN)
    arg_error(L, 1, lua_pushfstring(L, "field 'daemon' must be a boolean, got %s", type_of(L, -1)));
  bool daemon = lua_toboolean(L, -1);
  lua_pop(L, 1);
  lua_insert(L, fn);  // name below the call values
  (void)name_idx;
  return push_new_thread(L, fn + 1, nargs + 1, name, daemon, -1, false);
}

int l_Timer(lua_State* L) {
  lua_Number interval = check_number(L, 1);
  if (std::isnan(interval) || interval < 0) arg_error(L, 1, "interval must be a non-negative number");
  check_function(L, 2);
  return push_new_thread(L, 2, lua_gettop(L) - 1, {}, false, interval, false, "Timer");
}

int m_start(lua_State* L) {
  Thread* t = self(L);
  return protect(L, [&] {
    t->start();
    return 0;
  });
}

int m_join(lua_State* L) {
  runtime::run_due_callbacks(L);
  Thread* t = self(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    if (Thread::current().get() == t) throw Error(ErrorKind::InvalidState, "cannot join the current thread");
    if (!t->started() && !t->completion().done())
      throw Error(ErrorKind::InvalidState, "cannot join " + who(t) + " before it is started");
    if (!t->wait(d)) throw Error(ErrorKind::Timeout, "join of " + who(t) + " timed out");
    const Outcome& o = t->completion().outcome();
    // Python's Timer.join() after cancel() simply returns.
    if (t->is_timer() && o.state == CompletionState::Cancelled) return 0;
    t->mark_error_observed();
    return push_outcome(L, o, who(t));
  });
}

int m_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Thread* t = self(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    if (Thread::current().get() == t) throw Error(ErrorKind::InvalidState, "cannot wait for the current thread");
    if (!t->started() && !t->completion().done())
      throw Error(ErrorKind::InvalidState, "cannot wait for " + who(t) + " before it is started");
    lua_pushboolean(L, t->wait(d));
    return 1;
  });
}

int m_is_alive(lua_State* L) {
  lua_pushboolean(L, self(L)->is_alive());
  return 1;
}

int m_status(lua_State* L) {
  lua_pushstring(L, self(L)->status_name());
  return 1;
}

int m_cancel(lua_State* L) {
  Thread* t = self(L);
  return protect(L, [&] {
    t->cancel();
    return 0;
  });
}

int getter(lua_State* L) {
  Thread* t = self(L);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  std::string_view k(key);
  if (k == "name") {
    std::string n = t->name();
    lua_pushlstring(L, n.data(), n.size());
  } else if (k == "ident") {
    pid_t id = t->ident();
    if (id == 0) return 0;
    lua_pushinteger(L, id);
  } else if (k == "daemon") {
    lua_pushboolean(L, t->daemon());
  } else {
    return 0;
  }
  return 1;
}

int thread_newindex(lua_State* L) { return set_worker_field(L, self(L), "Thread"); }

int thread_tostring(lua_State* L) {
  Handle* h = check_handle(L, 1, Thread::kTypeName);
  if (!h->obj) {
    lua_pushstring(L, "Thread (released)");
    return 1;
  }
  auto* t = static_cast<Thread*>(h->obj);
  std::string name = t->name();
  lua_pushfstring(L, "%s '%s' (%s)", t->is_timer() ? "Timer" : "Thread", name.c_str(), t->status_name());
  return 1;
}

int thread_eq(lua_State* L) {
  auto* a = static_cast<Handle*>(luaL_testudata(L, 1, Thread::kTypeName));
  auto* b = static_cast<Handle*>(luaL_testudata(L, 2, Thread::kTypeName));
  lua_pushboolean(L, a && b && a->obj == b->obj);
  return 1;
}

int l_current(lua_State* L) {
  return protect(L, [&] {
    push_handle(L, Thread::current().get());
    return 1;
  });
}

int l_main(lua_State* L) {
  return protect(L, [&] {
    push_handle(L, Thread::main().get());
    return 1;
  });
}

int l_is_main(lua_State* L) {
  lua_pushboolean(L, Thread::is_main());
  return 1;
}

int l_active_count(lua_State* L) {
  return protect(L, [&] {
    lua_pushinteger(L, static_cast<lua_Integer>(Thread::enumerate().size()));
    return 1;
  });
}

int l_enumerate(lua_State* L) {
  return protect(L, [&] {
    auto all = Thread::enumerate();
    lua_createtable(L, static_cast<int>(all.size()), 0);
    int i = 0;
    for (auto& t : all) {
      push_handle(L, t.get());
      lua_rawseti(L, -2, ++i);
    }
    return 1;
  });
}

int l_yield(lua_State* L) {
  sched_yield();
  runtime::check_cancel(L);
  return 0;
}

const luaL_Reg kMethods[] = {
    {"start", m_start},   {"join", m_join},     {"wait", m_wait}, {"is_alive", m_is_alive},
    {"status", m_status}, {"cancel", m_cancel}, {nullptr, nullptr}};

const luaL_Reg kMeta[] = {
    {"__newindex", thread_newindex}, {"__tostring", thread_tostring}, {"__eq", thread_eq}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {
    {"spawn", l_spawn},   {"Thread", l_Thread},   {"Timer", l_Timer},
    {"current", l_current}, {"main", l_main},     {"is_main", l_is_main},
    {"active_count", l_active_count}, {"enumerate", l_enumerate},
    {"sleep", l_sleep},   {"yield", l_yield},     {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_thread(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  define_class(L, ClassSpec{Thread::kTypeName, kMethods, getter, kMeta}, "tide.thread");
  luaL_newlib(L, kFunctions);
  return 1;
}
