#include "runtime/signals.hpp"

#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <csignal>
#include <mutex>

#include "core/error.hpp"
#include "core/signal_names.hpp"
#include "core/wait.hpp"
#include "luabase/error.hpp"
#include "process/children.hpp"
#include "thread/os_threads.hpp"

namespace tide::runtime {

void cancel_hook(lua_State* L, lua_Debug*) {
  if (!WaitContext::current().cancel_requested()) {
#if !defined(__SANITIZE_THREAD__)
    lua_sethook(L, nullptr, 0, 0);
#endif
    return;
  }
  // The hook stays installed: a pcall that swallows Cancelled gets it again
  // within the next hundred instructions.
  lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 100);
  raise_error(L, ErrorKind::Cancelled, "the thread was cancelled");
}

namespace {

void on_cancel_signal(int) {
  int saved = errno;
  WaitContext& ctx = WaitContext::current();
  auto* L = static_cast<lua_State*>(ctx.signal_target());
  if (L && ctx.cancel_requested()) lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 1);
  errno = saved;
}

}  // namespace

void interrupt_hook(lua_State* L, lua_Debug*) {
  lua_sethook(L, nullptr, 0, 0);
  install_sanitizer_cancel_check(L);  // TSan builds keep their coarse hook
  if (sigint_pending(true)) raise_error(L, ErrorKind::Interrupted, "interrupted (SIGINT)");
  run_pending_handlers(L);
}

namespace {

constexpr int kHookMask = LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT;

bool g_host_sigint = false;  // the host installed on_sigint (set once, before threads)

// Makes the state running on the main thread stop at its next instruction.
// Async-signal-safe.
void hook_main_state() noexcept {
  if (WaitContext* ctx = interruptible_context())
    if (auto* L = static_cast<lua_State*>(ctx->signal_target())) lua_sethook(L, interrupt_hook, kHookMask, 1);
}

// The C handler of every signal that has a Lua handler.
void on_lua_signal(int sig) {
  int saved = errno;
  note_signal(sig);
  if (sig == SIGCHLD) process::notify_children();  // tide's waits for children still see it
  hook_main_state();
  errno = saved;
}

// (signum) -> true, or false with the handler's error in the registry
// (luabase/error.hpp's pending slot). Run under lua_pcall so that no
// allocation here can raise through the C++ frames of a wait. A SIGINT
// whose handler was removed meanwhile is a Ctrl-C: Interrupted.
int l_run_handler(lua_State* L) {
  int sig = static_cast<int>(lua_tointeger(L, 1));
  lua_getfield(L, LUA_REGISTRYINDEX, kSignalHandlers);
  if (lua_type(L, -1) == LUA_TTABLE) lua_rawgeti(L, -1, sig);
  if (lua_type(L, -1) != LUA_TFUNCTION) {
    if (sig != SIGINT) {
      lua_pushboolean(L, 1);
      return 1;
    }
    push_error(L, ErrorKind::Interrupted, "interrupted (SIGINT)");
    stash_pending_error(L);
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushinteger(L, sig);
  lua_pushstring(L, signal_name_or_null(sig));
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    stash_pending_error(L);
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushboolean(L, 1);
  return 1;
}

// Runs the handler of one taken signal in L. Returns 1 when it ran (or
// had nothing to run), 0 when it raised (its error in the pending slot),
// -1 when it could not even start (no stack, out of memory: the signal is
// put back).
int run_one(lua_State* L, int sig) {
  if (!lua_checkstack(L, 4)) {
    repost_signal(sig);
    return -1;
  }
  WaitContext& ctx = WaitContext::current();
  lua_pushcfunction(L, l_run_handler);
  lua_pushinteger(L, sig);
  ctx.set_dispatching(true);
  int status = lua_pcall(L, 1, 1, 0);
  ctx.set_dispatching(false);
  if (status != LUA_OK) {
    lua_pop(L, 1);
    repost_signal(sig);
    return -1;
  }
  bool ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  return ok ? 1 : 0;
}

// The dispatcher core/wait runs from the main thread's waits: handlers run
// here, inside the wait, and the wait goes on when they return (Python's
// PEP 475 retry). A raising handler ends the wait with PendingLuaError,
// which the binding boundary turns back into the handler's error.
void dispatch_in_wait(void* target) {
  auto* L = static_cast<lua_State*>(target);
  while (int sig = take_signal()) {
    int r = run_one(L, sig);
    if (r < 0) throw Error(ErrorKind::OSError, "not enough memory to run a signal handler", ENOMEM);
    if (r == 0) {
      if (signals_pending()) lua_sethook(L, interrupt_hook, kHookMask, 1);  // the rest run soon
      throw PendingLuaError();
    }
  }
}

void on_sigint(int sig) {
  int saved = errno;
  if (sigint_pending(false)) {  // a second Ctrl-C before the first was seen: give up
    signal(sig, SIG_DFL);
    raise(sig);
  }
  note_sigint();
  hook_main_state();
  errno = saved;
}

void install(int sig, void (*handler)(int)) {
  struct sigaction sa = {};
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, nullptr) != 0) throw_os_error("sigaction", errno);
}

}  // namespace

void run_pending_handlers(lua_State* L) {
  if (WaitContext::current().dispatching()) return;
  while (int sig = take_signal()) {
    int r = run_one(L, sig);
    if (r < 0) raise_error(L, ErrorKind::OSError, "not enough memory to run a signal handler");
    if (r == 0) {
      if (signals_pending()) lua_sethook(L, interrupt_hook, kHookMask, 1);
      if (!take_pending_error(L)) push_error(L, ErrorKind::Interrupted, "a signal handler raised an error");
      lua_error(L);
    }
  }
}

void set_disposition(int sig, Disposition d) {
  if (d != Disposition::Lua) mark_routed_signal(sig, false);
  switch (d) {
    case Disposition::Lua:
      install(sig, on_lua_signal);
      mark_routed_signal(sig, true);
      break;
    case Disposition::Ignore: install(sig, SIG_IGN); break;
    case Disposition::Foreign:
    case Disposition::Default:
      if (sig == SIGINT && g_host_sigint)
        install(sig, on_sigint);
      else if (sig == SIGCHLD)
        process::reinstall_children_handler();
      else
        install(sig, SIG_DFL);
      break;
  }
}

Disposition current_disposition(int sig) {
  struct sigaction sa = {};
  if (sigaction(sig, nullptr, &sa) != 0) throw_os_error("sigaction", errno);
  if (process::is_children_handler(sa)) return Disposition::Default;
  if (sa.sa_flags & SA_SIGINFO) return Disposition::Foreign;
  if (sa.sa_handler == SIG_DFL || sa.sa_handler == on_sigint) return Disposition::Default;
  if (sa.sa_handler == SIG_IGN) return Disposition::Ignore;
  if (sa.sa_handler == on_lua_signal) return Disposition::Lua;
  return Disposition::Foreign;
}

void install_process_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_handler = on_cancel_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(os_threads::kCancelSignal, &sa, nullptr);
    set_signal_dispatcher(dispatch_in_wait);
  });
}

#if defined(__SANITIZE_THREAD__)
namespace {
// usleep is one of the calls at which TSan delivers the signals it deferred
// (a pending Ctrl-C), which a busy Lua loop would otherwise never make.
void sanitizer_hook(lua_State* L, lua_Debug* ar) {
  usleep(0);
  if (WaitContext::current().cancel_requested()) cancel_hook(L, ar);
}
}  // namespace
#endif

void install_sanitizer_cancel_check(lua_State* L) {
#if defined(__SANITIZE_THREAD__)
  lua_sethook(L, sanitizer_hook, LUA_MASKCOUNT, 10000);
#else
  (void)L;
#endif
}

void set_thread_state(lua_State* L) noexcept {
  WaitContext& ctx = WaitContext::current();
  ctx.set_signal_target(L);
  // A cancel whose signal came before the target was set (while the state
  // was being made) hooked nothing: hook now, or a busy loop never stops.
  // The handler runs on this thread, so after the store it sees L.
  if (L && ctx.cancel_requested()) lua_sethook(L, cancel_hook, LUA_MASKCOUNT, 1);
}

void set_main_state(lua_State* L) noexcept {
  if (L) install_sanitizer_cancel_check(L);
  WaitContext::current().set_signal_target(L);
  WaitContext::current().set_interruptible(L != nullptr);
}

void install_sigint_handler() {
  g_host_sigint = true;
  struct sigaction sa = {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
}

void check_cancel(lua_State* L) {
  if (WaitContext::current().cancel_requested())
    raise_error(L, ErrorKind::Cancelled, "the thread was cancelled");
}

}  // namespace tide::runtime
