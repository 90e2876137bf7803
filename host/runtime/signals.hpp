// Signals that reach Lua code: cancellation of a worker's running code,
// SIGINT in the main state, and the signals a script handles with
// tide.signal. Every C handler only records the signal (core/wait.hpp:
// note_sigint, note_signal), which wakes the main thread's wait, and calls
// lua_sethook (the one asynchronously safe entry into Lua); the hook then
// raises Cancelled or Interrupted, or runs the Lua handlers, at the next
// instruction count. A wait runs the Lua handlers from its own check (the
// dispatcher installed here), so a handler runs at the next tide wait, or
// within about a hundred instructions of busy Lua code, and never inside
// the C handler.
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

// ---- tide.signal -------------------------------------------------------

// The main state's registry table [signum] = Lua handler function.
inline constexpr const char* kSignalHandlers = "tide.signal.handlers";

enum class Disposition { Default, Ignore, Lua, Foreign };

// Sets what the OS does on `sig`: Lua (the C handler that queues it for the
// Lua handler in kSignalHandlers), Ignore, or Default, which restores
// tide's own handler where the host has one (SIGINT raising Interrupted in
// the tide command; SIGCHLD's child watcher) and SIG_DFL elsewhere.
// Throws OSError (EINVAL for SIGKILL and SIGSTOP).
void set_disposition(int sig, Disposition d);
// What the OS does on `sig` now, with tide's own handlers as Default.
Disposition current_disposition(int sig);

// Runs the Lua handlers of the pending signals in L now, in signal number
// order (signal.raise uses it; the hook is the other caller). Raises the
// first handler's error, leaving later signals pending. Does nothing
// inside a handler (they run when it returns).
void run_pending_handlers(lua_State* L);

// Raises Cancelled in L if this thread was asked to stop (hook body; also
// used by thread.yield()).
void check_cancel(lua_State* L);

}  // namespace tide::runtime
