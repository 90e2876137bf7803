// A transfer-codec message: the encoded bytes plus the tide objects the bytes
// refer to by index. Holding a Message keeps those objects alive.
#pragma once
#include <string>
#include <vector>

#include "core/object.hpp"

namespace tide {

struct Message {
  std::string bytes;
  std::vector<Ref<Object>> objects;
  int count = 0;  // how many top-level values `bytes` holds

  bool empty() const noexcept { return count == 0; }
  void clear() noexcept { bytes.clear(); objects.clear(); count = 0; }
};

}  // namespace tide
