// Private to host/pipe: a connection's data in the shared arena. Everything
// every process of the tree must agree on lives here; what is per process
// (whether this process still has the descriptor open) is in local.hpp.
//
// Locks: send_lock, recv_lock and the channel's ticket mutex (tickets.hpp)
// are never nested: a sender deposits its ticket before taking send_lock,
// a receiver redeems one after releasing recv_lock.
#pragma once
#include <atomic>
#include <cstdint>

#include "shm/shared.hpp"
#include "sync/lock_core.hpp"

namespace tide::pipe {

enum ConnFlags : std::uint32_t {
  kReadable = 1,
  kWritable = 2,
  kSocket = 4,  // sendmsg(MSG_NOSIGNAL) works; else a FIFO (see io.cpp)
};

struct ConnData {
  shm::SharedHeader header;
  // The descriptor number: the same in every process of the tree (fork
  // children inherit it; a spawned child must be given it at this number,
  // see connection.hpp). dev/ino identify the open file, so a process that
  // never inherited it can tell that its own fd with that number is
  // something else.
  std::int32_t fd = -1;
  std::uint32_t flags = 0;
  std::uint64_t dev = 0, ino = 0;
  shm::Offset channel = 0;  // tickets.hpp; 0 for a FIFO opened by path
  // The shared-memory lanes (lane.hpp) of a Pipe(): messages this end
  // receives, and sends; 0 for a FIFO and for the direction a simplex end
  // does not use. Each holds a reference.
  shm::Offset lane_in = 0, lane_out = 0;

  // One sender at a time across the process tree: a frame is written whole
  // under it, so frames of concurrent senders never interleave.
  sync::LockCore send_lock;
  // Set when a send stopped mid-frame (cancelled, or its process died):
  // the stream then holds a partial frame and no later send could be read.
  std::atomic<std::uint32_t> send_broken{0};

  // One receiver at a time; it guards the receive buffer below, which is
  // shared so that readers in different processes never split a frame.
  sync::LockCore recv_lock;
  std::atomic<std::uint32_t> broken{0};  // framing lost: recv raises TransferError
  // Receive buffer: [start, end) of `cap` bytes at `buf`. `ready` is 1
  // while the buffer holds a whole frame (or a corrupt one): poll and
  // pipe.wait read it without the lock.
  shm::Offset buf = 0;
  std::uint64_t cap = 0, start = 0, end = 0;
  std::atomic<std::uint32_t> ready{0};
  std::atomic<std::uint64_t> buffered{0};  // end - start, for poll

  ConnData() noexcept { header.type = shm::SharedType::Pipe; }
};

}  // namespace tide::pipe
