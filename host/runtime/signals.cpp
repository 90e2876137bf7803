#include "runtime/signals.hpp"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <mutex>

#include "core/wait.hpp"
#include "luabase/error.hpp"
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
  if (sigint_pending(true)) raise_error(L, ErrorKind::Interrupted, "interrupted (SIGINT)");
}

namespace {

void on_sigint(int sig) {
  int saved = errno;
  if (sigint_pending(false)) {  // a second Ctrl-C before the first was seen: give up
    signal(sig, SIG_DFL);
    raise(sig);
  }
  note_sigint();
  if (WaitContext* ctx = interruptible_context())
    if (auto* L = static_cast<lua_State*>(ctx->signal_target()))
      lua_sethook(L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  errno = saved;
}

}  // namespace

void install_process_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction sa = {};
    sa.sa_handler = on_cancel_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(os_threads::kCancelSignal, &sa, nullptr);
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
