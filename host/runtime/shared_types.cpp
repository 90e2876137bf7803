#include "runtime/shared_types.hpp"

#include <mutex>

#include "future/future.hpp"
#include "pipe/connection.hpp"
#include "pool/pool_data.hpp"
#include "queue/queue.hpp"
#include "shared_values/table.hpp"
#include "sync/types.hpp"

// One line per module that defines shared types (each module's
// register_shared_types() lives in its host/<module>/ folder).

namespace tide::runtime {

void register_shared_types() {
  static std::once_flag once;
  std::call_once(once, [] {
    tide::sync::register_shared_types();
    tide::queue::register_shared_types();
    tide::future::register_shared_types();
    tide::shared_values::register_table_type();
    tide::pipe::register_shared_types();
    tide::pool::register_shared_types();
  });
}

}  // namespace tide::runtime
