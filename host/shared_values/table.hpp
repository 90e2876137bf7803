// tide.shared Table (API.md §9): a hash map in the shared arena from scalar
// keys to transferable values, shared by threads and processes. Keys are
// canonical byte strings (make them with table_key()); values are
// transfer-codec Messages kept with shm::store_message, so they may refer to
// other shared objects (which they then keep alive).
//
// A tide RLock core guards the map: recursive per tide thread, so that
// update()'s function, which runs with the lock held, may read and write the
// same table; waiting for it goes through the one wait path (cancellable,
// interruptible); and a holder that dies is taken over, leaving a usable
// table (entries are linked and unlinked with one store each).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/message.hpp"
#include "shm/shared.hpp"

namespace tide::shared_values {

// Canonical key bytes. Numbers with an integer value are integers (as in a
// Lua table: t[1.0] is t[1]); NaN is refused by the caller.
std::string key_of_int(std::int64_t v);
std::string key_of_float(double v);  // integral values become key_of_int
std::string key_of_string(std::string_view s);
std::string key_of_bool(bool b);

// What a key holds, for turning it back into a Lua value.
struct KeyView {
  enum Type { Int, Float, String, Bool, Bad } type = Bad;
  std::int64_t i = 0;
  double f = 0;
  std::string_view s;
  bool b = false;
};
KeyView parse_key(std::string_view key) noexcept;

struct TableData;

class Table final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Table";

  static Ref<Table> create();  // throws OSError (arena full)
  explicit Table(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }

  // The value under `key` (new references to its objects); false if none.
  bool get(std::string_view key, Message& out) const;
  // Stores one encoded value (value.count == 1). Throws TransferError (an
  // object that cannot be shared) or OSError.
  void set(std::string_view key, const Message& value);
  // Removes `key`; false if it was absent.
  bool erase(std::string_view key);
  std::size_t size() const;
  void clear();
  // Every key and value at one moment.
  std::vector<std::pair<std::string, Message>> snapshot() const;

  // Holds the table's lock (re-entrant for the holding thread) for a
  // read-modify-write. Waiting for it throws Cancelled / Interrupted.
  class Hold {
   public:
    explicit Hold(const Table& t);
    ~Hold();
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    TableData* d_;
  };

 private:
  TableData* data() const noexcept;
};


}  // namespace tide::shared_values
