// tide.actor (API.md §16): actors on the pool core. spawn() starts a pool
// with one worker (host/pool/thread_pool.hpp with Options::actor; a thread
// or a process of any start method) whose initializer is _main below: it
// makes the actor's `self` in the worker's state, runs __init and
// __post_create, and registers __pre_destroy as the worker's finalizer
// (runtime/pool_runner.hpp's kFinalizer, run when the pool shuts down:
// destroy() or host exit). Each call is a pool task running _dispatch with
// the method name and arguments, so calls are served one at a time in
// arrival order, and return ordinary Futures. The ActorRef a script holds
// is host/pool/actor.hpp's shared object: it crosses to threads, pool
// tasks and processes through the codec like any arena object.
//
// spawn() waits until __init and __post_create have run, so their errors
// are raised by spawn (RemoteError, with the error as cause).
#include <atomic>
#include <cstring>
#include <string>
#include <unordered_map>

#include "codec/codec.hpp"
#include "core/fork_safe.hpp"
#include "luabase/protect.hpp"
#include "modules.hpp"
#include "pool/actor.hpp"
#include "pool/thread_pool.hpp"
#include "pool_binding.hpp"
#include "process/process.hpp"
#include "runtime/done_callbacks.hpp"
#include "runtime/pool_runner.hpp"
#include "runtime/state.hpp"
#include "shm/owner.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"

namespace tide {
namespace {

using pool::ActorRef;
using pool::Pool;

constexpr const char* kModule = "tide.actor";
constexpr const char* kSelf = "tide.actor.self";  // registry: the actor's self in its worker state

// ---- the pools of the actors this process spawned ---------------------------
// Kept (with a ref, so the ActorData's address is not reused) until
// destroy() or exit, whoever else holds refs: an actor lives until it is
// destroyed, not until its refs are collected. A fork child inherits the
// map and never uses it: an ActorRef names its owner's pid, and only the
// owner looks its pool up. The mutex is ForkSafe (a child finds it free);
// its sections only insert, find or erase (no other lock is taken under
// it, and no Pool is destroyed under it).
struct Owned {
  Ref<ActorRef> ref;
  Ref<Pool> pool;
};
ForkSafeMutex g_owned_m;
auto* g_owned = new std::unordered_map<const void*, Owned>;  // never destroyed (exit uses the pools)

void own(const Ref<ActorRef>& a, const Ref<Pool>& p) {
  std::lock_guard lock(g_owned_m);
  g_owned->emplace(a->shared_header(), Owned{a, p});
}

// The pool of `a` if this process owns it; `take` also forgets it.
Ref<Pool> owned_pool(const ActorRef& a, bool take) {
  if (a.owner() != shm::current_pid()) return {};
  Owned o;
  {
    std::lock_guard lock(g_owned_m);
    auto it = g_owned->find(a.shared_header());
    if (it == g_owned->end()) return {};
    o = it->second;
    if (take) g_owned->erase(it);
  }
  return o.pool;
}

std::atomic<int> g_actors{0};  // default names "Actor-N"

// ---- what runs in the actor's worker state ----------------------------------
// Plain Lua API, no C++ object alive: the user's hooks and methods raise
// through these frames.

// A raw field of the table at `t` that must be a function or nil: pushes it
// and returns whether it is a function.
bool hook(lua_State* L, int t, const char* name) {
  lua_pushstring(L, name);
  return lua_rawget(L, t) == LUA_TFUNCTION;
}

// Calls __pre_destroy(self) (upvalues 1 and 2).
int l_finalize(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, lua_upvalueindex(2));
  lua_call(L, 1, 0);
  return 0;
}

// _main(def, args): the actor worker's initializer.
int l_main(lua_State* L) {
  check_table(L, 1);
  if (!lua_isnoneornil(L, 2)) check_table(L, 2);
  lua_settop(L, 2);
  lua_newtable(L);  // 3: self, whose methods are def's
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, 3);
  lua_pushvalue(L, 3);
  lua_setfield(L, LUA_REGISTRYINDEX, kSelf);
  if (hook(L, 1, "__init")) {
    lua_pushvalue(L, 3);
    int n = 0;
    if (lua_istable(L, 2)) {
      lua_getfield(L, 2, "n");
      n = lua_isinteger(L, -1) ? static_cast<int>(lua_tointeger(L, -1)) : static_cast<int>(lua_rawlen(L, 2));
      lua_pop(L, 1);
      if (n < 0) n = 0;
      luaL_checkstack(L, n, "too many __init arguments");
      for (int i = 1; i <= n; ++i) lua_rawgeti(L, 2, i);
    }
    lua_call(L, n + 1, 0);
  } else {
    lua_pop(L, 1);
  }
  if (hook(L, 1, "__post_create")) {
    lua_pushvalue(L, 3);
    lua_call(L, 1, 0);
  } else {
    lua_pop(L, 1);
  }
  if (hook(L, 1, "__pre_destroy")) {
    lua_pushvalue(L, 3);
    lua_pushcclosure(L, l_finalize, 2);
    lua_setfield(L, LUA_REGISTRYINDEX, runtime::kFinalizer);
  }
  return 0;
}

// _dispatch([method, ...]): one call, self[method](self, ...); with no
// method, nothing (spawn's readiness probe).
int l_dispatch(lua_State* L) {
  int n = lua_gettop(L);
  if (n == 0) return 0;
  if (lua_getfield(L, LUA_REGISTRYINDEX, kSelf) != LUA_TTABLE)
    raise_error(L, ErrorKind::InvalidState, "_dispatch runs only in an actor's worker");
  const char* method = lua_tostring(L, 1);
  if (lua_type(L, 1) != LUA_TSTRING) raise_error(L, ErrorKind::ArgumentError, "a method name must be a string");
  lua_pushvalue(L, 1);
  if (lua_gettable(L, n + 1) != LUA_TFUNCTION)
    raise_error(L, ErrorKind::ArgumentError, "the actor has no method '%s'", method);
  // [method, args..., self, fn] -> [fn, self, args...]
  lua_replace(L, 1);
  lua_rotate(L, 2, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
}

// ---- spawn and destroy ---------------------------------------------------------

const char* const kSpawnOptions[] = {"where", "start_method", "name", "restart", nullptr};

// A raw field of the options table at 3 (nil when there is none).
int opt_field(lua_State* L, const char* key) {
  if (!lua_istable(L, 3)) {
    lua_pushnil(L);
    return LUA_TNIL;
  }
  lua_pushstring(L, key);
  return lua_rawget(L, 3);
}

// spawn(def, [args], [{where=, start_method=, name=, restart=}]) -> ActorRef
int l_spawn(lua_State* L) {
  check_table(L, 1);
  if (!lua_isnoneornil(L, 2)) check_table(L, 2);
  if (!lua_isnoneornil(L, 3)) {
    check_table(L, 3);
    check_options(L, 3, kSpawnOptions);
  }
  lua_settop(L, 3);
  for (const char* h : {"__init", "__post_create", "__pre_destroy"}) {
    int t = (lua_pushstring(L, h), lua_rawget(L, 1));
    if (t != LUA_TNIL && t != LUA_TFUNCTION)
      raise_error(L, ErrorKind::ArgumentError, "bad argument #1 to 'spawn' (%s must be a function, got %s)", h,
                  type_of(L, -1));
    lua_pop(L, 1);
  }
  bool process = false;
  if (opt_field(L, "where") != LUA_TNIL) {
    const char* w = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || (std::strcmp(w, "thread") != 0 && std::strcmp(w, "process") != 0))
      raise_error(L, ErrorKind::ArgumentError, "bad argument #3 to 'spawn' (where must be 'thread' or 'process', got %s)",
                  lua_type(L, -1) == LUA_TSTRING ? w : type_of(L, -1));
    process = std::strcmp(w, "process") == 0;
  }
  process::StartMethod method = process::default_method();
  if (opt_field(L, "start_method") != LUA_TNIL) {
    const char* s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || !process::method_from_name(s, method))
      raise_error(L, ErrorKind::ArgumentError,
                  "bad argument #3 to 'spawn' (start_method must be 'fork', 'spawn' or 'forkserver', got %s)",
                  lua_type(L, -1) == LUA_TSTRING ? s : type_of(L, -1));
    if (!process) raise_error(L, ErrorKind::ArgumentError, "bad argument #3 to 'spawn' (start_method needs where='process')");
  }
  bool named = false;
  if (opt_field(L, "name") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      raise_error(L, ErrorKind::ArgumentError, "bad argument #3 to 'spawn' (name must be a string, got %s)",
                  type_of(L, -1));
    named = lua_rawlen(L, -1) > 0;
  }
  bool restart = false;
  if (opt_field(L, "restart") != LUA_TNIL) {
    if (!lua_isboolean(L, -1))
      raise_error(L, ErrorKind::ArgumentError, "bad argument #3 to 'spawn' (restart must be a boolean, got %s)",
                  type_of(L, -1));
    restart = lua_toboolean(L, -1);
  }
  // No C++ object with a destructor lives in this frame: everything that
  // may raise a Lua error runs before protect(), or inside it.
  // 4: the name; 5..7: the initializer and its arguments; 8: the dispatcher.
  lua_settop(L, 3);
  if (named)
    opt_field(L, "name");
  else
    lua_pushfstring(L, "Actor-%d", g_actors.fetch_add(1) + 1);
  lua_pushcfunction(L, l_main);
  lua_pushvalue(L, 1);
  if (lua_istable(L, 2))
    lua_pushvalue(L, 2);
  else
    lua_newtable(L);
  lua_pushcfunction(L, l_dispatch);
  pool_binding::BlobBox* box = pool_binding::blob_box(L, 8);
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    size_t len;
    const char* name = lua_tolstring(L, 4, &len);
    pool::Options o;
    o.workers = 1;
    o.name.assign(name, len);
    o.actor = true;
    o.restart = restart;
    if (process) {
      o.kind = pool::WorkerKind::Process;
      o.process.method = method;
    }
    // def and args first, so a TransferError names them as spawn's arguments.
    auto init = std::make_shared<Message>();
    codec::encode(L, 5, 1, *init, {"initializer", 0});
    codec::encode(L, 6, 2, *init, {"argument", 1});
    if (process)
      pool_binding::process_payloads(L, o, 5, 3);
    else
      o.runner = runtime::runner_factory(std::move(init));
    Ref<Pool> p = pool_binding::start_pool(std::move(o));
    Ref<ActorRef> ref = ActorRef::create(p->shared_part(), p->name(), process, restart);
    own(ref, p);
    Ref<future::Future> ready;
    try {
      ready = ref->call(pool_binding::function_blob(L, 8, box), Message{});
    } catch (const Error& e) {
      if (!p->broken()) throw;  // its worker's __init raised already
    }
    Outcome out;
    if (ready) {
      ready->wait(Deadline::never());
      out = ready->outcome();
      if (out.state == CompletionState::Completed) {
        push_handle(L, ref.get());
        return 1;
      }
    }
    // __init or __post_create raised (RemoteError with its error as cause),
    // or the worker could not start.
    Outcome failed = p->broken() ? p->broken_outcome() : std::move(out);
    owned_pool(*ref, true);
    p->shutdown(false, false);
    if (!failed.values.empty()) failed.failure_kind = ErrorKind::RemoteError;
    push_failure(L, failed, failed.failure_kind == ErrorKind::RemoteError ? "actor.spawn" : "actor.spawn:");
    return kRaise;
  });
}

ActorRef* check_ref(lua_State* L, int arg) { return check_object<ActorRef>(L, arg); }

// destroy(ref): the actor serves what is queued, runs __pre_destroy and
// stops; later calls raise WorkerDied. Waits for that in the process that
// spawned it (except from the actor's own method); idempotent.
int l_destroy(lua_State* L) {
  ActorRef* a = check_ref(L, 1);
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    Ref<Pool> p = owned_pool(*a, true);
    if (!p) {
      a->stop();
      return 0;
    }
    p->shutdown(false, false);
    try {
      p->shutdown(true, false);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::InvalidState) throw;  // destroyed from its own worker: it stops after this call
    }
    return 0;
  });
}

// ---- ActorRef methods ----------------------------------------------------------

// The call of method (at `m`) with the values above it; pushes its Future.
// `shown` is the argument number the caller sees for the name (the sugar
// inserts the name, so its arguments are one lower than on the stack).
int push_call(lua_State* L, ActorRef* a, int m, bool tell, int shown) {
  size_t len;
  const char* name = check_string(L, m, &len);
  if (len >= 2 && name[0] == '_' && name[1] == '_')
    arg_error(L, m, "'__' names are the actor's lifecycle hooks, not its methods");
  int n = lua_gettop(L) - m + 1;  // the method name and the arguments
  runtime::run_due_callbacks(L);
  lua_pushcfunction(L, l_dispatch);
  int fn = lua_gettop(L);
  pool_binding::BlobBox* box = pool_binding::blob_box(L, fn);
  return protect(L, [&] {
    Message args;
    codec::encode(L, m, n, args, {"argument", shown});
    Ref<future::Future> fut;
    try {
      fut = a->call(pool_binding::function_blob(L, fn, box), std::move(args));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::WorkerDied) throw;
      Ref<Pool> p = owned_pool(*a, false);
      if (!p || !p->broken()) throw;
      push_failure(L, p->broken_outcome(), "cannot call:");  // how it died
      return kRaise;
    }
    if (tell) return 0;
    push_handle(L, fut.get());
    return 1;
  });
}

// ref:call(method, ...) -> Future
int m_call(lua_State* L) { return push_call(L, sync_binding::self<ActorRef>(L), 2, false, 2); }

// ref:tell(method, ...): the same call, without its Future.
int m_tell(lua_State* L) { return push_call(L, sync_binding::self<ActorRef>(L), 2, true, 2); }

int m_is_alive(lua_State* L) {
  ActorRef* a = sync_binding::self<ActorRef>(L);
  lua_pushboolean(L, a->alive());
  return 1;
}

// ref:method(...): sugar for ref:call("method", ...) (upvalue 1: the name).
int m_sugar(lua_State* L) {
  ActorRef* a = check_ref(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 2);
  return push_call(L, a, 2, false, 1);
}

// Fields name and where; any other name not starting with "_" is the sugar.
int ref_getter(lua_State* L) {
  ActorRef* a = sync_binding::self<ActorRef>(L);
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  size_t len;
  const char* key = lua_tolstring(L, 2, &len);
  if (std::strcmp(key, "name") == 0) {
    std::string_view n = a->name_view();
    lua_pushlstring(L, n.data(), n.size());
    return 1;
  }
  if (std::strcmp(key, "where") == 0) {
    lua_pushstring(L, a->is_process() ? "process" : "thread");
    return 1;
  }
  if (len == 0 || key[0] == '_') return 0;
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, m_sugar, 1);
  return 1;
}

int ref_tostring(lua_State* L) {
  Handle* h = check_handle(L, 1, ActorRef::kTypeName);
  if (!h->obj) return sync_binding::push_state(L, "ActorRef", "released");
  auto* a = static_cast<ActorRef*>(h->obj);
  std::string_view n = a->name_view();
  const char* state = a->alive() ? "alive" : a->dead() ? "dead" : "destroyed";
  lua_pushliteral(L, "ActorRef '");
  lua_pushlstring(L, n.data(), n.size());
  lua_pushfstring(L, "' (%s, %s)", a->is_process() ? "process" : "thread", state);
  lua_concat(L, 3);
  return 1;
}

const luaL_Reg kMethods[] = {{"call", m_call}, {"tell", m_tell}, {"is_alive", m_is_alive}, {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__tostring", ref_tostring}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"spawn", l_spawn},
                               {"destroy", l_destroy},
                               {"_main", l_main},          // an actor worker's initializer
                               {"_dispatch", l_dispatch},  // what a call runs there
                               {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(ActorRef::kTypeName, kModule);
  return true;
}();

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_actor(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  sync_binding::install_class(L, ActorRef::kTypeName, kModule, kMethods, ref_getter, kMeta);
  luaL_newlib(L, kFunctions);
  return 1;
}
