#include "shm/stored_message.hpp"

#include <cstring>

#include "core/error.hpp"
#include "shm/shared.hpp"

namespace tide::shm {

namespace {

// Marks a block as a stored message (a record's offset that lands on an
// object's data is refused, not read as a message).
constexpr std::uint64_t kStoredMagic = 0x6567617373656d74ULL;  // "tmessage"

struct Stored {
  std::uint64_t magic;
  std::uint64_t nbytes;
  std::uint32_t count;
  std::uint32_t nobjects;
  // Offset objects[nobjects]; then the bytes.
  Offset* objects() { return reinterpret_cast<Offset*>(this + 1); }
  char* bytes() { return reinterpret_cast<char*>(objects() + nobjects); }
};

}  // namespace

Offset store_message(const Message& m) {
  std::vector<SharedHeader*> headers;
  headers.reserve(m.objects.size());
  for (const auto& o : m.objects) {
    auto* s = dynamic_cast<SharedObject*>(o.get());
    if (!s)
      throw Error(ErrorKind::TransferError,
                  std::string("a ") + o->type_name() + " cannot be shared between processes");
    headers.push_back(s->shared_header());
  }
  Arena& a = Arena::get();
  auto* st = static_cast<Stored*>(
      a.alloc(sizeof(Stored) + headers.size() * sizeof(Offset) + m.bytes.size()));
  st->magic = kStoredMagic;
  st->nbytes = m.bytes.size();
  st->count = static_cast<std::uint32_t>(m.count);
  st->nobjects = static_cast<std::uint32_t>(headers.size());
  for (std::size_t i = 0; i < headers.size(); ++i) {
    retain_shared(headers[i]);
    st->objects()[i] = a.offset_of(headers[i]);
  }
  if (!m.bytes.empty()) std::memcpy(st->bytes(), m.bytes.data(), m.bytes.size());
  tsan_handoff_release();
  return a.offset_of(st);
}

Message load_message(Offset stored) {
  tsan_handoff_acquire();
  Arena& a = Arena::get();
  if (!a.is_block(stored, sizeof(Stored))) throw Error(ErrorKind::TransferError, "bad stored message reference");
  auto* st = a.at<Stored>(stored);
  if (st->magic != kStoredMagic) throw Error(ErrorKind::TransferError, "bad stored message reference");
  // The sizes it claims must fit its block (a corrupt record, not a crash).
  std::uint64_t need = sizeof(Stored) + std::uint64_t(st->nobjects) * sizeof(Offset);
  if (st->nbytes > a.size() || !a.is_block(stored, need + st->nbytes))
    throw Error(ErrorKind::TransferError, "corrupt stored message");
  Message m;
  m.count = static_cast<int>(st->count);
  m.bytes.assign(st->bytes(), st->nbytes);
  m.objects.reserve(st->nobjects);
  for (std::uint32_t i = 0; i < st->nobjects; ++i) m.objects.push_back(proxy_for(st->objects()[i]));
  return m;
}

void visit_message_refs(Offset stored, void (*visit)(void* ctx, Offset ref), void* ctx) noexcept {
  Arena& a = Arena::get();
  if (!a.is_block(stored, sizeof(Stored))) return;
  auto* st = a.at<Stored>(stored);
  if (st->magic != kStoredMagic ||
      !a.is_block(stored, sizeof(Stored) + std::uint64_t(st->nobjects) * sizeof(Offset)))
    return;
  for (std::uint32_t i = 0; i < st->nobjects; ++i) visit(ctx, st->objects()[i]);
}

void free_message(Offset stored) noexcept {
  if (!stored) return;
  tsan_handoff_acquire();
  Arena& a = Arena::get();
  auto* st = a.at<Stored>(stored);
  st->magic = 0;
  for (std::uint32_t i = 0; i < st->nobjects; ++i) release_shared(a.at<SharedHeader>(st->objects()[i]));
  a.free(st);
}

}  // namespace tide::shm
