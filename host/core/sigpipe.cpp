#include "core/sigpipe.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>

namespace tide {

namespace {

template <class Op>
ssize_t guarded(Op op) noexcept {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  sigset_t pending;
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  ssize_t r = op();
  int err = errno;
  if (r < 0 && err == EPIPE && !was_pending) {
    timespec zero{0, 0};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = err;
  return r;
}

}  // namespace

ssize_t write_nosigpipe(int fd, const void* buf, std::size_t n) noexcept {
  return guarded([&] { return write(fd, buf, n); });
}

ssize_t writev_nosigpipe(int fd, const struct iovec* iov, int n) noexcept {
  return guarded([&] { return writev(fd, iov, n); });
}

}  // namespace tide
