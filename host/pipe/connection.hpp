// tide.pipe connections (API.md §8): one end of a Pipe() (a socketpair,
// duplex, or a socketpair shut down to one direction each way, simplex) or
// a FIFO opened by path. Messages are frames (frame.hpp) on a non-blocking
// descriptor; every wait goes through core/wait.hpp (deadline, cancel,
// SIGINT).
//
// A connection is a shared object: its data (descriptor number, send and
// receive locks, the receive buffer, the ticket channel) lives in the
// arena, so a handle passed to a thread, captured as an upvalue, sent to a
// fork child or through a queue or another pipe works there. Whether the
// descriptor is open is per process (local.hpp): close() closes it in the
// calling process only, like Python's Connection.close after a fork.
//
// Guarantees:
// - Frames are atomic: a frame is written whole under the connection's
//   send lock, which every sender in every process of the tree takes, so
//   two threads or processes sending on one connection never interleave,
//   whatever the size (PIPE_BUF does not matter). Writers outside the tree
//   (another program writing to a FIFO) are not covered: for them only
//   frames of at most PIPE_BUF (4096) bytes written in one call are atomic.
// - Receiving is serialised the same way, with a receive buffer shared by
//   the tree: several readers of one connection each get whole messages,
//   each message exactly once.
// - A corrupt or truncated frame raises TransferError and closes the
//   connection (in this process; the stream is marked broken for all).
// - A send cancelled (or whose process died) mid-frame leaves the stream
//   unusable for sending: later sends raise InvalidState.
//
// Spawned children (tide.process "spawn"): a connection works in a process
// that has the descriptor at the same number, checked by file identity.
// descriptors_of() lists what a message's connections need; the spawner
// must dup2 each into the child at the same number before exec.
#pragma once
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/message.hpp"
#include "core/deadline.hpp"
#include "pipe/frame.hpp"
#include "shm/shared.hpp"

namespace tide::pipe {

struct ConnData;
struct Local;

// What recv got: a Bytes frame's string or a Value frame's codec bytes in
// `payload` (with `count` values), or for a Ticket the stored `message`.
struct Received {
  FrameKind kind = FrameKind::Value;
  int count = 0;
  std::string payload;
  Message message;
};

class Connection final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Connection";

  // Python's Pipe(duplex): (a, b). Simplex: a reads, b writes.
  static std::pair<Ref<Connection>, Ref<Connection>> create_pair(bool duplex);
  // A connection over a FIFO: for "r" (write=false) it is returned at once
  // and recv waits for a writer's data; for "w" it waits (until the
  // deadline: Timeout) for a reader to open the FIFO. Throws OSError.
  static Ref<Connection> open_fifo(const std::string& path, bool write, const Deadline& d);

  // Adopts one shared reference to `h`.
  explicit Connection(shm::SharedHeader* h);
  ~Connection() override;
  const char* type_name() const noexcept override { return kTypeName; }

  bool readable() const noexcept;
  bool writable() const noexcept;
  bool closed() const noexcept;  // in this process
  int fileno() const;            // InvalidState when closed
  void close() noexcept;         // in this process; idempotent

  // One frame. Raises InvalidState (closed here, not writable, an earlier
  // send broke mid-frame), Closed (the reader is gone), TransferError (too
  // big), Cancelled / Interrupted while waiting for room.
  void send_frame(FrameKind kind, std::uint32_t count, std::string_view payload);
  // A codec message: a Value frame, or a Ticket when it refers to objects.
  void send_message(const Message& m);

  // Waits for a message; false at the deadline. Closed at end of stream
  // (after everything sent before was received). TransferError for a
  // corrupt or truncated frame (the connection is then closed), or when
  // `bytes_only` and the next message was not sent as bytes, or when it is
  // longer than `maxlen` (those two leave the message in the pipe).
  bool recv(Received& out, const Deadline& d, std::size_t maxlen = kMaxPayload, bool bytes_only = false);

  // True when a recv would not block (a message, end of stream or an
  // error is waiting); false at the deadline.
  bool poll(const Deadline& d);

  // For waits on the descriptor (poll, pipe.wait): a message (or a corrupt
  // stream) is waiting, by a look at the receive buffer and the lane;
  // arming the lane's wake-up (lane.hpp) before such a wait, then looking
  // again; and, after the descriptor turned readable, reading what it has
  // to see whether that was a message or only a Wake frame (false: wait
  // again). settle is true whenever it cannot tell (another receiver holds
  // the buffer, the end of the stream, an error recv will raise).
  bool message_waiting() const noexcept;
  bool arm_wake() noexcept;
  bool settle(int fd);

  ConnData& data() const noexcept;
  Local* local() const noexcept { return local_; }

 private:
  Local* local_;
};

// pipe.wait: indexes (into `conns`) of the connections ready to recv, or
// empty at the deadline. Every connection must be readable and open.
std::vector<std::size_t> wait_ready(std::span<Connection* const> conns, const Deadline& d);

// The descriptors the connections inside `m` need in a process that is
// to receive it (for a spawner: dup2 each to the same number in the child).
std::vector<int> descriptors_of(const Message& m);

// Descriptor passing, for processes that start before the connections
// they receive exist (tide.pool's worker processes): the connections in `m`
// this process has no descriptor for; this process's descriptor of the
// connection at arena offset `off`, or -1 when it has none open (to send to
// a process lacking it); and adopting a descriptor received for `c` (true;
// false, and `fd` closed, when it is not c's open file or c has one).
std::vector<Ref<Connection>> lacking_descriptor(const Message& m);
int descriptor_at(shm::Offset off) noexcept;
bool adopt_descriptor(Connection& c, int fd) noexcept;

}  // namespace tide::pipe
