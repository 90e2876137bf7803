// Private to host/pipe: the shared-memory lane of one direction of a
// Pipe(). Both ends of a Pipe() are in one process tree and share the
// arena, so a sender copies a small message into a ring in the arena and a
// receiver copies it out: no system call per message (the socket costs a
// sendmsg per message, about 1 us; streaming was 0.4-0.5 M msg/s).
//
// The socket stays what it was for everything else: messages too big for
// the lane or sent while it is full, the end of the stream (the kernel
// knows when every process closed the sender's end), the reader-gone
// check, and waking a reader that sleeps. Garbage written to the
// descriptor is still caught by the frame reader.
//
// Order: a sender uses the lane only while no frame it sent through the
// socket is still unread (socket_sent == socket_taken); a receiver takes
// the lane's front entry before a frame buffered from the socket, looking
// at the lane after the frame arrived. So every lane entry written before
// a socket frame is taken before it, and none is written after it until
// it was taken.
//
// Wake-ups: a receiver about to sleep on the descriptor arms the lane
// (`waiting`, seq_cst), looks at it once more, and sleeps; a sender that
// published an entry and finds it armed disarms it and writes a Wake frame
// (header only, dropped by the reader) to the socket. One wake per sleep,
// none while the receiver is busy. Anything that waits on the descriptor
// must arm first: recv, poll and pipe.wait do; async.recv and
// async.readable go through poll.
//
// The reader gone: a sender learns it from the socket (POLLHUP: every copy
// of the other end is closed). It asks after every close of the reading
// end by tide (`reader_closes`) and otherwise at most once a millisecond,
// so a send to a reader that closed raises Closed at once and one to a
// reader whose process was killed within about a millisecond of sends;
// messages sent in between are lost, as they are in a socket's buffer.
#pragma once
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "pipe/frame.hpp"
#include "shm/arena.hpp"

namespace tide::pipe::lane {

struct Lane;

// A new lane with one reference (the creator's; each end of the pipe that
// uses it retains one). Throws OSError when the arena is full.
shm::Offset create();
void retain(shm::Offset off) noexcept;
void release(shm::Offset off) noexcept;  // frees it with the last reference; 0: nothing
Lane& at(shm::Offset off) noexcept;

// ---- the sending end, send lock held

// Copies the message in and publishes it; false (nothing changed) when it
// is too big for the lane, the lane has no room, or a socket frame is still
// unread: send it through the socket then.
bool put(Lane& l, FrameKind kind, std::uint32_t count, std::string_view payload) noexcept;
// After a put: true once per arming (disarms): write a Wake frame.
bool wake_requested(Lane& l) noexcept;
// Around a frame sent through the socket: counted before the write, and
// uncounted if nothing of it was written.
void socket_frame_sending(Lane& l) noexcept;
void socket_frame_unsent(Lane& l) noexcept;
// Whether to ask the socket if the reader is still there (see above); the
// caller then asks and calls peer_checked.
bool peer_check_due(Lane& l) noexcept;
void peer_checked(Lane& l) noexcept;

// ---- the receiving end

// A message is waiting (no lock needed: a hint for poll and pipe.wait,
// exact for the holder of the recv lock).
bool nonempty(const Lane& l) noexcept;
struct Entry {
  FrameKind kind{};
  std::uint32_t count = 0;
  std::uint32_t length = 0;
};
// Recv lock held, lane nonempty: the front entry, and taking it.
Entry front(const Lane& l) noexcept;
void take(Lane& l, std::string& payload);
// A frame sent through the socket has not been taken yet: the next
// message is not in the lane.
bool socket_pending(const Lane& l) noexcept;
// A frame from the socket was taken (recv lock held).
void socket_frame_taken(Lane& l) noexcept;
// Before sleeping on the descriptor; look at the lane again afterwards.
void arm(Lane& l) noexcept;
// Counts a close of the reading end's descriptor in some process.
std::atomic<std::uint32_t>& reader_closes(Lane& l) noexcept;

}  // namespace tide::pipe::lane
