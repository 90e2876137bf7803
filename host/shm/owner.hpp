// Who holds a lock, in a form every process can check: a token from the
// arena's owner table. A Lock is held by a process (Python's Lock may be
// released by another thread), an RLock by a tide thread. A token stops
// being alive when its thread ends or its process dies, which is how a
// waiter detects an abandoned lock.
#pragma once
#include <sys/types.h>

#include <cstdint>

namespace tide::shm {

// getpid() without a system call (refreshed in fork children).
pid_t current_pid() noexcept;

std::uint64_t process_token();  // this process's, claimed on first use
std::uint64_t thread_token();   // the running tide thread's, claimed on first use
// Called when a tide thread's work ends on its OS thread (Thread::run).
void end_thread_token() noexcept;
bool token_alive(std::uint64_t token) noexcept;

// Whether process `pid` is running: false once it died, even while it is a
// zombie nobody has reaped yet (its locks are as good as released). No
// allocation.
bool pid_alive(pid_t pid) noexcept;

}  // namespace tide::shm
