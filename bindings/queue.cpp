// tide.queue (API.md §4): Queue, LifoQueue, PriorityQueue, SimpleQueue and
// select. Items are encoded with the transfer codec here, outside the
// queue's lock, and decoded here after the queue gave them up.
//
// Extensions: q:put_many(list, [timeout]) and q:get_many(max, [timeout])
// move batches under one lock; q:is_closed().
#include <string>
#include <vector>

#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "queue/queue.hpp"
#include "queue_items.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"

namespace tide {
namespace {

using queue::Item;
using queue::Kind;
using queue::Queue;
using queue_items::make_item;
using queue_items::push_item;

constexpr const char* name_of(Kind k) { return Queue::kTypeNames[static_cast<int>(k)]; }

// The queue at `idx` if it is one (any kind), else nullptr. Never raises.
Handle* test_queue(lua_State* L, int idx) {
  for (const char* name : Queue::kTypeNames)
    if (auto* h = static_cast<Handle*>(luaL_testudata(L, idx, name))) return h;
  return nullptr;
}

// Checking self compares the handle's class tag (its type name,
// luabase/handles.hpp) with this kind's: no metatable fetched (W2).
template <Kind K>
Queue* self(lua_State* L) {
  return tagged_object<Queue>(L, 1, [](const char* cls) { return cls == name_of(K); }, name_of(K));
}

void check_item(lua_State* L, int arg) {
  if (lua_isnoneornil(L, arg)) arg_error(L, arg, "nil is not a queue item");
}

// Encoding scratch space reused by this OS thread's puts (no allocation per
// item once it has grown); a nested use (a __gc finalizer putting while an
// item is encoded) gets its own.
class Scratch {
 public:
  Scratch() : m_(t_busy ? &own_ : &t_message) { t_busy_here_ = !t_busy; t_busy = true; }
  ~Scratch() {
    m_->clear();  // keeps capacity, drops object references
    if (t_busy_here_) t_busy = false;
  }
  Message& get() { return *m_; }

 private:
  static thread_local Message t_message;
  static thread_local bool t_busy;
  Message own_;
  Message* m_;
  bool t_busy_here_;
};
thread_local Message Scratch::t_message;
thread_local bool Scratch::t_busy = false;

// Puts the value at index 2: a small scalar as an inline slot, anything
// else through the codec.
template <Kind K>
void put_value(lua_State* L, Queue* q, const Deadline& d) {
  queue::Slot s;
  if (K != Kind::Priority && queue_items::scalar_slot(L, 2, s)) return q->put_slot(s, {}, d);
  Scratch m;
  q->put(make_item(L, 2, K, m.get()), d);
}

// ---- methods (one instantiation per kind: self-checks are one lookup) ----

template <Kind K>
int m_put(lua_State* L) {
  runtime::run_due_callbacks(L);
  Queue* q = self<K>(L);
  check_item(L, 2);
  Deadline d = check_timeout(L, 3);
  return protect(L, [&] {
    put_value<K>(L, q, d);
    return 0;
  });
}

template <Kind K>
int m_put_nowait(lua_State* L) {
  Queue* q = self<K>(L);
  check_item(L, 2);
  return protect(L, [&] {
    put_value<K>(L, q, Deadline::after(0));
    return 0;
  });
}

template <Kind K>
int m_get(lua_State* L) {
  runtime::run_due_callbacks(L);
  Queue* q = self<K>(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] { return push_item(L, q->get(d)); });
}

template <Kind K>
int m_get_nowait(lua_State* L) {
  Queue* q = self<K>(L);
  return protect(L, [&] { return push_item(L, q->get(Deadline::after(0))); });
}

// q:put_many(list, [timeout]): puts list[1..#list] in order.
template <Kind K>
int m_put_many(lua_State* L) {
  runtime::run_due_callbacks(L);
  Queue* q = self<K>(L);
  check_table(L, 2);
  Deadline d = check_timeout(L, 3);
  auto n = static_cast<lua_Integer>(lua_rawlen(L, 2));
  lua_settop(L, 3);
  return protect(L, [&] {
    queue::ItemBatch batch;
    batch.reserve(static_cast<std::size_t>(n));
    Scratch m;
    for (lua_Integer i = 1; i <= n; ++i) {
      if (lua_rawgeti(L, 2, i) == LUA_TNIL)
        throw Error(ErrorKind::ArgumentError, "put_many: item " + std::to_string(i) + " is nil");
      queue_items::add_item(L, 4, K, m.get(), batch);
      lua_settop(L, 3);
    }
    std::size_t total = batch.size();
    std::size_t put = q->put_many(batch, d);
    if (put < total)
      throw Error(ErrorKind::Full, "the queue is full: put " + std::to_string(put) + " of " +
                                       std::to_string(total) + " items");
    return 0;
  });
}

// q:get_many(max, [timeout]) -> array of 1..max items.
template <Kind K>
int m_get_many(lua_State* L) {
  runtime::run_due_callbacks(L);
  Queue* q = self<K>(L);
  lua_Integer max = check_integer(L, 2);
  if (max < 1) arg_error(L, 2, "max must be a positive integer");
  Deadline d = check_timeout(L, 3);
  return protect(L, [&] {
    queue::ItemBatch items;
    q->get_many(items, static_cast<std::size_t>(max), d);
    lua_createtable(L, static_cast<int>(items.size()), 0);
    for (std::size_t i = 0; i < items.size(); ++i) {
      queue_items::push_batch_item(L, items, i);
      lua_rawseti(L, -2, static_cast<lua_Integer>(i) + 1);
    }
    return 1;
  });
}

template <Kind K>
int m_qsize(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(self<K>(L)->qsize()));
  return 1;
}

template <Kind K>
int m_empty(lua_State* L) {
  lua_pushboolean(L, self<K>(L)->empty());
  return 1;
}

template <Kind K>
int m_full(lua_State* L) {
  lua_pushboolean(L, self<K>(L)->full());
  return 1;
}

template <Kind K>
int m_task_done(lua_State* L) {
  Queue* q = self<K>(L);
  return protect(L, [&] {
    q->task_done();
    return 0;
  });
}

template <Kind K>
int m_join(lua_State* L) {
  runtime::run_due_callbacks(L);
  Queue* q = self<K>(L);
  Deadline d = check_timeout(L, 2);
  return protect(L, [&] {
    if (!q->join(d)) throw Error(ErrorKind::Timeout, "join timed out with unfinished tasks");
    return 0;
  });
}

template <Kind K>
int m_close(lua_State* L) {
  self<K>(L)->close();
  return 0;
}

// Iterator body: upvalue 1 is the queue handle. Ends (nil) when the queue
// is closed and drained.
int iter_next(lua_State* L) {
  auto* h = static_cast<Handle*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (!h->obj) return 0;
  auto* q = static_cast<Queue*>(h->obj);
  return protect(L, [&] {
    Item item;
    try {
      item = q->get(Deadline::never());
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Closed) throw;
      return 0;
    }
    return push_item(L, item);
  });
}

template <Kind K>
int m_iter(lua_State* L) {
  self<K>(L);
  lua_settop(L, 1);
  lua_pushcclosure(L, iter_next, 1);
  return 1;
}

template <Kind K>
int m_is_closed(lua_State* L) {
  lua_pushboolean(L, self<K>(L)->closed());
  return 1;
}

int queue_tostring(lua_State* L) {
  Handle* h = test_queue(L, 1);
  if (!h) type_error(L, 1, "queue");
  luaL_getmetafield(L, 1, "__name");
  const char* name = lua_tostring(L, -1) + 5;  // past "tide."
  if (!h->obj) {
    lua_pushfstring(L, "%s (released)", name);
    return 1;
  }
  auto* q = static_cast<Queue*>(h->obj);
  lua_pushfstring(L, "%s (%I items%s)", name, static_cast<LUAI_UACINT>(q->qsize()),
                  q->closed() ? ", closed" : "");
  return 1;
}

int queue_eq(lua_State* L) {
  Handle* a = test_queue(L, 1);
  Handle* b = test_queue(L, 2);
  auto* qa = a ? static_cast<Queue*>(a->obj) : nullptr;
  auto* qb = b ? static_cast<Queue*>(b->obj) : nullptr;
  lua_pushboolean(L, qa && qb && qa->offset() == qb->offset());
  return 1;
}

template <Kind K>
void define(lua_State* L) {
  static const luaL_Reg kCommon[] = {
      {"put", m_put<K>},     {"put_nowait", m_put_nowait<K>}, {"get", m_get<K>},
      {"get_nowait", m_get_nowait<K>}, {"qsize", m_qsize<K>}, {"empty", m_empty<K>},
      {"close", m_close<K>}, {"iter", m_iter<K>},             {"put_many", m_put_many<K>},
      {"get_many", m_get_many<K>}, {"full", m_full<K>},       {"task_done", m_task_done<K>},
      {"join", m_join<K>},   {"is_closed", m_is_closed<K>}, {nullptr, nullptr}};
  // SimpleQueue has what Python's has: no full, task_done or join.
  static const std::vector<luaL_Reg> methods = [] {
    std::vector<luaL_Reg> v;
    for (const luaL_Reg& r : kCommon) {
      std::string_view name = r.name ? r.name : "";
      if (K == Kind::Simple && (name == "full" || name == "task_done" || name == "join")) continue;
      v.push_back(r);
    }
    return v;
  }();
  static const luaL_Reg kMeta[] = {{"__tostring", queue_tostring}, {"__eq", queue_eq}, {nullptr, nullptr}};
  static const luaL_Reg kNone[] = {{nullptr, nullptr}};
  define_class(L, ClassSpec{name_of(K), kNone, nullptr, kMeta}, "tide.queue");
  // Queues have no fields, so __index can be the method table itself: the
  // VM then finds methods without calling a C function (W2 pays per call).
  luaL_getmetatable(L, name_of(K));
  lua_newtable(L);
  luaL_setfuncs(L, methods.data(), 0);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
}

int new_queue(lua_State* L, Kind kind) {
  lua_Integer maxsize = 0;
  if (kind != Kind::Simple && !lua_isnoneornil(L, 1)) {
    maxsize = check_integer(L, 1);
    if (maxsize < 0) arg_error(L, 1, "maxsize must not be negative");
  }
  return protect(L, [&] {
    Ref<Queue> q = Queue::create(kind, maxsize);
    push_handle(L, q.get());
    return 1;
  });
}

int l_Queue(lua_State* L) { return new_queue(L, Kind::Fifo); }
int l_LifoQueue(lua_State* L) { return new_queue(L, Kind::Lifo); }
int l_PriorityQueue(lua_State* L) { return new_queue(L, Kind::Priority); }
int l_SimpleQueue(lua_State* L) { return new_queue(L, Kind::Simple); }

// select(queues, [timeout]) -> q, item
int l_select(lua_State* L) {
  runtime::run_due_callbacks(L);
  check_table(L, 1);
  Deadline d = check_timeout(L, 2);
  auto n = static_cast<lua_Integer>(lua_rawlen(L, 1));
  if (n == 0) arg_error(L, 1, "empty list of queues");
  for (lua_Integer i = 1; i <= n; ++i) {
    lua_rawgeti(L, 1, i);
    Handle* h = test_queue(L, -1);
    if (!h) {
      int at = lua_gettop(L);
      const char* what = luaL_getmetafield(L, at, "__name") == LUA_TSTRING ? lua_tostring(L, -1)
                                                                           : luaL_typename(L, at);
      arg_error(L, 1, lua_pushfstring(L, "item %I is a %s, not a queue", static_cast<LUAI_UACINT>(i), what));
    }
    if (!h->obj) arg_error(L, 1, lua_pushfstring(L, "queue %I is released", static_cast<LUAI_UACINT>(i)));
    lua_pop(L, 1);
  }
  return protect(L, [&] {
    std::vector<Queue*> queues;  // kept alive by the handles in the list
    queues.reserve(static_cast<std::size_t>(n));
    for (lua_Integer i = 1; i <= n; ++i) {
      lua_rawgeti(L, 1, i);
      queues.push_back(static_cast<Queue*>(test_queue(L, -1)->obj));
      lua_pop(L, 1);
    }
    Item item;
    std::size_t which = queue::select(queues, d, item);
    lua_rawgeti(L, 1, static_cast<lua_Integer>(which) + 1);
    push_item(L, item);
    return 2;
  });
}

// Known before any state loads the module: a process that only receives a
// queue (a spawned child) rebuilds its handle by requiring tide.queue.
[[maybe_unused]] const bool kHandleTypes = [] {
  for (const char* name : Queue::kTypeNames) register_handle_type(name, "tide.queue");
  return true;
}();

const luaL_Reg kFunctions[] = {
    {"Queue", l_Queue},   {"LifoQueue", l_LifoQueue}, {"PriorityQueue", l_PriorityQueue},
    {"SimpleQueue", l_SimpleQueue}, {"select", l_select}, {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_queue(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  queue_items::verify_fast_path(L);
  define<Kind::Fifo>(L);
  define<Kind::Lifo>(L);
  define<Kind::Priority>(L);
  define<Kind::Simple>(L);
  luaL_newlib(L, kFunctions);
  return 1;
}
