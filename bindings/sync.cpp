// tide.sync (API.md §3): Lock, RLock, Condition, Semaphore,
// BoundedSemaphore, Event, Barrier. The objects live in the shared arena
// (host/sync/), so a handle passed to a thread or a child process works
// there unchanged. with/guard and the class plumbing: sync_class.hpp.
#include <cmath>
#include <functional>

#include "codec/codec.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "runtime/state.hpp"
#include "shm/stored_message.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"
#include "sync/barrier.hpp"
#include "sync/condition.hpp"
#include "sync/event.hpp"
#include "sync/lock.hpp"
#include "sync/rlock.hpp"
#include "sync/semaphore.hpp"

namespace tide {
namespace {

using sync::Barrier;
using sync::Condition;
using sync::Event;
using sync::Lock;
using sync::RLock;
using sync::Semaphore;

using namespace sync_binding;

constexpr const char* kModule = "tide.sync";

template <class T>
int push_new(lua_State* L, Ref<T> obj) {
  push_handle(L, obj.get());
  return 1;
}

// ---- Lock, RLock -----------------------------------------------------------

// m_acquire, m_release (and with, guard) reach the generic path only when
// the fast one below declines (fast_lock/fast_unlock in sync_class.hpp).
template <class T>
int m_acquire(lua_State* L) {
  runtime::run_due_callbacks(L);
  T* o = self<T>(L);
  if (lua_gettop(L) == 1 && fast_lock(o)) {
    lua_pushboolean(L, 1);
    return 1;
  }
  Deadline d = acquire_timeout(L, 2);
  return protect(L, [&] {
    lua_pushboolean(L, o->lock(d));
    return 1;
  });
}

template <class T>
int m_release(lua_State* L) {
  T* o = self<T>(L);
  if (fast_unlock(o)) return 0;
  return protect(L, [&] {
    o->unlock();
    return 0;
  });
}

template <class T>
int m_locked(lua_State* L) {
  lua_pushboolean(L, self<T>(L)->locked());
  return 1;
}

template <class T>
int lock_tostring(lua_State* L) {
  const char* what = T::kTypeName + 5;  // after "tide."
  auto* h = check_handle(L, 1, T::kTypeName);
  if (!h->obj) return push_state(L, what, "released");
  return push_state(L, what, static_cast<T*>(h->obj)->locked() ? "locked" : "unlocked");
}

template <class T>
const luaL_Reg kLockMethods[] = {{"acquire", m_acquire<T>}, {"release", m_release<T>},
                                 {"locked", m_locked<T>},   {"with", m_with<T>},
                                 {"guard", m_guard<T>},     {nullptr, nullptr}};
template <class T>
const luaL_Reg kLockMeta[] = {{"__tostring", lock_tostring<T>}, {nullptr, nullptr}};

int l_Lock(lua_State* L) {
  return protect(L, [&] { return push_new(L, Lock::create()); });
}

int l_RLock(lua_State* L) {
  return protect(L, [&] { return push_new(L, RLock::create()); });
}

// ---- Condition -------------------------------------------------------------

int l_Condition(lua_State* L) {
  shm::SharedObject* lock = nullptr;
  if (!lua_isnoneornil(L, 1)) {
    Handle* h = test_handle(L, 1);
    if (h && h->obj && (luaL_testudata(L, 1, Lock::kTypeName) || luaL_testudata(L, 1, RLock::kTypeName)))
      lock = static_cast<shm::SharedObject*>(h->obj);
    else
      type_error(L, 1, "Lock or RLock");
  }
  return protect(L, [&] { return push_new(L, Condition::create(lock)); });
}

int m_cond_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Condition* c = self<Condition>(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    lua_pushboolean(L, c->wait(d));
    return 1;
  });
}

// cond:wait_for(pred, [timeout]) -> pred's last result.
int m_cond_wait_for(lua_State* L) {
  runtime::run_due_callbacks(L);
  self<Condition>(L);
  check_function(L, 2);
  Deadline d = check_timeout(L, 3);
  lua_settop(L, 2);
  for (;;) {
    lua_pushvalue(L, 2);
    lua_call(L, 0, 1);
    if (lua_toboolean(L, -1) || d.passed()) return 1;
    lua_pop(L, 1);
    Condition* c = self<Condition>(L);  // again: pred may have run anything
    protect(L, [&] {
      c->wait(d);
      return 0;
    });
  }
}

int m_cond_notify(lua_State* L) {
  Condition* c = self<Condition>(L);
  lua_Integer n = lua_isnoneornil(L, 2) ? 1 : check_integer(L, 2);
  if (n < 0) arg_error(L, 2, "notify count must be >= 0");
  return protect(L, [&] {
    c->notify(static_cast<std::uint64_t>(n));
    return 0;
  });
}

int m_cond_notify_all(lua_State* L) {
  Condition* c = self<Condition>(L);
  return protect(L, [&] {
    c->notify_all();
    return 0;
  });
}

int condition_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Condition::kTypeName);
  if (!h->obj) return push_state(L, "Condition", "released");
  auto* c = static_cast<Condition*>(h->obj);
  lua_pushfstring(L, "Condition on %s (%s)", c->lock_is_rlock() ? "RLock" : "Lock",
                  c->locked() ? "locked" : "unlocked");
  return 1;
}

const luaL_Reg kConditionMethods[] = {
    {"acquire", m_acquire<Condition>}, {"release", m_release<Condition>}, {"wait", m_cond_wait},
    {"wait_for", m_cond_wait_for},     {"notify", m_cond_notify},         {"notify_all", m_cond_notify_all},
    {"with", m_with<Condition>},       {"guard", m_guard<Condition>},     {nullptr, nullptr}};
const luaL_Reg kConditionMeta[] = {{"__tostring", condition_tostring}, {nullptr, nullptr}};

// ---- Semaphore, BoundedSemaphore -------------------------------------------

int new_semaphore(lua_State* L, bool bounded) {
  lua_Integer n = lua_isnoneornil(L, 1) ? 1 : check_integer(L, 1);
  if (n < 0) arg_error(L, 1, "initial value must be >= 0");
  return protect(L, [&] { return push_new(L, Semaphore::create(n, bounded)); });
}

int l_Semaphore(lua_State* L) { return new_semaphore(L, false); }
int l_BoundedSemaphore(lua_State* L) { return new_semaphore(L, true); }

int m_sem_release(lua_State* L) {
  Semaphore* s = self<Semaphore>(L);
  lua_Integer n = lua_isnoneornil(L, 2) ? 1 : check_integer(L, 2);
  if (n < 1) arg_error(L, 2, "release count must be >= 1");
  return protect(L, [&] {
    s->post(n);
    return 0;
  });
}

int semaphore_tostring(lua_State* L) {
  auto* h = static_cast<Handle*>(luaL_testudata(L, 1, Semaphore::kTypeName));
  const char* what = "Semaphore";
  if (!h) {
    h = check_handle(L, 1, Semaphore::kBoundedTypeName);
    what = "BoundedSemaphore";
  }
  if (!h->obj) return push_state(L, what, "released");
  auto* s = static_cast<Semaphore*>(h->obj);
  lua_pushfstring(L, "%s (value %I)", what, static_cast<lua_Integer>(s->value()));
  return 1;
}

const luaL_Reg kSemaphoreMethods[] = {{"acquire", m_acquire<Semaphore>}, {"release", m_sem_release},
                                      {"with", m_with<Semaphore>},       {"guard", m_guard<Semaphore>},
                                      {nullptr, nullptr}};
const luaL_Reg kSemaphoreMeta[] = {{"__tostring", semaphore_tostring}, {nullptr, nullptr}};

// ---- Event -----------------------------------------------------------------

int l_Event(lua_State* L) {
  return protect(L, [&] { return push_new(L, Event::create()); });
}

int m_event_set(lua_State* L) {
  self<Event>(L)->set();
  return 0;
}

int m_event_clear(lua_State* L) {
  self<Event>(L)->clear();
  return 0;
}

int m_event_is_set(lua_State* L) {
  lua_pushboolean(L, self<Event>(L)->is_set());
  return 1;
}

int m_event_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Event* e = self<Event>(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    lua_pushboolean(L, e->wait(d));
    return 1;
  });
}

int event_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Event::kTypeName);
  if (!h->obj) return push_state(L, "Event", "released");
  return push_state(L, "Event", static_cast<Event*>(h->obj)->is_set() ? "set" : "clear");
}

const luaL_Reg kEventMethods[] = {{"set", m_event_set},       {"clear", m_event_clear}, {"is_set", m_event_is_set},
                                  {"wait", m_event_wait},     {nullptr, nullptr}};
const luaL_Reg kEventMeta[] = {{"__tostring", event_tostring}, {nullptr, nullptr}};

// ---- Barrier ---------------------------------------------------------------

// Barrier(parties, [action], [timeout])
int l_Barrier(lua_State* L) {
  lua_Integer parties = check_integer(L, 1);
  if (parties < 1) arg_error(L, 1, "a Barrier needs at least 1 party");
  if (!lua_isnoneornil(L, 2)) check_function(L, 2);
  double timeout = -1;
  if (!lua_isnoneornil(L, 3)) {
    timeout = check_number(L, 3);
    if (std::isnan(timeout) || timeout < 0) arg_error(L, 3, "timeout must be a non-negative number");
  }
  return protect(L, [&] {
    shm::Offset action = 0;
    if (!lua_isnoneornil(L, 2)) {
      Message m;
      codec::encode(L, 2, 1, m, {"action", 0});
      action = shm::store_message(m);
    }
    return push_new(L, Barrier::create(parties, timeout, action));
  });
}

int m_barrier_wait(lua_State* L) {
  runtime::run_due_callbacks(L);
  Barrier* b = self<Barrier>(L);
  bool own_timeout = lua_isnoneornil(L, 2);
  Deadline d = check_timeout(L, 2);
  lua_settop(L, 2);
  return protect(L, [&] {
    // Runs in the last party's state: the action's error stays on the stack.
    Barrier::Action action = [&]() -> bool {
      Message m = shm::load_message(b->action());
      codec::decode(L, m);
      return lua_pcall(L, 0, 0, 0) == LUA_OK;
    };
    std::int64_t index = b->wait(own_timeout ? nullptr : &d, &action);
    if (index < 0) return kRaise;
    lua_pushinteger(L, index);
    return 1;
  });
}

int m_barrier_reset(lua_State* L) {
  Barrier* b = self<Barrier>(L);
  return protect(L, [&] {
    b->reset();
    return 0;
  });
}

int m_barrier_abort(lua_State* L) {
  Barrier* b = self<Barrier>(L);
  return protect(L, [&] {
    b->abort();
    return 0;
  });
}

int barrier_getter(lua_State* L) {
  Barrier* b = self<Barrier>(L);
  const char* key = lua_tostring(L, 2);
  std::string_view k = key ? key : "";
  if (k == "parties")
    lua_pushinteger(L, b->parties());
  else if (k == "n_waiting")
    lua_pushinteger(L, b->n_waiting());
  else if (k == "broken")
    lua_pushboolean(L, b->broken());
  else
    return 0;
  return 1;
}

int barrier_tostring(lua_State* L) {
  auto* h = check_handle(L, 1, Barrier::kTypeName);
  if (!h->obj) return push_state(L, "Barrier", "released");
  auto* b = static_cast<Barrier*>(h->obj);
  if (b->broken()) return push_state(L, "Barrier", "broken");
  lua_pushfstring(L, "Barrier (%d/%d waiting)", static_cast<int>(b->n_waiting()), static_cast<int>(b->parties()));
  return 1;
}

const luaL_Reg kBarrierMethods[] = {{"wait", m_barrier_wait}, {"reset", m_barrier_reset},
                                    {"abort", m_barrier_abort}, {nullptr, nullptr}};
const luaL_Reg kBarrierMeta[] = {{"__tostring", barrier_tostring}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"Lock", l_Lock},
                               {"RLock", l_RLock},
                               {"Condition", l_Condition},
                               {"Semaphore", l_Semaphore},
                               {"BoundedSemaphore", l_BoundedSemaphore},
                               {"Event", l_Event},
                               {"Barrier", l_Barrier},
                               {nullptr, nullptr}};

// Handles decoded in a state that has not loaded tide.sync yet (or pushed
// by tide.shared's get_lock) find their module through this.
const bool kHandleTypes = [] {
  for (const char* t : {Lock::kTypeName, RLock::kTypeName, Condition::kTypeName, Semaphore::kTypeName,
                        Semaphore::kBoundedTypeName, Event::kTypeName, Barrier::kTypeName})
    register_handle_type(t, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_sync(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  install_class(L, Lock::kTypeName, kModule, kLockMethods<Lock>, nullptr, kLockMeta<Lock>);
  install_class(L, RLock::kTypeName, kModule, kLockMethods<RLock>, nullptr, kLockMeta<RLock>);
  install_class(L, Condition::kTypeName, kModule, kConditionMethods, nullptr, kConditionMeta);
  install_class(L, Semaphore::kTypeName, kModule, kSemaphoreMethods, nullptr, kSemaphoreMeta);
  install_class(L, Semaphore::kBoundedTypeName, kModule, kSemaphoreMethods, nullptr, kSemaphoreMeta);
  install_class(L, Event::kTypeName, kModule, kEventMethods, nullptr, kEventMeta);
  install_class(L, Barrier::kTypeName, kModule, kBarrierMethods, barrier_getter, kBarrierMeta);
  luaL_newlib(L, kFunctions);
  return 1;
}
