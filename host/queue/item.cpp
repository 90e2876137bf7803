#include "queue/item.hpp"

#include <algorithm>
#include <cstring>
#include <utility>

#include "core/error.hpp"
#include "queue/queue_data.hpp"
#include "shm/stored_message.hpp"

namespace tide::queue {

namespace {

struct Blob {
  std::uint64_t size;
  char* bytes() noexcept { return reinterpret_cast<char*>(this + 1); }
};

shm::Offset slot_offset(const Slot& s) noexcept {
  shm::Offset off;
  std::memcpy(&off, s.data, sizeof off);
  return off;
}

Slot offset_slot(std::uint8_t tag, shm::Offset off) noexcept {
  Slot s;
  s.tag = tag;
  std::memcpy(s.data, &off, sizeof off);
  return s;
}

}  // namespace

Item& Item::operator=(Item&& o) noexcept {
  if (this != &o) {
    reset();
    slot_ = o.slot_;
    key_ = std::move(o.key_);
    full_ = std::exchange(o.full_, false);
  }
  return *this;
}

Item Item::from_bytes(std::string_view bytes) {
  Item i;
  if (bytes.size() <= Slot::kInlineMax) {
    i.slot_.tag = static_cast<std::uint8_t>(bytes.size());
    if (!bytes.empty()) std::memcpy(i.slot_.data, bytes.data(), bytes.size());
  } else {
    shm::Arena& a = arena();
    auto* b = static_cast<Blob*>(a.alloc(sizeof(Blob) + bytes.size()));
    b->size = bytes.size();
    std::memcpy(b->bytes(), bytes.data(), bytes.size());
    i.slot_ = offset_slot(Slot::kBlob, a.offset_of(b));
  }
  i.full_ = true;
  return i;
}

Item Item::from_message(const Message& m) {
  if (m.objects.empty()) return from_bytes(m.bytes);
  Item i;
  i.slot_ = offset_slot(Slot::kMessage, shm::store_message(m));
  i.full_ = true;
  return i;
}

std::string_view slot_bytes(const Slot& s) noexcept {
  if (s.tag <= Slot::kInlineMax) return {s.data, s.tag};
  if (s.tag == Slot::kBlob) {
    auto* b = arena().at<Blob>(slot_offset(s));
    return {b->bytes(), static_cast<std::size_t>(b->size)};
  }
  return {};
}

namespace {

Message slot_message(const Slot& s) {
  if (s.tag == Slot::kMessage) return shm::load_message(slot_offset(s));
  Message m;
  std::string_view b = slot_bytes(s);
  m.bytes.assign(b.data(), b.size());
  m.count = 1;
  return m;
}

}  // namespace

std::string_view Item::bytes() const noexcept { return slot_bytes(slot_); }

Message Item::message() const { return slot_message(slot_); }

void ItemBatch::reserve(std::size_t n) {
  if (cap_ - end_ >= n) return;
  std::size_t cap = std::max(end_ + n, cap_ * 2);
  std::unique_ptr<Slot[]> fresh(new Slot[cap]);
  if (end_) std::memcpy(fresh.get(), buf_.get(), end_ * sizeof(Slot));
  buf_ = std::move(fresh);
  cap_ = cap;
}

void ItemBatch::add(Item&& item) {
  reserve(1);
  if (!item.key().empty()) {
    keys_.resize(end_);
    keys_.push_back(item.key());
  }
  buf_[end_++] = item.release_slot();
}

Message ItemBatch::message(std::size_t i) const { return slot_message(slot(i)); }

void ItemBatch::clear() noexcept {
  for (std::size_t i = first_; i < end_; ++i) free_slot(buf_[i]);
  end_ = first_ = 0;
  keys_.clear();
}

void Item::reset() noexcept {
  if (full_) free_slot(slot_);
  full_ = false;
}

shm::Offset slot_stored_message(const Slot& s) noexcept {
  return s.tag == Slot::kMessage ? slot_offset(s) : 0;
}

void free_slot(const Slot& s) noexcept {
  if (s.tag == Slot::kBlob)
    arena().free(arena().at<void>(slot_offset(s)));
  else if (s.tag == Slot::kMessage)
    shm::free_message(slot_offset(s));
}

}  // namespace tide::queue
