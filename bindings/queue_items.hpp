// Private to bindings/queue.cpp: Lua values <-> queue Items. Every item is
// transfer-codec bytes; small scalars take a fast path that writes and reads
// the very same bytes without the codec's general machinery (see
// host/queue/scalar_wire.hpp), verified against the codec once per process.
#pragma once
#include <lua.hpp>

#include "core/message.hpp"
#include "queue/item.hpp"
#include "queue/queue.hpp"

namespace tide::queue_items {

// Checks the scalar fast path against the codec (once per process; may be
// called from any state).
void verify_fast_path(lua_State* L) noexcept;

// The value at `idx` as an inline slot if it is a small scalar (and the
// fast path agrees with the codec): the whole put of W2's integers, with no
// Item or scratch message. False otherwise (the slot then holds nothing
// meaningful). Never raises. Queues other than PriorityQueue try it first.
bool scalar_slot(lua_State* L, int idx, queue::Slot& slot);

// The value at `idx` as an item for a queue of `kind` (PriorityQueue: with
// its ordering key), through the codec. `scratch` is reused between calls.
// Throws ArgumentError (nil, or an item a PriorityQueue cannot order),
// TransferError, OSError. Never raises a Lua error except out of memory.
queue::Item make_item(lua_State* L, int idx, queue::Kind kind, Message& scratch);

// Pushes the item's value; returns 1. Throws TransferError.
int push_item(lua_State* L, const queue::Item& item);

// Batches (put_many/get_many): the same, item by item.
void add_item(lua_State* L, int idx, queue::Kind kind, Message& scratch, queue::ItemBatch& batch);
void push_batch_item(lua_State* L, const queue::ItemBatch& batch, std::size_t i);

}  // namespace tide::queue_items
