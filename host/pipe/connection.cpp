// Connections: creation (Pipe, FIFO), the per-process proxy, sending.
// Receiving is in recv.cpp, pipe.wait in select.cpp.
#include "pipe/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <mutex>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "pipe/conn_data.hpp"
#include "pipe/io.hpp"
#include "pipe/lane.hpp"
#include "pipe/local.hpp"
#include "pipe/tickets.hpp"

namespace tide::pipe {

namespace {

shm::Arena& arena() { return shm::Arena::get(); }

// Closes a descriptor unless released (error paths of creation).
struct FdGuard {
  int fd = -1;
  ~FdGuard() { if (fd >= 0) ::close(fd); }
  int release() { return std::exchange(fd, -1); }
};

void destroy(shm::SharedHeader* h) noexcept;
Object* make_proxy(shm::SharedHeader* h);

ConnData* make_data(int fd, std::uint32_t flags, shm::Offset channel, shm::Offset lane_in = 0,
                    shm::Offset lane_out = 0) {
  struct stat st;
  if (fstat(fd, &st) != 0) throw_os_error("fstat", errno);
  ConnData* d = shm::create_shared<ConnData>();
  d->fd = fd;
  d->flags = flags;
  d->dev = static_cast<std::uint64_t>(st.st_dev);
  d->ino = static_cast<std::uint64_t>(st.st_ino);
  d->channel = channel;
  d->lane_in = lane_in;
  d->lane_out = lane_out;
  lane::retain(lane_in);
  lane::retain(lane_out);
  return d;
}

void destroy(shm::SharedHeader* h) noexcept {
  auto* d = reinterpret_cast<ConnData*>(h);
  if (d->buf) arena().free(arena().at<void>(d->buf));
  tickets::release_channel(d->channel);
  lane::release(d->lane_in);
  lane::release(d->lane_out);
  d->~ConnData();
}

thread_local bool t_fresh = false;  // the proxy being made owns a new descriptor

Object* make_proxy(shm::SharedHeader* h) { return new Connection(h); }

}  // namespace

Connection::Connection(shm::SharedHeader* h)
    : SharedObject(h), local_(attach_local(data(), offset(), std::exchange(t_fresh, false))) {}

Connection::~Connection() { detach_local(offset(), local_); }

ConnData& Connection::data() const noexcept { return *reinterpret_cast<ConnData*>(shared_header()); }

std::pair<Ref<Connection>, Ref<Connection>> Connection::create_pair(bool duplex) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw_os_error("socketpair", errno);
  FdGuard g0{sv[0]}, g1{sv[1]};
  io::prepare_fd(sv[0]);
  io::prepare_fd(sv[1]);
  std::uint32_t fa = kSocket | kReadable | kWritable, fb = fa;
  if (!duplex) {  // Python: a receives, b sends
    if (shutdown(sv[0], SHUT_WR) != 0 || shutdown(sv[1], SHUT_RD) != 0) throw_os_error("shutdown", errno);
    fa = kSocket | kReadable;
    fb = kSocket | kWritable;
  }
  shm::Offset ch = tickets::create_channel();
  ConnData* da = nullptr;
  ConnData* db = nullptr;
  shm::Offset to_a = 0, to_b = 0;  // lanes of b's messages to a, a's to b: this function's references
  try {
    to_a = lane::create();
    if (duplex) to_b = lane::create();
    da = make_data(sv[0], fa, ch, to_a, to_b);
    tickets::retain_channel(ch);
    db = make_data(sv[1], fb, ch, to_b, to_a);
  } catch (...) {
    if (da) shm::release_shared(&da->header);  // drops one channel reference and its lane ones
    tickets::release_channel(ch);
    lane::release(to_a);
    lane::release(to_b);
    throw;
  }
  lane::release(to_a);
  lane::release(to_b);
  g0.release();
  g1.release();
  // From here the descriptors belong to the proxies' local entries.
  t_fresh = true;
  Ref<Connection> a = Ref<Connection>::adopt(new Connection(&da->header));
  t_fresh = true;
  Ref<Connection> b = Ref<Connection>::adopt(new Connection(&db->header));
  return {std::move(a), std::move(b)};
}

Ref<Connection> Connection::open_fifo(const std::string& path, bool write, const Deadline& d) {
  FdGuard fd, watch;
  for (;;) {
    fd.fd = ::open(path.c_str(), (write ? O_WRONLY : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    if (fd.fd >= 0) break;
    int err = errno;
    if (err == EINTR) continue;
    if (err != ENXIO) throw_os_error(("open " + path).c_str(), err);
    // A writer needs a reader: wait for the FIFO to be opened (inotify
    // IN_OPEN) and try again. The watch is set before the retry, so an
    // open in between is not missed.
    if (watch.fd < 0) {
      watch.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
      if (watch.fd < 0) throw_os_error("inotify_init1", errno);
      if (inotify_add_watch(watch.fd, path.c_str(), IN_OPEN) < 0) throw_os_error("inotify_add_watch", errno);
      continue;
    }
    if (wait_fd(watch.fd, POLLIN, d) == 0)
      throw Error(ErrorKind::Timeout, "no reader opened the FIFO " + path + " in time");
    char drain[4096];
    while (read(watch.fd, drain, sizeof drain) > 0) {
    }
  }
  struct stat st;
  if (fstat(fd.fd, &st) != 0) throw_os_error("fstat", errno);
  if (!S_ISFIFO(st.st_mode)) throw Error(ErrorKind::ArgumentError, path + " is not a FIFO (make one with pipe.fifo)");
  ConnData* data = make_data(fd.fd, write ? kWritable : kReadable, 0);
  fd.release();
  t_fresh = true;
  return Ref<Connection>::adopt(new Connection(&data->header));
}

bool Connection::readable() const noexcept { return data().flags & kReadable; }
bool Connection::writable() const noexcept { return data().flags & kWritable; }
bool Connection::closed() const noexcept { return !local_->available || local_->closed(); }
void Connection::close() noexcept { local_->close(); }

int Connection::fileno() const {
  FdUse use(local_);
  return use.fd();
}

void Connection::send_frame(FrameKind kind, std::uint32_t count, std::string_view payload) {
  FdUse use(local_);
  ConnData& c = data();
  if (!(c.flags & kWritable)) throw Error(ErrorKind::InvalidState, "this connection only receives");
  if (payload.size() > kMaxPayload)
    throw Error(ErrorKind::TransferError, "a message of " + std::to_string(payload.size()) +
                                              " bytes is larger than the pipe limit of 1 GiB");

  std::uint64_t token = sync::thread_owner();
  if (c.send_lock.lock(token, Deadline::never()) == sync::Acquire::Abandoned)
    c.send_broken.store(1, std::memory_order_relaxed);  // its sender died mid-frame, maybe
  sync::LockCoreGuard held(c.send_lock);
  if (c.send_broken.load(std::memory_order_relaxed))
    throw Error(ErrorKind::InvalidState, "an earlier send on this connection stopped in the middle of a message; "
                                         "the connection can no longer send");
  lane::Lane* ln = c.lane_out ? &lane::at(c.lane_out) : nullptr;
  if (ln) {
    if (lane::peer_check_due(*ln)) {
      io::check_peer(use.fd());  // the reader is gone once every copy of its end is closed
      lane::peer_checked(*ln);
    }
    if (lane::put(*ln, kind, count, payload)) {
      // A full socket needs no Wake frame: the receiver has bytes to read.
      if (lane::wake_requested(*ln)) {
        FrameHeader h = make_header(FrameKind::Wake, 0, {});
        io::write_small_nowait(use.fd(), &h, kHeaderSize);
      }
      return;
    }
    lane::socket_frame_sending(*ln);
  }
  FrameHeader h = make_header(kind, count, payload);
  iovec iov[2] = {{&h, kHeaderSize}, {const_cast<char*>(payload.data()), payload.size()}};
  const std::size_t total = kHeaderSize + payload.size();
  std::size_t written = 0;
  try {
    io::write_all(use.fd(), c.flags & kSocket, iov, payload.empty() ? 1 : 2, written);
  } catch (...) {
    if (written > 0 && written < total) c.send_broken.store(1, std::memory_order_relaxed);
    if (ln && written == 0) lane::socket_frame_unsent(*ln);
    throw;
  }
}

void Connection::send_message(const Message& m) {
  if (m.count < 0 || static_cast<std::uint32_t>(m.count) > kMaxCount)
    throw Error(ErrorKind::ArgumentError, "too many values in one message");
  auto count = static_cast<std::uint32_t>(m.count);
  if (m.objects.empty()) return send_frame(FrameKind::Value, count, m.bytes);
  shm::Offset ch = data().channel;
  if (!ch)
    throw Error(ErrorKind::TransferError,
                "tide objects cannot be sent over a FIFO opened by path (only over a Pipe())");
  {
    FdUse check(local_);  // fail before storing anything
    if (!writable()) throw Error(ErrorKind::InvalidState, "this connection only receives");
  }
  std::uint64_t ticket = tickets::deposit(ch, m);
  try {
    send_frame(FrameKind::Ticket, count, std::string_view(reinterpret_cast<const char*>(&ticket), sizeof ticket));
  } catch (...) {
    tickets::cancel(ch, ticket);
    throw;
  }
}

std::vector<int> descriptors_of(const Message& m) {
  std::vector<int> fds;
  for (const auto& o : m.objects)
    if (auto* c = dynamic_cast<Connection*>(o.get())) fds.push_back(c->data().fd);
  return fds;
}

std::vector<Ref<Connection>> lacking_descriptor(const Message& m) {
  std::vector<Ref<Connection>> out;
  for (const auto& o : m.objects)
    if (auto* c = dynamic_cast<Connection*>(o.get()); c && !c->local()->available.load(std::memory_order_acquire))
      out.push_back(Ref<Connection>::share(c));
  return out;
}

int descriptor_at(shm::Offset off) noexcept { return local_descriptor(off); }

bool adopt_descriptor(Connection& c, int fd) noexcept { return adopt_local(c.data(), c.local(), fd); }

namespace {
const shm::RegisterSharedType kPipeType{shm::SharedType::Pipe, {destroy, make_proxy}};
}  // namespace

}  // namespace tide::pipe
