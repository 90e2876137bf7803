// Receiving: frames are read into the connection's receive buffer in the
// arena, as many bytes as the descriptor has (up to the buffer's room), so
// a stream of small messages costs one read per buffer-full, not one per
// message; the reader waits (wait_fd) only when the buffer holds no whole
// frame and the descriptor has nothing.
#include <poll.h>

#include <algorithm>
#include <cstring>

#include "core/error.hpp"
#include "core/spin.hpp"
#include "core/wait.hpp"
#include "pipe/conn_data.hpp"
#include "pipe/connection.hpp"
#include "pipe/io.hpp"
#include "pipe/local.hpp"
#include "pipe/tickets.hpp"

namespace tide::pipe {

namespace {

constexpr std::uint32_t kMaxReadSpins = 32;
thread_local std::uint32_t t_read_spins = 8;

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

void publish(ConnData& c) noexcept {
  c.buffered.store(c.end - c.start, std::memory_order_relaxed);
  c.ready.store(frame_waiting(c) ? 1 : 0, std::memory_order_release);
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

// EOF from a FIFO reader opened before any writer: read() returns 0 but
// POLLHUP is not set until a writer has come and gone. Then it is not the
// end: wait for a writer.
bool really_eof(int fd, std::uint32_t flags) {
  if (flags & kSocket) return true;
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & POLLHUP) && !(p.revents & POLLIN);
}

}  // namespace

bool Connection::recv(Received& out, const Deadline& d, std::size_t maxlen, bool bytes_only) {
  FdUse use(local_);
  ConnData& c = data();
  if (!(c.flags & kReadable)) throw Error(ErrorKind::InvalidState, "this connection only sends");
  sync::Acquire got = c.recv_lock.lock(sync::thread_owner(), d);
  if (got == sync::Acquire::Timeout) return false;
  struct Unlock {
    sync::LockCore& l;
    bool held = true;
    void release() noexcept {
      if (held) l.unlock();
      held = false;
    }
    ~Unlock() { release(); }
  } unlock{c.recv_lock};

  auto fail = [&](const char* why) {
    c.broken.store(1, std::memory_order_relaxed);
    c.ready.store(1, std::memory_order_release);
    local_->close();  // really closed when `use` ends
    throw Error(ErrorKind::TransferError, std::string(why) + "; the connection is closed");
  };
  if (c.broken.load(std::memory_order_relaxed)) fail("the pipe's stream is corrupt");

  for (;;) {
    ParsedFrame f;
    Parse p = Parse::NeedMore;
    if (c.end > c.start) p = parse_frame(buffer(c) + c.start, c.end - c.start, f);
    if (p == Parse::Corrupt) fail(f.why);
    if (f.total) {  // the header is known: checks that leave the message in place
      if (bytes_only && f.kind != FrameKind::Bytes)
        throw Error(ErrorKind::TransferError,
                    "the next message was sent with send(), not as bytes: receive it with recv()");
      if (f.length > maxlen)
        throw Error(ErrorKind::TransferError, "the next message has " + std::to_string(f.length) +
                                                  " bytes, more than maxlen " + std::to_string(maxlen) +
                                                  "; it is left in the pipe");
    }
    if (p == Parse::Frame) {
      out.kind = f.kind;
      out.count = static_cast<int>(f.count);
      out.payload.assign(f.payload, f.length);
      c.start += f.total;
      if (c.start == c.end) {
        c.start = c.end = 0;
        if (c.cap > kKeepBuffer) {
          arena().free(buffer(c));
          c.buf = 0;
          c.cap = 0;
        }
      }
      publish(c);
      break;
    }
    make_room(c, f.total ? f.total : kHeaderSize);
    long n = io::read_some(use.fd(), buffer(c) + c.end, c.cap - c.end);
    if (n > 0) {
      c.end += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0 && really_eof(use.fd(), c.flags)) {
      publish(c);
      if (c.end > c.start) fail("truncated frame: the stream ended inside a message");
      throw Error(ErrorKind::Closed, "end of stream: the other end of the pipe is closed");
    }
    // A reply a few microseconds away (a round trip with another process)
    // is cheaper to catch by re-reading than through a sleep and a wake-up.
    // How many re-reads adapts to whether they have been paying off.
    if (!d.passed()) {
      std::uint32_t budget = t_read_spins;
      bool got = false;
      for (std::uint32_t i = 0; i < budget && !got; ++i) {
        for (int k = 0; k < 20; ++k) cpu_relax();
        long m = io::read_some(use.fd(), buffer(c) + c.end, c.cap - c.end);
        if (m > 0) {
          c.end += static_cast<std::uint64_t>(m);
          got = true;
        } else if (m == 0) {
          break;  // end of stream: the next round reports it
        }
      }
      t_read_spins = got ? std::min<std::uint32_t>(kMaxReadSpins, budget * 2) : std::max<std::uint32_t>(2, budget / 2);
      if (got) continue;
    }
    publish(c);
    short ev = wait_fd(use.fd(), POLLIN, d);
    if (ev == 0) return false;
    if (ev & POLLNVAL) throw Error(ErrorKind::InvalidState, "the connection's descriptor is not open");
  }
  unlock.release();
  if (out.kind == FrameKind::Ticket) {  // the message itself is in the arena
    std::uint64_t token;
    std::memcpy(&token, out.payload.data(), sizeof token);
    out.payload.clear();
    out.message = tickets::redeem(c.channel, token);
  }
  return true;
}

bool Connection::poll(const Deadline& d) {
  FdUse use(local_);
  ConnData& c = data();
  if (!(c.flags & kReadable)) throw Error(ErrorKind::InvalidState, "this connection only sends");
  if (c.ready.load(std::memory_order_acquire) || c.broken.load(std::memory_order_relaxed)) return true;
  return wait_fd(use.fd(), POLLIN, d) != 0;
}

}  // namespace tide::pipe
