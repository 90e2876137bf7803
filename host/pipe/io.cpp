#include "pipe/io.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "core/error.hpp"
#include "core/sigpipe.hpp"
#include "core/wait.hpp"

namespace tide::pipe::io {

namespace {

[[noreturn]] void throw_peer_closed(int err) {
  throw Error(ErrorKind::Closed, "the other end of the pipe is closed (EPIPE)", err);
}

}  // namespace

void write_all(int fd, bool socket, iovec* iov, int n, std::size_t& written) {
  while (n > 0) {
    ssize_t r;
    if (socket) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(n);
      r = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    } else {
      r = writev_nosigpipe(fd, iov, n);
    }
    if (r < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        short ev = wait_fd(fd, POLLOUT, Deadline::never());
        if (ev & POLLNVAL) throw Error(ErrorKind::InvalidState, "the connection's descriptor is not open");
        continue;  // POLLERR/POLLHUP: the next write reports EPIPE
      }
      if (err == EPIPE || err == ECONNRESET) throw_peer_closed(err);
      throw_os_error("pipe write", err);
    }
    written += static_cast<std::size_t>(r);
    auto left = static_cast<std::size_t>(r);
    while (n > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
}

long read_some(int fd, char* buf, std::size_t n) {
  for (;;) {
    ssize_t r = read(fd, buf, n);
    if (r >= 0) return static_cast<long>(r);
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) return -1;
    if (err == ECONNRESET) throw Error(ErrorKind::Closed, "the other end of the pipe is closed (reset)", err);
    if (err == EBADF) throw Error(ErrorKind::InvalidState, "the connection's descriptor is not open", err);
    throw_os_error("pipe read", err);
  }
}

void check_peer(int fd) {
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, 0) > 0 && (p.revents & (POLLHUP | POLLERR))) throw_peer_closed(EPIPE);
}

void write_small_nowait(int fd, const void* p, std::size_t n) {
  for (;;) {
    if (send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return;
    int err = errno;
    if (err == EINTR) continue;
    if (err == EPIPE || err == ECONNRESET) throw_peer_closed(err);
    return;
  }
}

void prepare_fd(int fd) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) throw_os_error("fcntl(O_NONBLOCK)", errno);
  int fd_flags = fcntl(fd, F_GETFD);
  if (fd_flags < 0 || fcntl(fd, F_SETFD, fd_flags | FD_CLOEXEC) < 0) throw_os_error("fcntl(FD_CLOEXEC)", errno);
}

}  // namespace tide::pipe::io
