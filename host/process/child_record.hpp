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

// The Future the child completes (a new proxy, holding one shared
// reference). Throws TransferError for a record that fails
// check_child_info or whose future offset is not a live Future.
Ref<future::Future> load_child_future(const ChildInfo& info);

// The child's payload (function then arguments). Throws TransferError if
// its offset is not a live stored message; OSError for want of memory.
Message load_child_payload(const ChildInfo& info);

}  // namespace tide::process
