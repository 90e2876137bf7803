// Host exit, in one place for the `tide` command, for tide.so in a stock
// interpreter and for child processes (no Lua here): modules that own
// workers (pools, child processes) register a hook that stops them; hooks
// run in reverse order of registration, then the remaining threads are
// joined (Thread::shutdown_all).
#pragma once

namespace tide {

struct ExitContext {
  // The script ended with Interrupted (Ctrl-C): stop work promptly rather
  // than finishing what was queued.
  bool interrupted = false;
};

using ExitHook = void (*)(const ExitContext&) noexcept;

// Registers `hook` once (a second registration of the same hook is ignored).
void on_host_exit(ExitHook hook);

// Runs the hooks, then joins threads. False if some thread is still running
// (the caller must then leave without closing states).
bool shutdown_host(const ExitContext& ctx);

}  // namespace tide
