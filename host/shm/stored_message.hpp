// A transfer-codec Message kept in the shared arena: how queue items and
// shared-table values are stored so any process can read them. The tide
// objects a message refers to must be shared objects; the stored message
// holds one shared reference to each.
#pragma once
#include "core/message.hpp"
#include "shm/arena.hpp"

namespace tide::shm {

// Copies `m` into the arena. Throws TransferError if it refers to an object
// that cannot be shared between processes (e.g. a Thread), OSError if the
// arena is full.
Offset store_message(const Message& m);

// A new Message equal to the stored one (taking new references). Throws
// TransferError if `stored` is not a live block whose contents fit it (an
// offset from a corrupt record).
Message load_message(Offset stored);

// Releases the references and frees the stored copy. Offset 0 is ignored.
void free_message(Offset stored) noexcept;

// Calls visit(ctx, offset) for each shared object the stored message holds
// a reference to (the cycle collector's traversal; the caller keeps the
// message from being freed meanwhile). A block that is not a stored
// message visits nothing.
void visit_message_refs(Offset stored, void (*visit)(void* ctx, Offset ref), void* ctx) noexcept;

}  // namespace tide::shm
