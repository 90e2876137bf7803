// PriorityQueue ordering keys. A key is extracted once, at put time, from
// the Lua value (by the binding) and stored beside the item, so any process
// can order items without a Lua state. Python tuple semantics:
//   - numbers compare numerically (integers and floats exactly, as in Lua),
//     strings bytewise;
//   - array tables compare element by element, the first difference decides,
//     a tuple that ends first is smaller; nested arrays are tuples too;
//   - comparison stops at the first element that is not comparable (a hash
//     table, a function, a boolean, a tide object...): from there on the
//     items count as equal, and insertion order decides (the queue adds a
//     sequence number, so equal priorities leave in insertion order);
//   - a number against a string (or a tuple) at the same position is
//     Incomparable (Python raises TypeError): put() refuses the item.
//
// Encoding: a stream of tokens
//   'I' int64 | 'F' double | 'S' u32 length, bytes | '(' | ')' | '?'
// ('?' = not comparable; nothing follows it).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace tide::queue {

class KeyBuilder {
 public:
  void add_int(std::int64_t v);
  void add_float(double v);
  void add_string(std::string_view s);
  void open() { key_.push_back('('); }
  void close() { key_.push_back(')'); }
  void opaque() { key_.push_back('?'); }
  std::string take() { return std::move(key_); }

 private:
  std::string key_;
};

enum class Order { Less, Equal, Greater, Incomparable };

// Compares two keys; never reads past either (malformed keys compare Equal).
Order compare_keys(std::string_view a, std::string_view b) noexcept;

// A total order for places that cannot fail (taking the heap top): like
// compare_keys, but incomparable types order number < string < tuple.
int compare_keys_total(std::string_view a, std::string_view b) noexcept;

}  // namespace tide::queue
