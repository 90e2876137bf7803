// Descriptor I/O for tide.pipe: whole-buffer writes and single reads on
// non-blocking descriptors, with EINTR retried, EAGAIN turned into a wait
// through the one wait mechanism (core/wait.hpp: cancellable, SIGINT-
// interruptible), and SIGPIPE never delivered: sockets use MSG_NOSIGNAL,
// FIFO writes block the signal on the calling thread and consume it.
#pragma once
#include <sys/uio.h>

#include <cstddef>

#include "core/deadline.hpp"

namespace tide::pipe::io {

// Writes every byte of iov[0..n) (the array is modified). `written` counts
// bytes written so far, also when this throws: Closed when the reader is
// gone (EPIPE, ECONNRESET), OSError, Cancelled / Interrupted from the wait.
void write_all(int fd, bool socket, iovec* iov, int n, std::size_t& written);

// One read of up to `n` bytes. Returns the count, 0 at end of stream, or
// -1 when nothing is there now (EAGAIN). Throws Closed on ECONNRESET,
// OSError on other failures.
long read_some(int fd, char* buf, std::size_t n);

// Raises Closed, as a write would, when every copy of the other end of
// socket `fd` is closed (POLLHUP); returns otherwise. No waiting.
void check_peer(int fd);

// Writes a few bytes to socket `fd` without waiting: all of them, or none
// when it has no room (EAGAIN; a write of at most one small block to a
// stream socket is all or nothing). Closed when the reader is gone.
void write_small_nowait(int fd, const void* p, std::size_t n);

// Sets O_NONBLOCK and FD_CLOEXEC. Throws OSError.
void prepare_fd(int fd);

}  // namespace tide::pipe::io
