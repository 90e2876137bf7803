// The AddressSanitizer runtime's own locks, taken around fork() with the
// fork-safe mutexes (fork_safe.cpp); asan_fork.cpp says why. No-ops in
// builds without AddressSanitizer.
#pragma once

namespace tide::fork_safe {

#if defined(__SANITIZE_ADDRESS__)
void find_sanitizer_locks() noexcept;  // once, before the first fork
bool sanitizer_locks_found() noexcept;
void lock_sanitizer() noexcept;    // last in the prepare step
void unlock_sanitizer() noexcept;  // first after the fork, in parent and child
#else
inline void find_sanitizer_locks() noexcept {}
inline void lock_sanitizer() noexcept {}
inline void unlock_sanitizer() noexcept {}
#endif

}  // namespace tide::fork_safe
