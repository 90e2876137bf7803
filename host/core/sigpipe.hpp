// Writes to pipes and FIFOs that fail with EPIPE instead of killing the
// process with SIGPIPE (issue 15 defect 1). Every tide write to a
// descriptor that may be a pipe goes through these (sockets use
// MSG_NOSIGNAL instead): tide.os.write, pipe connections over FIFOs, the
// spawn launcher's record.
//
// Why a guard per write and not SIGPIPE ignored for the whole process (as
// Python does): the host keeps Lua's own semantics. A script writing with
// print or io.write to a closed pipe (`tide gen.lua | head -1`) dies of
// SIGPIPE as under `lua` and as every Unix filter does; with SIGPIPE
// ignored, io.write would return an error most scripts never check and the
// loop would spin forever. tide.so leaves its interpreter's disposition
// alone, and the programs the host starts inherit the default untouched.
//
// How: SIGPIPE is blocked on the calling thread for the write; one raised
// by this write is consumed before the mask is restored; one that was
// already pending is left alone. Costs two or three system calls.
#pragma once
#include <sys/types.h>
#include <sys/uio.h>

#include <cstddef>

namespace tide {

// write(2) / writev(2); -1 with errno (EPIPE when the reader is gone).
ssize_t write_nosigpipe(int fd, const void* buf, std::size_t n) noexcept;
ssize_t writev_nosigpipe(int fd, const struct iovec* iov, int n) noexcept;

}  // namespace tide
