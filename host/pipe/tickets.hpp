// Private to host/pipe: how tide objects travel through a pipe.
//
// A message that refers to tide objects (locks, queues, other connections)
// cannot go through the byte stream by itself: an object is a reference to
// arena data. So the sender stores the whole message in the arena
// (shm::store_message, which holds a shared reference to each object),
// files it under a fresh random 64-bit token in the pipe's Channel (one per
// Pipe(), shared by its two connections), and sends only the token (a
// Ticket frame). The receiver looks the token up in the Channel and takes
// the stored message out. Bytes from the stream are only ever compared
// with tokens: a corrupt or forged frame can name no offset, so it can
// never make a receiver touch arena memory it should not; an unknown token
// is a TransferError.
//
// Stored messages never received are freed (and their references dropped)
// when the Channel goes, i.e. when both connections are gone. A message
// holding a reference to its own pipe keeps it alive until received.
#pragma once
#include <cstdint>

#include "core/message.hpp"
#include "shm/arena.hpp"

namespace tide::pipe::tickets {

// A new Channel with one reference.
shm::Offset create_channel();
void retain_channel(shm::Offset ch) noexcept;
void release_channel(shm::Offset ch) noexcept;

// Stores `m` and files it; returns its token. Throws TransferError (an
// object that cannot be shared between processes), OSError (arena full).
std::uint64_t deposit(shm::Offset ch, const Message& m);
// Takes the message filed under `token` out of the channel. Throws
// TransferError when there is none.
Message redeem(shm::Offset ch, std::uint64_t token);
// Drops a filed message that was never sent (the send failed).
void cancel(shm::Offset ch, std::uint64_t token) noexcept;

}  // namespace tide::pipe::tickets
