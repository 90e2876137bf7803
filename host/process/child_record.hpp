// The record a child gets from its parent (ChildInfo, over a pipe for
// spawn, inside a forkserver request) is bytes from another process: it is
// checked before use, and the work it names is loaded only if its offsets
// are live blocks of the arena holding what they claim (fuzzed by
// tests/fuzz/worker_record.cpp and forkserver_request.cpp).
#pragma once
#include "core/message.hpp"
#include "core/object.hpp"
#include "future/future.hpp"
#include "process/child.hpp"

namespace tide::process {

// Nullptr if the record's own fields are in range, else what is wrong.
const char* check_child_info(const ChildInfo& info) noexcept;

struct ChildWork {
  Ref<future::Future> future;  // the child completes it
  Message payload;             // function then arguments
};

// Loads the work `info` names into `out`, the future first (so a child
// whose payload cannot be loaded can still fail its future). Throws
// TransferError for a record that fails check_child_info or whose offsets
// do not name a live Future and a stored message; OSError for want of
// memory.
void load_child_work(const ChildInfo& info, ChildWork& out);

}  // namespace tide::process
