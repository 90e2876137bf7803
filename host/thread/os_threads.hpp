// Warm OS threads. Starting a pthread costs about 60 µs here; a tide Thread
// instead runs on an idle OS thread kept from an earlier one when there is
// one. Idle threads linger a few seconds, then exit. Threads are created with
// every signal blocked except kCancelSignal, so process signals (SIGINT)
// reach the main thread.
#pragma once
#include <csignal>
#include <functional>

namespace tide::os_threads {

// Delivered to a worker OS thread to make its running Lua code notice a
// cancellation (the handler only calls lua_sethook, which is signal-safe).
inline const int kCancelSignal = SIGURG;

// Runs `job` on a warm or new OS thread. Throws OSError if none can be made.
void launch(std::function<void()> job);

// Joins every OS thread; call when no job is running (host exit).
void shutdown() noexcept;

}  // namespace tide::os_threads
