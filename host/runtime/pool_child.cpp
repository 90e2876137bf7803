#include "runtime/pool_child.hpp"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <string>

#include "codec/codec.hpp"
#include "core/log.hpp"
#include "future/future.hpp"
#include "luabase/error.hpp"
#include "luabase/handles.hpp"
#include "pool/serve.hpp"
#include "process/child.hpp"
#include "runtime/run_call.hpp"
#include "runtime/pool_runner.hpp"

namespace tide::runtime {

namespace {

template <class T>
T* object_at(lua_State* L, int idx) {
  Handle* h = test_handle(L, idx);
  return h && h->obj ? dynamic_cast<T*>(h->obj) : nullptr;
}

void set_state(pool::WorkerSlot& s, pool::SlotState st) {
  s.state.store(static_cast<std::uint32_t>(st), std::memory_order_release);
}

// The initializer at `fn` with the values above it as arguments.
Outcome run_initializer(lua_State* L, int fn) noexcept {
  Message args;
  try {
    codec::encode(L, fn + 1, lua_gettop(L) - fn, args, {"initargs", 1});
  } catch (const std::exception& e) {
    return pool::failure(ErrorKind::TransferError, e.what());
  }
  return call_function(L, fn, args);
}

// os.exit in a worker process ends it at once, as os._exit does in a Python
// worker: stdio flushed, no atexit handlers, no static destructors (a fork
// child of a threaded process may find their locks held by threads it does
// not have). The task it ran fails with WorkerDied naming the code.
int worker_exit(lua_State* L) {
  int code = EXIT_SUCCESS;
  if (lua_isboolean(L, 1))
    code = lua_toboolean(L, 1) ? EXIT_SUCCESS : EXIT_FAILURE;
  else
    code = static_cast<int>(luaL_optinteger(L, 1, EXIT_SUCCESS));
  std::fflush(nullptr);
  _exit(code);
}

}  // namespace

int serve_pool_worker(lua_State* L) {
  auto* shared = object_at<pool::PoolShared>(L, 1);
  lua_Integer slot = lua_tointeger(L, 2);
  auto* init_failure = object_at<future::Future>(L, 3);
  if (!shared || slot < 0 || slot >= shared->nslots() || !init_failure || !lua_isstring(L, 4))
    raise_error(L, ErrorKind::ArgumentError, "_serve is internal to tide.pool");
  // Ctrl-C at a terminal reaches the whole process group; the pool's own
  // process decides what it means (it interrupts map, and terminates the
  // pool at exit), so a worker does not die of it.
  signal(SIGINT, SIG_IGN);
  if (lua_getglobal(L, "os") == LUA_TTABLE) {
    lua_pushcfunction(L, worker_exit);
    lua_setfield(L, -2, "exit");
  }
  lua_pop(L, 1);
  pool::WorkerSlot& s = shared->slot(static_cast<int>(slot));
  // Our handles to `shared` and `init_failure` hold a reference each; if we
  // are killed, the supervisor drops them (see WorkerSlot::payload_refs).
  s.payload_refs.store(1, std::memory_order_release);
  const std::string pool_name = lua_tostring(L, 4);
  const std::string worker = process::current_name();
  if (lua_gettop(L) >= 5) {
    Outcome init = run_initializer(L, 5);
    if (init.state != CompletionState::Completed) {
      try {
        init_failure->complete(init);
      } catch (const std::exception& e) {
        log::error("pool '{}': the initializer's error cannot be reported: {}", pool_name, e.what());
      }
      s.payload_refs.store(0, std::memory_order_release);
      set_state(s, pool::SlotState::InitFailed);
      return 0;
    }
  }
  lua_settop(L, 0);
  set_state(s, pool::SlotState::Idle);
  pool::ServeEnd end;
  {
    std::unique_ptr<pool::TaskRunner> runner = borrowed_runner(L);
    end = pool::serve(*shared, static_cast<int>(slot), *runner, worker, pool_name);
    if (end == pool::ServeEnd::Stopped && !(shared->flags() & (pool::kTerminate | pool::kBroken))) runner->finish();
  }
  s.payload_refs.store(0, std::memory_order_release);
  set_state(s, end == pool::ServeEnd::Retired ? pool::SlotState::Retired : pool::SlotState::Stopped);
  return 0;
}

}  // namespace tide::runtime
