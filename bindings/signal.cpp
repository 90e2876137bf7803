// tide.signal (API.md §11): Lua handlers for process signals, getsignal,
// kill, raise, and the signal names as constants.
//
// Handlers belong to the main state (the one whose thread SIGINT
// interrupts); they are kept in its registry (runtime::kSignalHandlers) and
// run by runtime/signals.cpp at a safe point: from inside the next tide wait
// (which then goes on waiting, as Python retries after EINTR), or from a
// count hook within about a hundred instructions of busy Lua code. A
// handler's error propagates from there like any error. In a process with
// no main state (tide.so in a stock interpreter, a tide.process child) the
// first state to set a handler from the process's main thread becomes it.
#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>

#include "core/signal_names.hpp"
#include "core/wait.hpp"
#include "modules.hpp"
#include "process/children.hpp"
#include "runtime/signals.hpp"
#include "runtime/state.hpp"
#include "support/args.hpp"
#include "luabase/finalizer.hpp"
#include "luabase/protect.hpp"
#include "thread/os_threads.hpp"

namespace tide {
namespace {

using runtime::Disposition;

constexpr const char* kAdopted = "tide.signal.adopted";

// A state that made itself the main state (adopt_main) gives the role up
// when it is closed, and its handlers with it.
int adopted_gc(lua_State*) {
  for (int sig = 1; sig < 65; ++sig) {
    try {
      if (runtime::current_disposition(sig) == Disposition::Lua) runtime::set_disposition(sig, Disposition::Default);
    } catch (...) {
    }
  }
  runtime::set_main_state(nullptr);
  return 0;
}

// True when the calling thread may own signal handlers: it runs the main
// state, or it is the process's main thread and no state is the main one
// yet, in which case L's main thread becomes it.
bool adopt_main(lua_State* L) {
  WaitContext& ctx = WaitContext::current();
  if (ctx.interruptible()) return true;
  if (interruptible_context() != nullptr || gettid() != getpid()) return false;
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lua_State* main = lua_tothread(L, -1);
  lua_pop(L, 1);
  run_at_close(L, kAdopted, adopted_gc);
  runtime::set_main_state(main);
  return true;
}

void check_main(lua_State* L, const char* what) {
  if (!adopt_main(L))
    raise_error(L, ErrorKind::InvalidState, "%s only works in the main thread of the main state", what);
}

// A signal number that can have a handler.
int check_handled_signal(lua_State* L, int arg) {
  int sig = check_signal(L, arg);
  if (sig < 1 || sig > 64) arg_error(L, arg, "signal number out of range");
  if (sig == os_threads::kCancelSignal) arg_error(L, arg, "SIGURG is used by tide to cancel threads");
  return sig;
}

void push_handlers(lua_State* L) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, runtime::kSignalHandlers) != LUA_TTABLE) {
    lua_pop(L, 1);
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, runtime::kSignalHandlers);
  }
}

// Pushes what getsignal returns: the Lua handler, "default", "ignore", or
// nil for a handler tide did not install (Python's None).
void push_disposition(lua_State* L, int sig) {
  push_handlers(L);
  lua_rawgeti(L, -1, sig);
  lua_remove(L, -2);
  if (lua_type(L, -1) == LUA_TFUNCTION) return;
  lua_pop(L, 1);
  Disposition d = Disposition::Default;
  protect(L, [&] {
    d = runtime::current_disposition(sig);
    return 0;
  });
  switch (d) {
    case Disposition::Default: lua_pushliteral(L, "default"); break;
    case Disposition::Ignore: lua_pushliteral(L, "ignore"); break;
    default: lua_pushnil(L); break;  // a foreign handler (or ours for another state)
  }
}

// handlers[sig] = the function at idx (nil when idx is 0 or not a function).
void set_handler(lua_State* L, int sig, int idx) {
  push_handlers(L);
  if (idx != 0 && lua_type(L, idx) == LUA_TFUNCTION)
    lua_pushvalue(L, idx);
  else
    lua_pushnil(L);
  lua_rawseti(L, -2, sig);
  lua_pop(L, 1);
}

// set_disposition's errno, 0 on success.
int try_set_disposition(int sig, Disposition d) noexcept {
  try {
    runtime::set_disposition(sig, d);
    return 0;
  } catch (const Error& e) {
    return e.err_no() ? e.err_no() : EINVAL;
  } catch (...) {
    return ENOMEM;
  }
}

bool is_fault_signal(int sig) { return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL; }

int l_signal(lua_State* L) {
  int sig = check_handled_signal(L, 1);
  Disposition d;
  if (lua_type(L, 2) == LUA_TFUNCTION) {
    d = Disposition::Lua;
    if (is_fault_signal(sig))
      arg_error(L, 1, lua_pushfstring(L, "a Lua handler cannot return from %s (the fault would repeat)",
                                      signal_name_or_null(sig)));
  } else {
    size_t len = 0;
    const char* s = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : nullptr;
    if (s && std::string_view(s, len) == "default")
      d = Disposition::Default;
    else if (s && std::string_view(s, len) == "ignore")
      d = Disposition::Ignore;
    else
      arg_error(L, 2, lua_pushfstring(L, "handler must be a function, 'default' or 'ignore', got %s",
                                      s ? lua_pushfstring(L, "'%s'", s) : luaL_typename(L, 2)));
  }
  lua_settop(L, 2);
  check_main(L, "signal.signal");
  push_disposition(L, sig);  // 3: the previous handler, returned
  // The handler is in place before the OS routes the signal to it.
  set_handler(L, sig, d == Disposition::Lua ? 2 : 0);
  if (int err = try_set_disposition(sig, d)) {
    set_handler(L, sig, 3);  // refused (SIGKILL, SIGSTOP): nothing changed
    return protect(L, [&]() -> int { throw_os_error("sigaction", err); });
  }
  return 1;
}

int l_getsignal(lua_State* L) {
  int sig = check_handled_signal(L, 1);
  check_main(L, "signal.getsignal");
  push_disposition(L, sig);
  return 1;
}

// pid_t must fit an int: a wrapped 4294967295 would be kill(-1, ...).
int l_kill(lua_State* L) {
  lua_Integer pid = check_integer(L, 1);
  if (pid < INT32_MIN || pid > INT32_MAX) arg_error(L, 1, "value out of range");
  int sig = check_signal(L, 2);
  return protect(L, [&] {
    if (kill(static_cast<pid_t>(pid), sig) != 0) throw_os_error("kill", errno);
    return 0;
  });
}

// On the main thread the handler runs before raise returns (Python's
// raise_signal); elsewhere the signal goes to the process, whose main
// thread runs it at its next safe point.
int l_raise(lua_State* L) {
  int sig = check_signal(L, 1);
  bool main = adopt_main(L);
  int rc = main ? raise(sig) : kill(getpid(), sig);
  if (rc != 0) {
    int err = errno;
    return protect(L, [&]() -> int { throw_os_error("raise", err); });
  }
  if (main) {
    if (sigint_pending(true)) raise_error(L, ErrorKind::Interrupted, "interrupted (SIGINT)");
    runtime::run_pending_handlers(L);
  }
  return 0;
}

int l_name(lua_State* L) {
  int sig = check_signal(L, 1);
  const char* name = signal_name_or_null(sig);
  if (!name) return 0;
  lua_pushstring(L, name);
  return 1;
}

int l_number(lua_State* L) {
  lua_pushinteger(L, check_signal(L, 1));
  return 1;
}

const luaL_Reg kFunctions[] = {{"signal", l_signal}, {"getsignal", l_getsignal}, {"kill", l_kill},
                               {"raise", l_raise},   {"name", l_name},           {"number", l_number},
                               {nullptr, nullptr}};

}  // namespace
}  // namespace tide

extern "C" int luaopen_tide_signal(lua_State* L) {
  using namespace tide;
  runtime::install(L);
  process::watch_children();  // tide's SIGCHLD handler first: a Lua one then chains nothing
  luaL_newlib(L, kFunctions);
  for (const SignalEntry* s = kSignalNames; s->name; ++s) {
    lua_pushinteger(L, s->number);
    lua_setfield(L, -2, s->name);
  }
  lua_pushinteger(L, SIGRTMIN);
  lua_setfield(L, -2, "SIGRTMIN");
  lua_pushinteger(L, SIGRTMAX);
  lua_setfield(L, -2, "SIGRTMAX");
  lua_pushliteral(L, "default");
  lua_setfield(L, -2, "SIG_DFL");
  lua_pushliteral(L, "ignore");
  lua_setfield(L, -2, "SIG_IGN");
  return 1;
}
