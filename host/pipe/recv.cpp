// Receiving: a Pipe()'s small messages come through its shared-memory lane
// (lane.hpp), the rest as frames read into the connection's receive buffer
// in the arena, as many bytes as the descriptor has (up to the buffer's
// room), so a stream of small messages costs one read per buffer-full, not
// one per message; the reader waits (wait_fd) only when neither holds a
// message and the descriptor has nothing.
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/spin.hpp"
#include "core/wait.hpp"
#include "pipe/conn_data.hpp"
#include "pipe/connection.hpp"
#include "pipe/io.hpp"
#include "pipe/lane.hpp"
#include "pipe/local.hpp"
#include "pipe/tickets.hpp"

namespace tide::pipe {

namespace {

// The adaptive re-read before sleeping: each re-read is a read() system call
// after kRelaxPerReread pause instructions (a few hundred nanoseconds, less
// than the call itself), and a recv makes at most t_read_spins of them, a
// per-thread budget that doubles while re-reads pay off and halves while
// they do not, between kMinReadSpins and kMaxReadSpins (about 30 us of
// re-reading, well under the ~9 us sleep->wake hop it avoids times the
// few hops of a round trip).
constexpr int kRelaxPerReread = 20;
constexpr std::uint32_t kMinReadSpins = 2;
constexpr std::uint32_t kMaxReadSpins = 32;
thread_local std::uint32_t t_read_spins = 8;

// Spinning on a lane before sleeping: a load per round, no system call;
// adaptive per thread like the re-reads (core/spin.hpp).
thread_local AdaptiveSpin t_lane_spin;
constexpr int kLaneSpinRounds = 16;  // rounds of the adaptive budget: about 3-80 us

constexpr std::uint64_t kInitialBuffer = 64 * 1024;
constexpr std::uint64_t kKeepBuffer = 1024 * 1024;  // an empty buffer bigger than this is freed

shm::Arena& arena() { return shm::Arena::get(); }
char* buffer(ConnData& c) { return arena().at<char>(c.buf); }

// Whether the buffer starts with a whole (or a corrupt) frame, without
// checksumming the payload: what poll and pipe.wait look at.
bool frame_waiting(ConnData& c) noexcept {
  std::uint64_t n = c.end - c.start;
  if (n == 0) return false;
  ParsedFrame f;
  Parse p = parse_frame(buffer(c) + c.start, n < kHeaderSize ? n : kHeaderSize, f);
  return p == Parse::Corrupt || (f.total != 0 && n >= f.total);
}

// Makes room for `need` bytes from `start` plus a useful read beyond what
// is buffered (recv lock held).
void make_room(ConnData& c, std::uint64_t need) {
  std::uint64_t have = c.end - c.start;
  std::uint64_t want = need > have ? need : have + 1;
  if (c.buf && c.cap - c.start >= want && c.cap - c.end >= 4096) return;
  if (c.buf && c.cap >= want) {  // compacting is enough
    std::memmove(buffer(c), buffer(c) + c.start, have);
  } else {
    std::uint64_t cap = c.cap ? c.cap : kInitialBuffer;
    while (cap < want) cap *= 2;
    auto* fresh = static_cast<char*>(arena().alloc(cap));
    if (c.buf) {
      std::memcpy(fresh, buffer(c) + c.start, have);
      arena().free(buffer(c));
    }
    c.buf = arena().offset_of(fresh);
    c.cap = cap;
  }
  c.start = 0;
  c.end = have;
}

// Drops the consumed frame's bytes; an emptied buffer that grew big is freed.
void consume(ConnData& c, std::uint64_t total) noexcept {
  c.start += total;
  if (c.start != c.end) return;
  c.start = c.end = 0;
  if (c.cap > kKeepBuffer) {
    arena().free(buffer(c));
    c.buf = 0;
    c.cap = 0;
  }
}

// One read of what the descriptor has into the buffer's room (made by the
// caller): the count, also added to the buffer; 0 at the end of the
// stream; -1 when nothing is there yet.
long fill(ConnData& c, int fd) {
  long n = io::read_some(fd, buffer(c) + c.end, c.cap - c.end);
  if (n > 0) c.end += static_cast<std::uint64_t>(n);
  return n;
}

// Wake frames (lane.hpp) carry no message: dropped from the front.
void drop_wakes(ConnData& c) noexcept {
  ParsedFrame f;
  while (c.end - c.start >= kHeaderSize && parse_frame(buffer(c) + c.start, kHeaderSize, f) == Parse::Frame &&
         f.kind == FrameKind::Wake)
    consume(c, kHeaderSize);
}

void publish(ConnData& c) noexcept {
  drop_wakes(c);
  c.buffered.store(c.end - c.start, std::memory_order_relaxed);
  c.ready.store(frame_waiting(c) ? 1 : 0, std::memory_order_release);
}

// EOF from a FIFO reader opened before any writer: read() returns 0 but
// POLLHUP is not set until a writer has come and gone. Then it is not the
// end: wait for a writer.
bool really_eof(int fd, std::uint32_t flags) {
  if (flags & kSocket) return true;
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

// One recv call's work on the shared receive buffer, with the recv lock held.
class Receiver {
 public:
  Receiver(ConnData& c, int fd, Local* local) noexcept
      : c_(c), fd_(fd), local_(local), lane_(c.lane_in ? &lane::at(c.lane_in) : nullptr) {}

  // Framing is lost: no later recv could find a frame boundary, so the
  // connection is marked broken and closed here.
  [[noreturn]] void fail(const char* why) {
    c_.broken.store(1, std::memory_order_relaxed);
    c_.ready.store(1, std::memory_order_release);
    local_->close();  // really closed when the caller's FdUse ends
    throw Error(ErrorKind::TransferError, std::string(why) + "; the connection is closed");
  }

  // Takes the next message into `out`: the lane's front entry, else the
  // whole frame at the front of the buffer. False while neither has one;
  // `need` is then how many bytes from the buffer's start it needs. A
  // message the caller's limits refuse is left in place (TransferError).
  bool take_frame(Received& out, std::size_t maxlen, bool bytes_only, std::uint64_t& need) {
    drop_wakes(c_);
    ParsedFrame f;
    Parse p = Parse::NeedMore;
    if (c_.end > c_.start) p = parse_frame(buffer(c_) + c_.start, c_.end - c_.start, f);
    if (p == Parse::Corrupt) fail(f.why);
    // Looked at after the buffered frame arrived (lane.hpp: order).
    if (lane_ && lane::nonempty(*lane_)) {
      lane::Entry e = lane::front(*lane_);
      check_limits(e.kind, e.length, maxlen, bytes_only);
      out.kind = e.kind;
      out.count = static_cast<int>(e.count);
      lane::take(*lane_, out.payload);
      return true;
    }
    if (f.total) check_limits(f.kind, f.length, maxlen, bytes_only);
    if (p != Parse::Frame) {
      need = f.total ? f.total : kHeaderSize;
      return false;
    }
    out.kind = f.kind;
    out.count = static_cast<int>(f.count);
    out.payload.assign(f.payload, f.length);
    consume(c_, f.total);
    if (lane_) lane::socket_frame_taken(*lane_);
    publish(c_);
    return true;
  }

  // A sender a few microseconds away is cheaper to catch by watching the
  // lane than through a sleep and a Wake frame. True if a message came.
  // No yield at the end, unlike a WaitPoint's waiter: on one CPU a yielded
  // receiver is not woken by the sender's first socket frame, so the sender
  // spent its whole slice on the socket once the lane was full (streaming
  // pinned to one CPU 2.0 -> 1.3-1.5 M/s, 4x the sendmsg calls).
  // Round trips did gain (41k -> 90k/s pinned); streaming is the pipe's
  // benchmark.
  bool watch_lane_briefly() noexcept {
    if (!lane_ || lane::socket_pending(*lane_)) return false;
    for (int i = 0; i < kLaneSpinRounds; ++i)
      if (t_lane_spin.spin([&] { return lane::nonempty(*lane_); })) return true;
    return false;
  }

  // Before sleeping on the descriptor: true if a message came meanwhile.
  bool arm_lane() noexcept {
    if (!lane_) return false;
    lane::arm(*lane_);
    return lane::nonempty(*lane_);
  }

  // Reads what the descriptor has (room made for `need` bytes). True if
  // bytes came, false if none are there yet. Closed at the end of the
  // stream, TransferError if it ended inside a frame.
  bool read_more(std::uint64_t need) {
    make_room(c_, need);
    long n = fill(c_, fd_);
    if (n > 0) return true;
    if (n == 0 && really_eof(fd_, c_.flags)) {
      // Every sender closed: what they put in the lane before is still due.
      if (lane_ && lane::nonempty(*lane_)) return true;
      publish(c_);
      if (c_.end > c_.start) fail("truncated frame: the stream ended inside a message");
      throw Error(ErrorKind::Closed, "end of stream: the other end of the pipe is closed");
    }
    return false;
  }

  // A reply a few microseconds away (a round trip with another process) is
  // cheaper to catch by re-reading than through a sleep and a wake-up. True
  // if bytes came. A read of 0 stops it: the wait then sees the end of the
  // stream (or, on a FIFO no writer has opened yet, waits for one). A read
  // can raise (Closed on a reset): not noexcept, or that would terminate.
  bool reread_briefly() {
    std::uint32_t budget = t_read_spins;
    bool got = false;
    for (std::uint32_t i = 0; i < budget && !got; ++i) {
      for (int k = 0; k < kRelaxPerReread; ++k) cpu_relax();
      long m = fill(c_, fd_);
      if (m == 0) break;
      got = m > 0;
    }
    t_read_spins = got ? std::min(kMaxReadSpins, budget * 2) : std::max(kMinReadSpins, budget / 2);
    return got;
  }

 private:
  static void check_limits(FrameKind kind, std::uint32_t length, std::size_t maxlen, bool bytes_only) {
    if (bytes_only && kind != FrameKind::Bytes)
      throw Error(ErrorKind::TransferError,
                  "the next message was sent with send(), not as bytes: receive it with recv()");
    if (length > maxlen)
      throw Error(ErrorKind::TransferError, "the next message has " + std::to_string(length) +
                                                " bytes, more than maxlen " + std::to_string(maxlen) +
                                                "; it is left in the pipe");
  }

  ConnData& c_;
  int fd_;
  Local* local_;
  lane::Lane* lane_;
};

}  // namespace

bool Connection::recv(Received& out, const Deadline& d, std::size_t maxlen, bool bytes_only) {
  FdUse use(local_);
  ConnData& c = data();
  if (!(c.flags & kReadable)) throw Error(ErrorKind::InvalidState, "this connection only sends");
  if (c.recv_lock.lock(sync::thread_owner(), d) == sync::Acquire::Timeout) return false;
  sync::LockCoreGuard held(c.recv_lock);
  Receiver r(c, use.fd(), local_);
  if (c.broken.load(std::memory_order_relaxed)) r.fail("the pipe's stream is corrupt");
  for (std::uint64_t need = 0; !r.take_frame(out, maxlen, bytes_only, need);) {
    if (!d.passed() && r.watch_lane_briefly()) continue;
    if (r.read_more(need)) continue;
    if (!c.lane_in && !d.passed() && r.reread_briefly()) continue;
    if (r.arm_lane()) continue;
    publish(c);
    short ev = wait_fd(use.fd(), POLLIN, d);
    if (ev == 0) return false;
    if (ev & POLLNVAL) throw Error(ErrorKind::InvalidState, "the connection's descriptor is not open");
  }
  held.release();
  if (out.kind == FrameKind::Ticket) {  // the message itself is in the arena
    std::uint64_t token;
    std::memcpy(&token, out.payload.data(), sizeof token);
    out.payload.clear();
    out.message = tickets::redeem(c.channel, token);
  }
  return true;
}

bool Connection::message_waiting() const noexcept {
  ConnData& c = data();
  return c.ready.load(std::memory_order_acquire) || c.broken.load(std::memory_order_relaxed) ||
         (c.lane_in && lane::nonempty(lane::at(c.lane_in)));
}

bool Connection::arm_wake() noexcept {
  if (data().lane_in) lane::arm(lane::at(data().lane_in));
  return message_waiting();
}

bool Connection::settle(int fd) {
  ConnData& c = data();
  if (!c.lane_in || message_waiting()) return true;
  if (!c.recv_lock.try_lock(sync::thread_owner())) return true;  // a receiver is at it
  sync::LockCoreGuard held(c.recv_lock);
  try {
    make_room(c, 0);
    if (fill(c, fd) == 0) return true;  // the end of the stream: recv raises Closed at once
  } catch (const Error&) {
    return true;  // recv raises it
  }
  publish(c);
  return message_waiting();
}

bool Connection::poll(const Deadline& d) {
  FdUse use(local_);
  if (!readable()) throw Error(ErrorKind::InvalidState, "this connection only sends");
  for (;;) {
    if (message_waiting() || arm_wake()) return true;
    if (wait_fd(use.fd(), POLLIN, d) == 0) return false;
    if (settle(use.fd())) return true;
  }
}

}  // namespace tide::pipe
