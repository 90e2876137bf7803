// One end of a pipe to a child (Popen's stdin, stdout or stderr). A Stream
// is used by the one Lua state that owns it, so it has no lock. Reads are
// buffered: the buffer holds at most one chunk beyond what a call asked
// for, so reading 100 MB with read(n) or a line at a time uses bounded
// memory. Every blocking step waits in wait_fd (the one wait path:
// cancellable, interrupted by Ctrl-C, signal handlers run there).
//
// Views returned by the read calls point into the buffer and stay valid
// until the next call on the stream.
#pragma once
#include <csignal>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/unique_fd.hpp"

namespace tide::subprocess {

class Stream {
 public:
  // `fd` is non-blocking and close-on-exec (spawn.hpp makes it so);
  // `name` ("stdin", "stdout", "stderr") is for messages.
  Stream(UniqueFd fd, const char* name, bool writable);

  const char* name() const noexcept { return name_; }
  bool writable() const noexcept { return writable_; }
  bool closed() const noexcept { return !fd_; }
  int fd() const noexcept { return fd_.get(); }

  // n bytes, or fewer when the end comes first; nullopt at the end with
  // nothing read. (n == 0: "" unless at the end, like Lua's file:read(0).)
  std::optional<std::string_view> read(std::size_t n);
  // Everything up to the end ("" at the end).
  std::string_view read_all();
  // One line, without its "\n" unless keep_newline; the last line may lack
  // one; nullopt at the end.
  std::optional<std::string_view> read_line(bool keep_newline);
  // Writes all of `data`. OSError EPIPE when the child closed its end (the
  // host is never killed by SIGPIPE here).
  void write(std::string_view data);
  // For an event loop (tide.async), which waits for readiness itself:
  // up to `max` (> 0) bytes of what is buffered, else of one read() that
  // does not wait; nullopt at the end, an empty view when a read would wait.
  std::optional<std::string_view> read_some(std::size_t max);
  // Writes what the pipe takes now, without waiting: the bytes written (0
  // when it is full). OSError EPIPE as for write.
  std::size_t write_some(std::string_view data);
  // Idempotent.
  void close() noexcept;
  // Gives a closed stream its descriptor.
  void attach(UniqueFd fd) noexcept { fd_ = std::move(fd); }

  // For communicate: takes what is buffered but unread; marks the end.
  std::string take_buffered();
  bool at_end() const noexcept { return eof_ && begin_ == end_; }
  void mark_end() noexcept { eof_ = true; }

 private:
  void check_open(bool want_write) const;
  // Makes room for `more` bytes after the data (compacting or growing).
  void reserve(std::size_t more);
  // One read() into the buffer, waiting until there is data or the end;
  // false at the end.
  bool fill();
  // After a call: a buffer grown past kKeep while empty is given back.
  void trim() noexcept;

  UniqueFd fd_;
  const char* name_;
  bool writable_;
  std::unique_ptr<char[]> buf_;
  std::size_t cap_ = 0, begin_ = 0, end_ = 0;  // unread data: [begin_, end_)
  bool eof_ = false;
};

// Blocks SIGPIPE on the calling thread while it writes to pipes (unless the
// process ignores SIGPIPE), and takes a SIGPIPE that a failed write raised.
class SigpipeGuard {
 public:
  SigpipeGuard();
  ~SigpipeGuard();
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  // Call after a write failed with EPIPE.
  void consume() noexcept;

 private:
  bool active_ = false;
  sigset_t old_;
};

}  // namespace tide::subprocess
