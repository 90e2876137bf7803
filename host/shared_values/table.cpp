#include "shared_values/table.hpp"

#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "sync/rlock.hpp"
#include "shm/stored_message.hpp"

namespace tide::shared_values {

namespace {

shm::Arena& arena() { return shm::Arena::get(); }

struct Entry {
  shm::Offset next;
  std::uint64_t hash;
  shm::Offset value;  // stored message
  std::uint32_t key_len;
  std::uint32_t reserved;
  char* key() noexcept { return reinterpret_cast<char*>(this + 1); }
  std::string_view key_view() noexcept { return {key(), key_len}; }
};

std::uint64_t hash_of(std::string_view k) noexcept {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : k) h = (h ^ c) * 1099511628211ull;
  return h ^ (h >> 29);
}

template <class T>
std::string tagged(char tag, T v) {
  std::string k(1 + sizeof v, tag);
  std::memcpy(k.data() + 1, &v, sizeof v);
  return k;
}

}  // namespace

struct TableData {
  shm::SharedHeader header;
  sync::RLockData lock;
  shm::Offset buckets = 0;   // Offset[nbuckets]
  std::uint64_t nbuckets = 0;
  std::uint64_t count = 0;

  TableData() noexcept {
    header.type = shm::SharedType::Table;
  }
  shm::Offset* bucket_array() const noexcept { return arena().at<shm::Offset>(buckets); }

  // The link that points at the entry for `key` (or at 0 where it would go).
  shm::Offset* find(std::string_view key, std::uint64_t h) const noexcept {
    if (nbuckets == 0) return nullptr;
    shm::Offset* link = &bucket_array()[h & (nbuckets - 1)];
    while (*link) {
      Entry* e = arena().at<Entry>(*link);
      if (e->hash == h && e->key_view() == key) return link;
      link = &e->next;
    }
    return link;
  }

  void grow() {
    std::uint64_t n = nbuckets ? nbuckets * 2 : 16;
    auto* fresh = static_cast<shm::Offset*>(arena().alloc(n * sizeof(shm::Offset)));
    for (std::uint64_t b = 0; b < nbuckets; ++b) {
      for (shm::Offset off = bucket_array()[b]; off;) {
        Entry* e = arena().at<Entry>(off);
        shm::Offset next = e->next;
        e->next = fresh[e->hash & (n - 1)];
        fresh[e->hash & (n - 1)] = off;
        off = next;
      }
    }
    shm::Offset old = buckets;
    buckets = arena().offset_of(fresh);
    nbuckets = n;
    if (old) arena().free(arena().at<void>(old));
  }
};

std::string key_of_int(std::int64_t v) { return tagged('i', v); }
std::string key_of_float(double v) {
  if (v >= -9223372036854775808.0 && v < 9223372036854775808.0 && std::floor(v) == v)
    return key_of_int(static_cast<std::int64_t>(v));
  return tagged('f', v);
}
std::string key_of_string(std::string_view s) {
  std::string k(1, 's');
  k.append(s);
  return k;
}
std::string key_of_bool(bool b) { return std::string(1, b ? 'T' : 'F'); }

KeyView parse_key(std::string_view key) noexcept {
  KeyView v;
  if (key.empty()) return v;
  switch (key[0]) {
    case 'i':
      if (key.size() != 9) return v;
      std::memcpy(&v.i, key.data() + 1, 8);
      v.type = KeyView::Int;
      break;
    case 'f':
      if (key.size() != 9) return v;
      std::memcpy(&v.f, key.data() + 1, 8);
      v.type = KeyView::Float;
      break;
    case 's':
      v.s = key.substr(1);
      v.type = KeyView::String;
      break;
    case 'T':
    case 'F':
      v.b = key[0] == 'T';
      v.type = KeyView::Bool;
      break;
    default:
      break;
  }
  return v;
}

Table::Hold::Hold(const Table& t) : d_(t.data()) {
  try {
    sync::rlock_acquire(d_->lock, Deadline::never());
  } catch (const Error& e) {
    // The holder died: every edit is a single-store commit, so the table is
    // whole; carry on holding the lock.
    if (e.kind() != ErrorKind::AbandonedLock) throw;
  }
}

Table::Hold::~Hold() {
  try {
    sync::rlock_release(d_->lock);
  } catch (const Error&) {  // cannot happen: this thread holds it
  }
}

namespace {

void destroy(shm::SharedHeader* h) noexcept {
  auto* d = reinterpret_cast<TableData*>(h);
  for (std::uint64_t b = 0; b < d->nbuckets; ++b) {
    for (shm::Offset off = d->bucket_array()[b]; off;) {
      Entry* e = arena().at<Entry>(off);
      off = e->next;
      shm::free_message(e->value);
      arena().free(e);
    }
  }
  if (d->buckets) arena().free(arena().at<void>(d->buckets));
  d->~TableData();
}

Object* make_proxy(shm::SharedHeader* h) { return new Table(h); }

// The cycle collector's view (shm/cycles.hpp): the shared objects the
// values refer to, under the table's lock taken without waiting. A table
// whose lock is held (by anyone, this thread's update() included) is in use
// by a holder of a proxy, so it reports busy.
bool traverse(shm::SharedHeader* h, void (*visit)(void*, shm::Offset), void* ctx) noexcept {
  auto* d = reinterpret_cast<TableData*>(h);
  std::uint64_t me;
  try {
    me = sync::thread_owner();
  } catch (...) {
    return false;
  }
  if (!d->lock.core.try_lock(me)) return false;
  shm::tsan_handoff_acquire();  // values another process stored
  for (std::uint64_t b = 0; b < d->nbuckets; ++b)
    for (shm::Offset off = d->bucket_array()[b]; off; off = arena().at<Entry>(off)->next)
      shm::visit_message_refs(arena().at<Entry>(off)->value, visit, ctx);
  d->lock.core.unlock();
  return true;
}

}  // namespace

Ref<Table> Table::create() {
  TableData* d = shm::create_shared<TableData>();
  return Ref<Table>::adopt(new Table(&d->header));
}

TableData* Table::data() const noexcept { return reinterpret_cast<TableData*>(shared_header()); }

bool Table::get(std::string_view key, Message& out) const {
  TableData* d = data();
  Hold hold(*this);
  shm::Offset* link = d->find(key, hash_of(key));
  if (!link || !*link) return false;
  out = shm::load_message(arena().at<Entry>(*link)->value);
  return true;
}

void Table::set(std::string_view key, const Message& value) {
  TableData* d = data();
  std::uint64_t h = hash_of(key);
  shm::Offset stored = shm::store_message(value);
  shm::Offset old = 0;
  try {
    Hold hold(*this);
    if (d->nbuckets == 0 || d->count >= d->nbuckets) d->grow();
    shm::Offset* link = d->find(key, h);
    if (*link) {
      Entry* e = arena().at<Entry>(*link);
      old = e->value;
      e->value = stored;
    } else {
      auto* e = static_cast<Entry*>(arena().alloc(sizeof(Entry) + key.size()));
      e->hash = h;
      e->value = stored;
      e->key_len = static_cast<std::uint32_t>(key.size());
      std::memcpy(e->key(), key.data(), key.size());
      *link = arena().offset_of(e);  // published by this one store
      ++d->count;
    }
  } catch (...) {
    shm::free_message(stored);
    throw;
  }
  shm::free_message(old);  // outside the lock: may destroy objects
}

bool Table::erase(std::string_view key) {
  TableData* d = data();
  Entry* e = nullptr;
  {
    Hold hold(*this);
    shm::Offset* link = d->find(key, hash_of(key));
    if (!link || !*link) return false;
    e = arena().at<Entry>(*link);
    *link = e->next;
    --d->count;
  }
  shm::free_message(e->value);
  arena().free(e);
  return true;
}

std::size_t Table::size() const {
  Hold hold(*this);
  return data()->count;
}

void Table::clear() {
  TableData* d = data();
  std::vector<Entry*> gone;
  {
    Hold hold(*this);
    try {
      gone.reserve(d->count);
    } catch (...) {  // no memory for the list: free while holding the lock
    }
    for (std::uint64_t b = 0; b < d->nbuckets; ++b) {
      shm::Offset off = d->bucket_array()[b];
      d->bucket_array()[b] = 0;
      while (off) {
        Entry* e = arena().at<Entry>(off);
        off = e->next;
        if (gone.size() < gone.capacity()) {
          gone.push_back(e);
        } else {
          shm::free_message(e->value);
          arena().free(e);
        }
      }
    }
    d->count = 0;
  }
  for (Entry* e : gone) {
    shm::free_message(e->value);
    arena().free(e);
  }
}

std::vector<std::pair<std::string, Message>> Table::snapshot() const {
  TableData* d = data();
  std::vector<std::pair<std::string, Message>> out;
  Hold hold(*this);
  out.reserve(d->count);
  for (std::uint64_t b = 0; b < d->nbuckets; ++b) {
    for (shm::Offset off = d->bucket_array()[b]; off;) {
      Entry* e = arena().at<Entry>(off);
      out.emplace_back(std::string(e->key_view()), shm::load_message(e->value));
      off = e->next;
    }
  }
  return out;
}

namespace {
const shm::RegisterSharedType kTableType{shm::SharedType::Table, {destroy, make_proxy, traverse}};
}  // namespace

}  // namespace tide::shared_values
