// A queue item in its shared-memory form (no pointers): the transfer-codec
// bytes of one value, kept either inline in a 32-byte slot (small values
// without tide objects: integers, short strings; no arena allocation at
// all), in an arena blob (bigger values without objects), or as a stored
// Message (values that refer to tide objects, which then hold shared
// references). Any process can read any of the three.
//
// Item owns its storage until it is handed to a queue (release_slot) and
// frees it when destroyed, so an item that never made it into a queue
// (timeout, Closed, an exception) leaks nothing.
#pragma once
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.hpp"
#include "shm/arena.hpp"

namespace tide::queue {

struct Slot {
  static constexpr std::uint8_t kInlineMax = 31;
  static constexpr std::uint8_t kBlob = 0xfe;     // data holds an Offset to a Blob
  static constexpr std::uint8_t kMessage = 0xff;  // data holds a stored-message Offset
  std::uint8_t tag;  // inline length, kBlob or kMessage
  char data[31];
};
static_assert(sizeof(Slot) == 32);

class Item {
 public:
  Item() noexcept = default;
  Item(Item&& o) noexcept : slot_(o.slot_), key_(std::move(o.key_)), full_(o.full_) { o.full_ = false; }
  Item& operator=(Item&& o) noexcept;
  Item(const Item&) = delete;
  Item& operator=(const Item&) = delete;
  ~Item() { reset(); }

  // From one encoded value (m.count == 1). Throws TransferError (an object
  // that cannot be shared) or OSError (arena full).
  static Item from_message(const Message& m);
  // Raw bytes with no objects (C++ users and tests).
  static Item from_bytes(std::string_view bytes);
  // Takes over a slot that came out of a queue.
  static Item adopt(const Slot& s) noexcept {
    Item i;
    i.slot_ = s;
    i.full_ = true;
    return i;
  }

  bool empty() const noexcept { return !full_; }
  bool has_objects() const noexcept { return slot_.tag == Slot::kMessage; }
  // The bytes of an item without objects (a view into the slot or arena).
  std::string_view bytes() const noexcept;
  // The item as a Message (new references to its objects).
  Message message() const;

  // PriorityQueue ordering key (priority_key.hpp); empty for other kinds.
  const std::string& key() const noexcept { return key_; }
  void set_key(std::string k) { key_ = std::move(k); }

  // The slot, still owned by the item.
  const Slot& slot_view() const noexcept { return slot_; }
  // Gives the storage to a queue: the item is empty afterwards.
  Slot release_slot() noexcept {
    full_ = false;
    return slot_;
  }
  void reset() noexcept;

 private:
  Slot slot_{};
  std::string key_;
  bool full_ = false;
};

// Frees what a slot refers to (blob, or stored message and its references).
void free_slot(const Slot& s) noexcept;
// The stored message a slot holds, or 0 for an item without objects.
shm::Offset slot_stored_message(const Slot& s) noexcept;
// The bytes of a slot without objects (a view into the slot or the arena).
std::string_view slot_bytes(const Slot& s) noexcept;

// Many items in their shared-memory form, owned by the batch until a queue
// takes them (Queue::put_many), or handed to it by a queue
// (Queue::get_many). Whatever the batch still owns is freed with it.
class ItemBatch {
 public:
  ItemBatch() = default;
  ItemBatch(const ItemBatch&) = delete;
  ItemBatch& operator=(const ItemBatch&) = delete;
  ~ItemBatch() { clear(); }

  // Room for n more (so that adding them never allocates).
  void reserve(std::size_t n);
  // Takes the item's storage and key.
  void add(Item&& item);
  // Room for one small item without objects, written in place: the caller
  // fills data and sets tag (its length, at most Slot::kInlineMax), or
  // calls drop_last(). reserve() first.
  Slot& add_small() noexcept { return buf_[end_++]; }
  void drop_last() noexcept { --end_; }

  // Items still owned, counted from the first not yet given away.
  std::size_t size() const noexcept { return end_ - first_; }
  const Slot& slot(std::size_t i) const noexcept { return buf_[first_ + i]; }
  std::string_view key(std::size_t i) const noexcept {
    return first_ + i < keys_.size() ? std::string_view(keys_[first_ + i]) : std::string_view();
  }
  bool has_objects(std::size_t i) const noexcept { return slot(i).tag == Slot::kMessage; }
  std::string_view bytes(std::size_t i) const noexcept { return slot_bytes(slot(i)); }
  Message message(std::size_t i) const;  // new references to its objects

  void clear() noexcept;

 private:
  friend class Queue;
  // Queue side: the first n items now belong to the queue.
  void given_away(std::size_t n) noexcept { first_ += n; }
  // Queue side: n uninitialised slots at the end (reserved), then commit.
  Slot* tail_space() noexcept { return buf_.get() + end_; }
  std::size_t spare() const noexcept { return cap_ - end_; }
  void appended(std::size_t n) noexcept { end_ += n; }

  std::unique_ptr<Slot[]> buf_;  // default-initialised: no zero-fill
  std::size_t cap_ = 0, end_ = 0, first_ = 0;
  std::vector<std::string> keys_;  // PriorityQueue keys, parallel to the slots
};

}  // namespace tide::queue
