// Private to host/queue: the PriorityQueue's binary heap, kept in the ring
// at positions [0, tail) (head stays 0). Called with put_mutex held.
#pragma once
#include "queue/queue_data.hpp"

namespace tide::queue {

// Adds the item in `slot` with ordering key `key` at the end and sifts it
// up; the ring must have room for one more. Throws ArgumentError when the
// key cannot be ordered against an entry it meets (or the top), OSError
// when a long key finds the arena full; the heap is then untouched and the
// slot still the caller's.
void heap_insert(QueueData* q, const Slot& slot, std::string_view key);

// Removes the lowest entry (count() > 0) and returns its item.
Slot heap_pop(QueueData* q) noexcept;

// Frees an entry's key block, if it has one.
void free_entry_key(const PEntry& e) noexcept;

}  // namespace tide::queue
