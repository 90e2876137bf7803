// Private to host/pipe: what one process knows about a connection. The
// descriptor is a per-process resource (closing it in the parent must not
// close it in the child, exactly as in Python), so open/closed state is
// kept here, keyed by the connection's arena offset and shared by every
// proxy of that connection in this process.
//
// close() versus a concurrent user: every operation holds a "use" while it
// touches the descriptor; the descriptor is really closed when the last
// use ends, so a thread blocked in recv never has its fd number reused
// under it. (That recv keeps waiting until data, EOF, its timeout or a
// cancel.) The descriptor is also closed when the last proxy of the
// connection in this process goes away (the __gc of the last handle).
#pragma once
#include <atomic>
#include <cstdint>

#include "pipe/conn_data.hpp"

namespace tide::pipe {

struct Local {
  static constexpr std::uint64_t kClosed = std::uint64_t(1) << 63;
  std::atomic<std::uint64_t> state{0};  // kClosed | number of uses
  std::atomic<bool> fd_closed{false};
  int fd = -1;
  // false: the fd in this process is not this connection's (until one is
  // adopted: adopt_local)
  std::atomic<bool> available{true};
  int proxies = 0;        // guarded by the table's mutex
  // Counted at each close of a receiving end's descriptor, so its senders
  // ask the socket whether the reader is gone (lane.hpp); null without a lane.
  std::atomic<std::uint32_t>* reader_closes = nullptr;

  void close_fd() noexcept;
  void close() noexcept;
  bool closed() const noexcept { return (state.load(std::memory_order_acquire) & kClosed) != 0; }
};

// Finds or makes this process's entry for `data` and counts one proxy.
// `fresh`: this process just created the descriptor (replaces any stale
// entry). Otherwise a missing entry is checked against the descriptor
// this process has at that number (fstat dev/ino).
Local* attach_local(const ConnData& data, shm::Offset off, bool fresh);
// Counts one proxy less; at zero the descriptor is closed and the entry dropped.
void detach_local(shm::Offset off, Local* l) noexcept;

// Descriptor passing: the descriptor of the connection at `off` if this
// process has it open, else -1; and taking one received from another
// process as this process's (true), when it is the connection's file
// (dev/ino) and this process has none yet (otherwise `fd` is closed).
int local_descriptor(shm::Offset off) noexcept;
bool adopt_local(const ConnData& data, Local* l, int fd) noexcept;

// Holds one use of the descriptor (see above). Throws InvalidState when the
// connection is closed in this process or its descriptor is not here.
class FdUse {
 public:
  explicit FdUse(Local* l);
  ~FdUse();
  FdUse(const FdUse&) = delete;
  FdUse& operator=(const FdUse&) = delete;
  int fd() const noexcept { return l_->fd; }

 private:
  Local* l_;
};

}  // namespace tide::pipe
