// tide.pool.ProcessPool (API.md §6; host/pool/thread_pool.hpp): the pool
// core with worker processes. The constructor reads the options, makes the
// pool's shared part, and encodes what each worker process runs: the
// runtime's serve (tide._pool._serve, which crosses by name) with the
// shared part, its slot, the future an initializer error completes, the
// pool's name, the initializer and its arguments.
#include <cmath>
#include <string>

#include "codec/codec.hpp"
#include "luabase/protect.hpp"
#include "pool_binding.hpp"
#include "process/launch.hpp"
#include "process/process.hpp"
#include "runtime/pool_child.hpp"
#include "shm/shared.hpp"
#include "support/args.hpp"
#include "support/userdata.hpp"

namespace tide::pool_binding {

namespace {

const char* const kProcessPoolOptions[] = {"workers",     "start_method", "initializer", "initargs",
                                           "max_tasks_per_worker", "name", "retries", "task_timeout",
                                           nullptr};

process::StartMethod read_method(lua_State* L) {
  process::StartMethod m = process::default_method();
  if (lua_getfield(L, 1, "start_method") != LUA_TNIL) {
    const char* s = lua_tostring(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING || !process::method_from_name(s, m))
      raise_error(L, ErrorKind::ArgumentError, "start_method must be 'fork', 'spawn' or 'forkserver', got %s",
                  lua_type(L, -1) == LUA_TSTRING ? s : type_of(L, -1));
  }
  lua_pop(L, 1);
  return m;
}

int read_retries(lua_State* L) {
  lua_Integer n = 0;
  if (lua_getfield(L, 1, "retries") != LUA_TNIL) {
    if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 0 || lua_tointeger(L, -1) > 1000)
      raise_error(L, ErrorKind::ArgumentError, "retries must be an integer from 0 to 1000, got %s",
                  describe(L, -1));
    n = lua_tointeger(L, -1);
  }
  lua_settop(L, 1);
  return static_cast<int>(n);
}

double read_task_timeout(lua_State* L) {
  double t = 0;
  if (lua_getfield(L, 1, "task_timeout") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TNUMBER || !(lua_tonumber(L, -1) > 0) || !std::isfinite(lua_tonumber(L, -1)))
      raise_error(L, ErrorKind::ArgumentError, "task_timeout must be a positive number of seconds, got %s",
                  describe(L, -1));
    t = lua_tonumber(L, -1);
  }
  lua_settop(L, 1);
  return t;
}

}  // namespace

void process_payloads(lua_State* L, pool::Options& o, int init, int ninit) {
  // Fails here, not in the first worker's start: spawn and forkserver run
  // the tide command, which a stock interpreter may not find.
  if (o.process.method != process::StartMethod::Fork) process::tide_command();
  if (o.name.empty()) o.name = pool::default_name(pool::WorkerKind::Process);
  o.process.shared = pool::PoolShared::create(o.workers, o.max_tasks_per_worker);
  o.process.init_failure = future::Future::create();
  // serve's fixed arguments, then (per slot) the call: serve, shared,
  // slot, init_failure, name, initializer and its arguments.
  int base = lua_gettop(L);
  push_handle(L, o.process.shared.get());
  push_handle(L, o.process.init_failure.get());
  lua_checkstack(L, ninit + 8);
  for (int slot = 0; slot < o.workers; ++slot) {
    int first = lua_gettop(L) + 1;
    lua_pushcfunction(L, runtime::serve_pool_worker);
    lua_pushvalue(L, base + 1);
    lua_pushinteger(L, slot);
    lua_pushvalue(L, base + 2);
    lua_pushstring(L, o.name.c_str());
    for (int i = 0; i < ninit; ++i) lua_pushvalue(L, init + i);
    Message m;
    codec::encode(L, first, lua_gettop(L) - first + 1, m, {"initializer", 0});
    for (const Ref<Object>& obj : m.objects)  // what a worker process could not receive
      if (!dynamic_cast<shm::SharedObject*>(obj.get()))
        throw Error(ErrorKind::TransferError,
                    std::string("initializer: a ") + obj->type_name() + " cannot be shared between processes");
    o.process.payloads.push_back(std::move(m));
    lua_settop(L, first - 1);
  }
  lua_settop(L, base);
}

int l_ProcessPool(lua_State* L) {
  open_options(L, kProcessPoolOptions);
  pool::Options o;
  o.kind = pool::WorkerKind::Process;
  o.process.method = read_method(L);
  o.process.retries = read_retries(L);
  o.process.task_timeout = read_task_timeout(L);
  // Each worker is a process with its own Lua state: 1024 of them already
  // take a gigabyte or two.
  PoolSpec spec = read_spec(L, 1024);
  o.workers = static_cast<int>(spec.workers);
  o.max_tasks_per_worker = static_cast<int>(spec.max_tasks);
  o.name = spec.name;
  return protect(L, [&] {
    process_payloads(L, o, spec.init, spec.ninit);
    push_handle(L, start_pool(std::move(o)).get());
    return 1;
  });
}

}  // namespace tide::pool_binding
