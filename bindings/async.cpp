// tide._async: the native half of tide.async (the loop itself is Lua,
// lua/tide/async.lua). It gives the loop:
//   Waiter()               its one blocking wait (host/async/waiter.hpp):
//     w:watch(obj, [room]) -> token   a Future, Queue (items, or room), Thread
//     w:unwatch(token)
//     w:wait(timeout, fds, nfds, fired, revents) -> nfired, nready | -1 when
//         the OS thread was cancelled (see hold_cancel)
//         fds = {fd1, events1, fd2, events2, ...} (POLLIN / POLLOUT), nfds
//         pairs; fired[1..nfired] receives the tokens that fired, revents[i]
//         the poll revents of pair i (0 when not ready)
//     w:close()            unwatches everything (also __gc)
//   resume(co, stopping, ...) -> 0, first yielded value | 1, {n=, results...} | 2, error
//         resumes a task (runtime/coroutine.hpp: signal target and hooks);
//         `stopping` marks the state while a cancelled task runs, so pcall
//         cannot swallow its Cancelled (runtime/async_task.hpp)
//   clear_stopping()       takes that mark off from inside the running task
//   classify(x) -> kind, id  "future" | "queue" | "thread" | "process" |
//         "connection" (nil for anything else) and a light userdata naming
//         the object (two handles of one object give the same id)
//   exit_fd(process) -> fd  readable when the child may have ended (-1: not running)
//   pidfd_open(pid) -> fd  readable when that process exits (any process)
//   run_callbacks()        runs due tide.future done callbacks (a loop turn)
//   hold_cancel() -> bool  true when the OS thread was cancelled; then takes
//         the cancel hook off this state, so the loop can unwind its tasks
//   POLLIN, POLLOUT
//   SUSPEND                what every await yields (runtime/async_task.hpp)
#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include <cmath>
#include <vector>

#include "async/waiter.hpp"
#include "async_subprocess.hpp"
#include "core/wait.hpp"
#include "future/future.hpp"
#include "luabase/protect.hpp"
#include "modules.hpp"
#include "pipe/connection.hpp"
#include "process/process.hpp"
#include "queue/queue.hpp"
#include "runtime/async_task.hpp"
#include "runtime/coroutine.hpp"
#include "runtime/done_callbacks.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "support/userdata.hpp"
#include "thread/thread.hpp"

namespace tide {
namespace {

constexpr const char* kWaiterType = "tide.async.Waiter";

// The userdata holds a pointer (created closed, filled after: liolib's
// rule); the vectors are reused between waits, so a wait allocates nothing
// in steady state and no C++ object with a destructor lives in a function
// frame that may raise.
struct WaiterBox {
  async::Waiter waiter;
  std::vector<async::Waiter::Token> fired;
  std::vector<pollfd> fds;
};

struct WaiterUd {
  WaiterBox* box;
};

WaiterBox* check_waiter(lua_State* L) {
  auto* ud = static_cast<WaiterUd*>(luaL_testudata(L, 1, kWaiterType));
  if (!ud) type_error(L, 1, kWaiterType);
  if (!ud->box) raise_error(L, ErrorKind::InvalidState, "the event loop's waiter is closed");
  return ud->box;
}

int l_Waiter(lua_State* L) {
  auto* ud = static_cast<WaiterUd*>(lua_newuserdatauv(L, sizeof(WaiterUd), 0));
  ud->box = nullptr;
  luaL_setmetatable(L, kWaiterType);
  return protect(L, [&] {
    ud->box = new WaiterBox;
    return 1;
  });
}

int waiter_close(lua_State* L) {
  auto* ud = static_cast<WaiterUd*>(luaL_testudata(L, 1, kWaiterType));
  if (ud && ud->box) {
    delete ud->box;
    ud->box = nullptr;
  }
  return 0;
}

enum class Kind { None, Future, Queue, Thread, Process, Connection };

Kind kind_of(lua_State* L, int idx, Object** obj) {
  Handle* h = test_handle(L, idx);
  if (!h || !h->obj) return Kind::None;
  *obj = h->obj;
  if (luaL_testudata(L, idx, future::Future::kTypeName)) return Kind::Future;
  for (const char* name : queue::Queue::kTypeNames)
    if (luaL_testudata(L, idx, name)) return Kind::Queue;
  if (luaL_testudata(L, idx, Thread::kTypeName)) return Kind::Thread;
  if (luaL_testudata(L, idx, process::Process::kTypeName)) return Kind::Process;
  if (luaL_testudata(L, idx, pipe::Connection::kTypeName)) return Kind::Connection;
  return Kind::None;
}

int m_watch(lua_State* L) {
  WaiterBox* box = check_waiter(L);
  Object* obj = nullptr;
  Kind k = kind_of(L, 2, &obj);
  bool room = lua_toboolean(L, 3);
  if (k != Kind::Future && k != Kind::Queue && k != Kind::Thread)
    type_error(L, 2, "a Future, a Queue or a Thread");
  return protect(L, [&] {
    async::Waiter::Token t = 0;
    switch (k) {
      case Kind::Future: t = box->waiter.watch_future(static_cast<future::Future*>(obj)); break;
      case Kind::Queue: {
        auto* q = static_cast<queue::Queue*>(obj);
        t = room ? box->waiter.watch_queue_room(q) : box->waiter.watch_queue_items(q);
        break;
      }
      default: t = box->waiter.watch_thread(static_cast<Thread*>(obj)); break;
    }
    lua_pushinteger(L, static_cast<lua_Integer>(t));
    return 1;
  });
}

int m_unwatch(lua_State* L) {
  WaiterBox* box = check_waiter(L);
  box->waiter.unwatch(static_cast<async::Waiter::Token>(check_integer(L, 2)));
  return 0;
}

bool hold_cancel(lua_State* L);

int m_wait(lua_State* L) {
  WaiterBox* box = check_waiter(L);
  Deadline d = check_timeout(L, 2);
  lua_Integer nfds = 0;
  if (!lua_isnoneornil(L, 3)) {
    check_table(L, 3);
    nfds = check_integer(L, 4);
  }
  check_table(L, 5);
  check_table(L, 6);
  // The descriptors are read before any C++ work (reads cannot raise but
  // for memory); the vector is the box's, reused.
  int ready = 0;
  bool thread_cancelled = false;
  protect(L, [&] {
    box->fds.clear();
    box->fired.clear();
    for (lua_Integer i = 0; i < nfds; ++i) {
      lua_rawgeti(L, 3, 2 * i + 1);
      lua_rawgeti(L, 3, 2 * i + 2);
      int fd = static_cast<int>(lua_tointeger(L, -2));
      auto ev = static_cast<short>(lua_tointeger(L, -1));
      lua_pop(L, 2);
      box->fds.push_back(pollfd{fd, ev, 0});
    }
    try {
      ready = box->waiter.wait(d, box->fds, box->fired);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::Cancelled || !WaitContext::current().cancel_requested()) throw;
      thread_cancelled = true;
    }
    return 0;
  });
  if (thread_cancelled || hold_cancel(L)) {
    lua_pushinteger(L, -1);
    return 1;
  }
  lua_Integer n = 0;
  for (async::Waiter::Token t : box->fired) {
    lua_pushinteger(L, static_cast<lua_Integer>(t));
    lua_rawseti(L, 5, ++n);
  }
  for (lua_Integer i = 0; i < nfds; ++i) {
    lua_pushinteger(L, box->fds[static_cast<std::size_t>(i)].revents);
    lua_rawseti(L, 6, i + 1);
  }
  lua_pushinteger(L, n);
  lua_pushinteger(L, ready);
  return 2;
}

// The OS thread running the loop was cancelled: the loop unwinds its tasks
// itself (cancelling them, letting them run to their end), so the cancel
// hook that would raise Cancelled in the loop's own code every hundred
// instructions is taken off first. True when cancelled.
bool hold_cancel(lua_State* L) {
  if (!WaitContext::current().cancel_requested()) return false;
  if (lua_gethook(L) == runtime::cancel_hook) lua_sethook(L, nullptr, 0, 0);
  return true;
}

int l_hold_cancel(lua_State* L) {
  lua_pushboolean(L, hold_cancel(L));
  return 1;
}

int m_watching(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(check_waiter(L)->waiter.watching()));
  return 1;
}

// resume(co, stopping, ...): see the file comment. Returns two values at
// most, so the loop's hot path (a task yielding SUSPEND) handles no varargs.
int l_resume(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  if (!co) type_error(L, 1, "coroutine");
  bool stopping = lua_toboolean(L, 2);
  int narg = lua_gettop(L) - 2;
  if (!lua_checkstack(co, narg)) raise_error(L, ErrorKind::OSError, "too many arguments to resume");
  lua_xmove(L, co, narg);
  if (stopping) runtime::set_task_stopping(L, true);
  int nres = 0;
  int status = runtime::resume_as_target(L, co, narg, &nres, false);
  if (stopping) runtime::set_task_stopping(L, false);
  lua_settop(L, 1);  // keeps the coroutine referenced while its values move
  if (status == LUA_YIELD) {
    lua_pushinteger(L, 0);
    // Only the yielded values are ours to take: below them may lie the
    // frame of a C function that yielded (coroutine.resume passing an await on).
    if (nres > 0) {
      lua_pop(co, nres - 1);  // keeps the first yielded value
      lua_xmove(co, L, 1);
    }
    return lua_gettop(L) - 1;
  }
  if (status == LUA_OK) {  // the results, packed: {n = nres, ...}
    lua_pushinteger(L, 1);
    lua_createtable(L, nres, 1);
    if (!lua_checkstack(L, nres + 1)) raise_error(L, ErrorKind::OSError, "too many results to resume");
    lua_xmove(co, L, nres);
    for (int i = nres; i >= 1; --i) lua_rawseti(L, -1 - i, i);
    lua_pushinteger(L, nres);
    lua_setfield(L, -2, "n");
    return 2;
  }
  lua_pushinteger(L, 2);
  lua_xmove(co, L, 1);
  return 2;
}

// clear_stopping(): takes the "stopping" mark off (a timeout scope that
// turned its own cancellation into Timeout). Only resume sets the mark, so
// no call from Lua can make pcall re-raise everything.
int l_clear_stopping(lua_State* L) {
  runtime::set_task_stopping(L, false);
  return 0;
}

int l_classify(lua_State* L) {
  Object* obj = nullptr;
  static const char* const kNames[] = {nullptr, "future", "queue", "thread", "process", "connection"};
  Kind k = kind_of(L, 1, &obj);
  if (k == Kind::None) return 0;
  lua_pushstring(L, kNames[static_cast<int>(k)]);
  // Shared objects are named by their arena data: every proxy of one
  // object (a handle decoded twice) gets the same name.
  void* id = obj;
  if (auto* so = dynamic_cast<shm::SharedObject*>(obj)) id = so->shared_header();
  lua_pushlightuserdata(L, id);
  return 2;
}

int l_exit_fd(lua_State* L) {
  auto* p = check_object<process::Process>(L, 1);
  lua_pushinteger(L, p->exit_fd());
  return 1;
}

// pidfd_open(pid) -> a descriptor that becomes readable when the process
// exits (close-on-exec; close it with tide.os.close). OSError (ESRCH when
// there is no such process).
int l_pidfd_open(lua_State* L) {
  lua_Integer pid = check_integer(L, 1);
  if (pid <= 0 || pid > INT32_MAX) arg_error(L, 1, "pid must be a positive process id");
  return protect(L, [&] {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
    if (fd < 0) throw_os_error("pidfd_open", errno);
    lua_pushinteger(L, fd);
    return 1;
  });
}

int l_run_callbacks(lua_State* L) {
  runtime::run_due_callbacks(L);
  return 0;
}

const luaL_Reg kWaiterMethods[] = {{"watch", m_watch}, {"unwatch", m_unwatch}, {"wait", m_wait},
                                   {"watching", m_watching}, {"close", waiter_close}, {nullptr, nullptr}};

const luaL_Reg kFunctions[] = {{"Waiter", l_Waiter},         {"resume", l_resume},
                               {"clear_stopping", l_clear_stopping}, {"classify", l_classify},
                               {"exit_fd", l_exit_fd},       {"run_callbacks", l_run_callbacks},
                               {"hold_cancel", l_hold_cancel}, {"pidfd_open", l_pidfd_open},
                               {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide__async(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  if (luaL_newmetatable(L, kWaiterType)) {
    lua_newtable(L);
    luaL_setfuncs(L, kWaiterMethods, 0);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, waiter_close);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
  luaL_newlib(L, kFunctions);
  sub::add_async_subprocess_functions(L);
  lua_pushinteger(L, POLLIN);
  lua_setfield(L, -2, "POLLIN");
  lua_pushinteger(L, POLLOUT);
  lua_setfield(L, -2, "POLLOUT");
  lua_pushlightuserdata(L, runtime::suspend_marker());
  lua_setfield(L, -2, "SUSPEND");
  return 1;
}
