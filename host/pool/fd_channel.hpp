// Descriptor passing between a pool's worker process and its supervisor.
// A pipe connection works in a process that has its descriptor; a worker
// process started before a connection existed has none, so when a task
// brings it one, the worker asks its supervisor, which holds the pool
// process's descriptors, for a copy (SCM_RIGHTS). One SOCK_SEQPACKET
// socketpair per worker slot, made with the pool; the worker's end reaches
// each worker process at its own number (Process::add_descriptors).
//   request (worker):     u32 count, then count u64 connection offsets
//   reply   (supervisor): u32 count, count i32 flags (1: sent), and the
//                         sent descriptors, in order, by SCM_RIGHTS
// The supervisor sends only descriptors of pipe connections it has open
// (looked up by the connection's arena offset), never an arbitrary one.
#pragma once
#include <cstdint>
#include <vector>

#include "core/object.hpp"
#include "pipe/connection.hpp"

namespace tide::pool::fd_channel {

inline constexpr std::uint32_t kMax = 64;  // connections per request

struct Pair {
  int supervisor = -1, worker = -1;
};
// Close-on-exec. Throws OSError.
Pair make();

// Worker side: fetches and adopts descriptors for `conns` (at most kMax at
// a time); those it cannot get stay without (using them raises
// InvalidState). Never throws.
void fetch(int sock, const std::vector<Ref<pipe::Connection>>& conns) noexcept;

// Supervisor side: answers one request waiting on `sock`. False when the
// worker end is gone.
bool serve_one(int sock) noexcept;

}  // namespace tide::pool::fd_channel
