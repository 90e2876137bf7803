// tide._pool: the native half of tide.pool (API.md §6). ThreadPool and
// ProcessPool handles (one pool core, host/pool/thread_pool.hpp; the
// ProcessPool constructor is in process_pool.cpp) with
// submit/shutdown/close/join/terminate, and the process's default pool;
// map, imap, starmap, apply and progress bars are Lua (lua/tide/pool.lua),
// built on submit and futures.
// submit's function cache is in pool_functions.cpp.
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <mutex>

#include "codec/codec.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "runtime/done_callbacks.hpp"
#include "modules.hpp"
#include "pool/thread_pool.hpp"
#include "pool_binding.hpp"
#include "process/process.hpp"
#include "runtime/pool_child.hpp"
#include "runtime/pool_runner.hpp"
#include "thread/host_exit.hpp"
#include "runtime/state.hpp"
#include "shm/arena.hpp"
#include "shm/cycles.hpp"
#include "shm/owner.hpp"
#include "support/args.hpp"
#include "support/outcome.hpp"
#include "luabase/protect.hpp"
#include "support/userdata.hpp"
#include "sync_class.hpp"
#include "worker_fields.hpp"

namespace tide {
namespace {

using pool::FunctionBlob;
using pool::Pool;
using namespace sync_binding;

constexpr const char* kModule = "tide.pool";  // defines the handle type (with the Lua methods)
// ---- the default pool, and exit ------------------------------------------------

void at_exit(const ExitContext& ctx) noexcept { Pool::shutdown_all(ctx.interrupted); }

Ref<Pool> make_pool(pool::Options options, std::shared_ptr<const Message> init) {
  options.runner = runtime::runner_factory(std::move(init));
  return pool_binding::start_pool(std::move(options));
}

// Held while the default pool is made, which starts threads (so it cannot
// be a ForkSafe mutex: those sections must not wait for other locks). A
// fork child gets a fresh one instead; it remakes the pool anyway.
struct DefaultLock {
  std::mutex m;
  DefaultLock* inherited = nullptr;  // renew_after_fork
};
DefaultLock* g_default_lock = new DefaultLock;  // never destroyed
void fresh_default_mutex() noexcept { renew_after_fork(g_default_lock); }
AtFork g_at_fork{nullptr, nullptr, fresh_default_mutex};

Ref<Pool> default_pool() {
  static Ref<Pool>* pool = new Ref<Pool>;  // never destroyed
  static pid_t owner = 0;
  std::lock_guard lock(g_default_lock->m);
  if (!*pool || owner != shm::current_pid() || (*pool)->is_shutdown() || (*pool)->broken()) {
    pool::Options o;
    o.workers = pool_binding::cpu_count();
    o.name = "DefaultPool";
    *pool = make_pool(std::move(o), nullptr);
    owner = shm::current_pid();
  }
  return *pool;
}

// ---- module functions --------------------------------------------------------

const char* const kThreadPoolOptions[] = {"workers", "initializer", "initargs", "max_tasks_per_worker", "name",
                                          nullptr};

// ThreadPool{workers=?, initializer=?, initargs=?, max_tasks_per_worker=?, name=?}
int l_ThreadPool(lua_State* L) {
  pool_binding::open_options(L, kThreadPoolOptions);
  pool_binding::PoolSpec spec = pool_binding::read_spec(L, 4096);
  return protect(L, [&] {
    std::shared_ptr<Message> payload;
    if (spec.init) {
      payload = std::make_shared<Message>();
      codec::encode(L, spec.init, spec.ninit, *payload, {"initializer", 0});
    }
    pool::Options o;
    o.workers = static_cast<int>(spec.workers);
    o.max_tasks_per_worker = static_cast<int>(spec.max_tasks);
    o.name = spec.name;
    push_handle(L, make_pool(std::move(o), std::move(payload)).get());
    return 1;
  });
}

int l_default(lua_State* L) {
  return protect(L, [&] {
    push_handle(L, default_pool().get());
    return 1;
  });
}

// Internal, for leak checks in tests: bytes of the shared arena in use.
int l_arena_in_use(lua_State* L) {
  return protect(L, [&] {
    lua_pushinteger(L, static_cast<lua_Integer>(shm::Arena::get().bytes_in_use()));
    return 1;
  });
}

// Internal: collects now the garbage cycles this thread has put off (after
// a collection that walked a big live graph, shm/cycles.hpp).
int l_collect_cycles(lua_State* L) {
  return protect(L, [&] {
    shm::CycleCollector::flush();
    return 0;
  });
}

// _new_array(n): an empty table with room for n array items (at most 2^24:
// a hint, not a promise), for map's result lists (filling one that grows
// from nothing rehashes all the way).
int l_new_array(lua_State* L) {
  lua_Integer n = check_integer(L, 1);
  if (n < 0) arg_error(L, 1, "size must not be negative");
  lua_createtable(L, static_cast<int>(std::min(n, lua_Integer(1) << 24)), 0);
  return 1;
}

int l_stderr_isatty(lua_State* L) {
  lua_pushboolean(L, isatty(STDERR_FILENO));
  return 1;
}

// ---- methods -------------------------------------------------------------------

// The handle at argument 1 if it is a pool's (either kind), else
// ArgumentError; `procs` says which kind.
Handle* pool_handle(lua_State* L, bool* procs = nullptr) {
  auto* h = static_cast<Handle*>(luaL_testudata(L, 1, Pool::kProcessTypeName));
  if (procs) *procs = h != nullptr;
  if (!h) h = static_cast<Handle*>(luaL_testudata(L, 1, Pool::kThreadTypeName));
  return h ? h : check_handle(L, 1, Pool::kThreadTypeName);  // raises
}

// The pool at argument 1 (either kind): one compare of the handle's class
// tag (luabase/handles.hpp) in the usual case.
Pool* self_pool(lua_State* L) {
  Handle* h = handle_of_class(L, 1, [](const char* cls) {
    return cls == Pool::kThreadTypeName || cls == Pool::kProcessTypeName;
  });
  if (!h) h = pool_handle(L);  // raises
  if (!h->obj) raise_error(L, ErrorKind::InvalidState, "the pool handle was released");
  return static_cast<Pool*>(h->obj);
}

int m_submit(lua_State* L) {
  Pool* p = self_pool(L);
  check_function(L, 2);
  runtime::run_due_callbacks(L);
  int nargs = lua_gettop(L) - 2;
  pool_binding::BlobBox* box = pool_binding::blob_box(L, 2);
  return protect(L, [&] {
    std::shared_ptr<const FunctionBlob> fn = pool_binding::function_blob(L, 2, box);
    Message args;
    codec::encode(L, 3, nargs, args, {"argument", 1});
    Ref<future::Future> fut;
    try {
      fut = p->submit(std::move(fn), std::move(args));
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::BrokenPool || !p->broken()) throw;
      push_failure(L, p->broken_outcome(), "cannot submit:");  // with the cause
      return kRaise;
    }
    push_new_handle(L, fut.get());
    return 1;
  });
}

const char* const kShutdownOptions[] = {"wait", "cancel_futures", nullptr};

// The boolean field `key` of the options table at `arg` (`def` when nil).
bool bool_option(lua_State* L, int arg, const char* key, bool def) {
  int t = lua_getfield(L, arg, key);
  bool v = t == LUA_TNIL ? def : lua_toboolean(L, -1);
  if (t != LUA_TNIL && t != LUA_TBOOLEAN)
    arg_error(L, arg, lua_pushfstring(L, "field '%s' must be a boolean, got %s", key, type_of(L, -1)));
  lua_pop(L, 1);
  return v;
}

// shutdown{wait=true, cancel_futures=false}
int m_shutdown(lua_State* L) {
  Pool* p = self_pool(L);
  bool wait = true, cancel = false;
  if (!lua_isnoneornil(L, 2)) {
    check_options(L, 2, kShutdownOptions);
    wait = bool_option(L, 2, "wait", true);
    cancel = bool_option(L, 2, "cancel_futures", false);
  }
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    p->shutdown(wait, cancel);
    return 0;
  });
}

int m_close(lua_State* L) {
  Pool* p = self_pool(L);
  return protect(L, [&] {
    p->shutdown(false, false);
    return 0;
  });
}

int m_join(lua_State* L) {
  Pool* p = self_pool(L);
  Deadline d = check_timeout(L, 2);
  runtime::run_due_callbacks(L);
  return protect(L, [&] {
    lua_pushboolean(L, p->join(d));
    return 1;
  });
}

int m_terminate(lua_State* L) {
  Pool* p = self_pool(L);
  return protect(L, [&] {
    p->terminate();
    return 0;
  });
}

// __close(pool, err): shutdown with wait (Python's `with`), also when the
// block raised; but when it was left by Ctrl-C (Interrupted) or by the
// cancellation of its thread (Cancelled), waiting for the running tasks is
// not what was asked: the pool is terminated instead, as it is at exit
// after Ctrl-C. A released handle is left alone.
int m_close_scope(lua_State* L) {
  Handle* h = pool_handle(L);
  if (!h->obj) return 0;
  auto* p = static_cast<Pool*>(h->obj);
  bool interrupted = is_error(L, 2, "Interrupted");
  bool cancelled = is_error(L, 2, "Cancelled");
  return protect(L, [&] {
    if (interrupted || cancelled)
      p->terminate(!cancelled);  // a cancelled thread's waits would raise at once
    else
      p->shutdown(true, false);
    return 0;
  });
}

int pool_getter(lua_State* L) {
  Pool* p = self_pool(L);
  const char* key = lua_tostring(L, 2);
  if (!key) return 0;
  std::string_view k = key;
  if (k == "name") {
    lua_pushlstring(L, p->name().data(), p->name().size());
    return 1;
  }
  if (k == "workers") {
    lua_pushinteger(L, p->workers());
    return 1;
  }
  if (k == "start_method" && p->kind() == pool::WorkerKind::Process) {
    lua_pushstring(L, process::method_name(p->start_method()));
    return 1;
  }
  return 0;
}

int pool_tostring(lua_State* L) {
  bool procs;
  Handle* h = pool_handle(L, &procs);
  const char* what = procs ? "ProcessPool" : "ThreadPool";
  if (!h->obj) return push_state(L, what, "released");
  auto* p = static_cast<Pool*>(h->obj);
  const char* state = p->broken() ? "broken" : p->is_shutdown() ? "shut down" : "running";
  if (procs)
    lua_pushfstring(L, "%s '%s' (%d workers, %s, %s)", what, p->name().c_str(), p->workers(),
                    process::method_name(p->start_method()), state);
  else
    lua_pushfstring(L, "%s '%s' (%d workers, %s)", what, p->name().c_str(), p->workers(), state);
  return 1;
}

const luaL_Reg kMethods[] = {{"submit", m_submit},       {"shutdown", m_shutdown}, {"close", m_close},
                             {"join", m_join},           {"terminate", m_terminate}, {nullptr, nullptr}};
const luaL_Reg kMeta[] = {{"__tostring", pool_tostring}, {"__close", m_close_scope}, {nullptr, nullptr}};
const luaL_Reg kNoMethods[] = {{nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"ThreadPool", l_ThreadPool},
                               {"ProcessPool", pool_binding::l_ProcessPool},
                               {"default", l_default},
                               {"stderr_isatty", l_stderr_isatty},
                               {"_serve", runtime::serve_pool_worker},  // what worker processes run
                               {"_arena_in_use", l_arena_in_use},
                               {"_collect_cycles", l_collect_cycles},
                               {"_new_array", l_new_array},
                               {nullptr, nullptr}};

const bool kHandleTypes = [] {
  register_handle_type(Pool::kThreadTypeName, "tide.pool");
  register_handle_type(Pool::kProcessTypeName, "tide.pool");
  register_handle_type(pool::PoolShared::kTypeName, "tide._pool");
  return true;
}();

// The methods table of `type`, left on the stack.
void push_methods(lua_State* L, const char* type) {
  luaL_getmetatable(L, type);
  lua_getfield(L, -1, "__index");
  lua_getupvalue(L, -1, 2);
  lua_replace(L, -3);
  lua_pop(L, 1);
}

}  // namespace

namespace pool_binding {

int cpu_count() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<int>(n) : 1;
}

Ref<Pool> start_pool(pool::Options options) {
  // Pools stop (and reap their worker processes) before the process exit
  // hook terminates children and stops the forkserver: hooks run in reverse
  // order of registration, so the process hook is registered first.
  process::install_exit_hook();
  on_host_exit(at_exit);
  return Pool::create(std::move(options));
}

PoolSpec read_spec(lua_State* L, lua_Integer max_workers) {
  PoolSpec spec;
  spec.workers = std::min<lua_Integer>(cpu_count(), max_workers);
  if (lua_getfield(L, 1, "workers") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > max_workers)
      raise_error(L, ErrorKind::ArgumentError, "workers must be an integer from 1 to %d, got %s",
                  static_cast<int>(max_workers), describe(L, -1));
    spec.workers = lua_tointeger(L, -1);
  }
  if (lua_getfield(L, 1, "max_tasks_per_worker") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > INT32_MAX)
      raise_error(L, ErrorKind::ArgumentError, "max_tasks_per_worker must be a positive integer, got %s",
                  describe(L, -1));
    spec.max_tasks = lua_tointeger(L, -1);
  }
  if (lua_getfield(L, 1, "name") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING)
      raise_error(L, ErrorKind::ArgumentError, "name must be a string, got %s", type_of(L, -1));
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    spec.name = std::string_view(s, len);  // every byte: a name may hold zeros
  }
  if (lua_getfield(L, 1, "initializer") != LUA_TNIL) {
    if (!lua_isfunction(L, -1))
      raise_error(L, ErrorKind::ArgumentError, "initializer must be a function, got %s", type_of(L, -1));
    spec.init = lua_gettop(L);
    spec.ninit = 1 + push_args_field(L, 1, "initargs");
  }
  return spec;
}

void open_options(lua_State* L, const char* const* accepted) {
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  check_table(L, 1);
  check_options(L, 1, accepted);
  lua_settop(L, 1);
}

}  // namespace pool_binding
}  // namespace tide

extern "C" int luaopen_tide__pool(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  install_class(L, Pool::kThreadTypeName, kModule, kMethods, pool_getter, kMeta);
  install_class(L, Pool::kProcessTypeName, kModule, kMethods, pool_getter, kMeta);
  define_class(L, ClassSpec{pool::PoolShared::kTypeName, kNoMethods}, "tide._pool");
  luaL_newlib(L, kFunctions);
  // The methods tables, for tide.pool to add map, imap, apply...
  push_methods(L, Pool::kThreadTypeName);
  lua_setfield(L, -2, "methods");
  push_methods(L, Pool::kProcessTypeName);
  lua_setfield(L, -2, "process_methods");
  return 1;
}
