// Signals that reach Lua code: cancellation of a worker's running code and
// SIGINT in the main state. Both only call lua_sethook from the handler (the
// one asynchronously safe entry into Lua); the hook then raises Cancelled or
// Interrupted at the next instruction count.
#pragma once
#include <lua.hpp>

namespace tide::runtime {

// Installs the cancel-signal handler once per process.
void install_process_handlers();

// The state whose code a cancel signal on this OS thread should stop;
// nullptr when none runs here.
void set_thread_state(lua_State* L) noexcept;

// The main state: SIGINT interrupts its running code and its waits.
void set_main_state(lua_State* L) noexcept;
// SIGINT handler, for hosts that own the process's signals (the command).
void install_sigint_handler();

// ThreadSanitizer defers signal handlers until an intercepted call, which a
// busy Lua loop never makes: in TSan builds a coarse count hook (on worker
// and main states) checks for cancellation and gives TSan a chance to
// deliver a pending Ctrl-C. A no-op in every other build.
void install_sanitizer_cancel_check(lua_State* L);

// The hooks the signal handlers install (exposed so a coroutine resumed
// after a signal can be given the same hook).
void cancel_hook(lua_State* L, lua_Debug* ar);
void interrupt_hook(lua_State* L, lua_Debug* ar);

// Raises Cancelled in L if this thread was asked to stop (hook body; also
// used by thread.yield()).
void check_cancel(lua_State* L);

}  // namespace tide::runtime
