#include "subprocess/stream.hpp"

#include <poll.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/wait.hpp"

namespace tide::subprocess {

namespace {

// One read() asks for this much: a pipe holds 64 KiB by default.
constexpr std::size_t kChunk = 64 * 1024;
// A buffer bigger than this (grown for one large read) is freed once empty,
// so a stream does not keep the memory of its largest read.
constexpr std::size_t kKeep = 256 * 1024;

// Waits until fd is ready; a descriptor closed under us is EBADF.
void wait_ready(int fd, short events) {
  short revents = wait_fd(fd, events, Deadline::never());
  if (revents & POLLNVAL) throw_os_error("poll", EBADF);
}

}  // namespace

SigpipeGuard::SigpipeGuard() {
  struct sigaction sa = {};
  sigaction(SIGPIPE, nullptr, &sa);
  active_ = (sa.sa_flags & SA_SIGINFO) || sa.sa_handler != SIG_IGN;
  if (!active_) return;
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_);
}

SigpipeGuard::~SigpipeGuard() {
  if (active_) pthread_sigmask(SIG_SETMASK, &old_, nullptr);
}

void SigpipeGuard::consume() noexcept {
  if (!active_) return;
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  timespec zero{0, 0};
  sigtimedwait(&pipe_set, nullptr, &zero);
}

Stream::Stream(UniqueFd fd, const char* name, bool writable)
    : fd_(std::move(fd)), name_(name), writable_(writable) {}

void Stream::check_open(bool want_write) const {
  if (!fd_) throw Error(ErrorKind::InvalidState, std::string(name_) + " is closed");
  if (want_write != writable_)
    throw Error(ErrorKind::InvalidState,
                std::string(name_) + (writable_ ? " is the child's input: it can only be written"
                                                : " is the child's output: it can only be read"));
}

void Stream::reserve(std::size_t more) {
  std::size_t used = end_ - begin_;
  if (cap_ - end_ >= more) return;
  if (cap_ - used >= more && begin_ > 0) {  // room enough once compacted
    std::memmove(buf_.get(), buf_.get() + begin_, used);
  } else {
    std::size_t cap = std::max({cap_ * 2, used + more, kChunk});
    std::unique_ptr<char[]> bigger(new char[cap]);  // uninitialised: read() fills it
    if (used) std::memcpy(bigger.get(), buf_.get() + begin_, used);
    buf_ = std::move(bigger);
    cap_ = cap;
  }
  begin_ = 0;
  end_ = used;
}

bool Stream::fill() {
  if (eof_) return false;
  reserve(kChunk);
  for (;;) {
    ssize_t r = ::read(fd_.get(), buf_.get() + end_, cap_ - end_);
    if (r > 0) {
      end_ += static_cast<std::size_t>(r);
      return true;
    }
    if (r == 0) {
      eof_ = true;
      return false;
    }
    if (errno == EAGAIN)
      wait_ready(fd_.get(), POLLIN);
    else if (errno != EINTR)
      throw_os_error("read", errno);
  }
}

void Stream::trim() noexcept {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (cap_ > kKeep) {
      buf_.reset();
      cap_ = 0;
    }
  }
}

std::optional<std::string_view> Stream::read(std::size_t n) {
  check_open(false);
  trim();
  while (end_ - begin_ < n && fill()) {
  }
  if (n == 0 && begin_ == end_) fill();  // "" unless at the end
  if (begin_ == end_ && eof_) return std::nullopt;
  std::size_t len = std::min(n, end_ - begin_);
  std::string_view v(buf_.get() + begin_, len);
  begin_ += len;
  return v;
}

std::string_view Stream::read_all() {
  check_open(false);
  trim();
  while (fill()) {
  }
  std::string_view v(buf_.get() + begin_, end_ - begin_);
  begin_ = end_;
  return v;
}

std::optional<std::string_view> Stream::read_line(bool keep_newline) {
  check_open(false);
  trim();
  std::size_t scanned = 0;  // bytes after begin_ known to hold no newline
  for (;;) {
    const char* start = buf_.get() + begin_;
    std::size_t unscanned = end_ - begin_ - scanned;
    if (const void* nl = unscanned ? std::memchr(start + scanned, '\n', unscanned) : nullptr) {
      std::size_t len = static_cast<std::size_t>(static_cast<const char*>(nl) - start);
      begin_ += len + 1;
      return std::string_view(start, keep_newline ? len + 1 : len);
    }
    scanned = end_ - begin_;
    if (!fill()) break;
  }
  if (begin_ == end_) return std::nullopt;
  std::string_view v(buf_.get() + begin_, end_ - begin_);
  begin_ = end_;
  return v;
}

void Stream::write(std::string_view data) {
  check_open(true);
  SigpipeGuard guard;
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t r = ::write(fd_.get(), data.data() + done, data.size() - done);
    if (r >= 0) {
      done += static_cast<std::size_t>(r);
    } else if (errno == EAGAIN) {
      wait_ready(fd_.get(), POLLOUT);
    } else if (errno != EINTR) {
      int err = errno;
      if (err == EPIPE) guard.consume();
      throw Error(ErrorKind::OSError, std::string("write to ") + name_ + ": " + std::strerror(err), err);
    }
  }
}

std::optional<std::string_view> Stream::read_some(std::size_t max) {
  check_open(false);
  trim();
  if (begin_ == end_) {
    if (eof_) return std::nullopt;
    reserve(kChunk);
    for (;;) {
      ssize_t r = ::read(fd_.get(), buf_.get() + end_, cap_ - end_);
      if (r > 0) {
        end_ += static_cast<std::size_t>(r);
        break;
      }
      if (r == 0) {
        eof_ = true;
        return std::nullopt;
      }
      if (errno == EAGAIN) return std::string_view();
      if (errno != EINTR) throw_os_error("read", errno);
    }
  }
  std::size_t len = std::min(max, end_ - begin_);
  std::string_view v(buf_.get() + begin_, len);
  begin_ += len;
  return v;
}

std::size_t Stream::write_some(std::string_view data) {
  check_open(true);
  if (data.empty()) return 0;
  SigpipeGuard guard;
  for (;;) {
    ssize_t r = ::write(fd_.get(), data.data(), data.size());
    if (r >= 0) return static_cast<std::size_t>(r);
    if (errno == EAGAIN) return 0;
    if (errno != EINTR) {
      int err = errno;
      if (err == EPIPE) guard.consume();
      throw Error(ErrorKind::OSError, std::string("write to ") + name_ + ": " + std::strerror(err), err);
    }
  }
}

void Stream::close() noexcept {
  fd_.reset();
  buf_.reset();
  cap_ = begin_ = end_ = 0;
}

std::string Stream::take_buffered() {
  if (begin_ == end_) return {};
  std::string s(buf_.get() + begin_, end_ - begin_);
  begin_ = end_;
  trim();
  return s;
}

}  // namespace tide::subprocess
