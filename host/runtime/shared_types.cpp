#include "runtime/shared_types.hpp"

#include <mutex>

// One line per module that defines shared types (each module's
// register_shared_types() lives in its host/<module>/ folder).

namespace tide::runtime {

void register_shared_types() {
  static std::once_flag once;
  std::call_once(once, [] {
  });
}

}  // namespace tide::runtime
