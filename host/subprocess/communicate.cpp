#include "subprocess/communicate.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "core/error.hpp"
#include "core/wait.hpp"

namespace tide::subprocess {

namespace {

constexpr std::size_t kChunk = 64 * 1024;

bool open(Stream* s) { return s && !s->closed(); }

// Reads what is there into `into`; false at the end.
bool drain(Stream& s, std::string& into) {
  for (;;) {
    std::size_t old = into.size();
    into.resize(old + kChunk);
    ssize_t r = ::read(s.fd(), into.data() + old, kChunk);
    into.resize(old + static_cast<std::size_t>(std::max<ssize_t>(r, 0)));
    if (r > 0) continue;
    if (r == 0) return false;
    if (errno == EAGAIN) return true;
    if (errno != EINTR) throw_os_error("read", errno);
  }
}

// Writes what the pipe takes now; false once all is written or the child
// has closed its end.
bool feed(Stream& s, Exchange& x, SigpipeGuard& guard) {
  while (x.written < x.input.size()) {
    std::size_t n = std::min(kChunk, x.input.size() - x.written);
    ssize_t r = ::write(s.fd(), x.input.data() + x.written, n);
    if (r >= 0) {
      x.written += static_cast<std::size_t>(r);
    } else if (errno == EAGAIN) {
      return true;
    } else if (errno == EPIPE) {
      guard.consume();
      return false;
    } else if (errno != EINTR) {
      throw_os_error("write", errno);
    }
  }
  return false;
}

}  // namespace

bool exchange(Stream* in, Stream* out, Stream* err, Exchange& x, const Deadline& d) {
  if (!x.started) {
    x.started = true;
    // What a read() call left buffered comes first.
    if (open(out)) x.out = out->take_buffered();
    if (open(err)) x.err = err->take_buffered();
  }
  if (open(in) && x.written >= x.input.size()) in->close();  // no (more) input: EOF
  if (!open(in) && !open(out) && !open(err)) return true;  // (run without pipes: no system call here)
  SigpipeGuard guard;
  for (;;) {
    pollfd fds[3];
    Stream* who[3];
    int n = 0;
    for (Stream* s : {in, out, err})
      if (open(s)) {
        fds[n] = {s->fd(), static_cast<short>(s == in ? POLLOUT : POLLIN), 0};
        who[n++] = s;
      }
    if (n == 0) return true;
    if (wait_fds(fds, n, d) == 0) return false;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].revents & POLLNVAL) throw_os_error("poll", EBADF);
      Stream* s = who[i];
      bool more = s == in ? feed(*s, x, guard) : drain(*s, s == out ? x.out : x.err);
      if (!more) s->close();
    }
  }
}

}  // namespace tide::subprocess
