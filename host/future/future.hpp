// tide.future's native core (API.md §5): a Future in the shared arena, so a
// handle passed to a thread (or a process) can be completed there.
//
// State moves once: Pending -> (Running) -> Completed | Failed | Cancelled.
// A completer first claims the future (internal Setting state), writes the
// stored results / error, then publishes the final state (release) and
// notifies. Readers see the stored data only after an acquire of a final
// state; it is immutable from then on.
//
// Waiting on many futures: every future created in one process tree
// notifies a shared "some future finished" WaitWord (FutureTree, allocated
// once in the arena, never freed) besides its own word, and stamps itself
// with a tree-wide completion counter (as_completed's order). A multi-wait
// sleeps on that word; futures whose tree words differ (one made by a
// spawned child) fall back to 50 ms slices.
//
// Watching (shm/watch.hpp): an event loop registers a Watcher, fired once
// when the future reaches a final state (at once if it already has). The
// completer takes the watch lock only when someone ever watched.
//
// C++ API for pools: create(), set_running_or_notify_cancel() (Python's
// semantics), complete(Outcome).
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <string>

#include "core/deadline.hpp"
#include "core/wait.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/shared.hpp"
#include "shm/watch.hpp"
#include "thread/completion.hpp"

namespace tide::future {

struct FutureTree {
  WaitWord word;
  std::atomic<std::uint64_t> stamp{0};
};

inline constexpr std::uint32_t kSetting = 100;  // claimed by a completer
inline constexpr std::size_t kInlineResult = 64;  // bytes of a result kept in FutureData

struct FutureData {
  shm::SharedHeader header;
  std::atomic<std::uint32_t> state{0};  // CompletionState, or kSetting
  WaitWord word;
  shm::Offset tree = 0;       // FutureTree
  shm::Offset values = 0;     // stored Message: results or the error value (0: inline)
  shm::Offset text = 0;       // stored string blob
  shm::Offset traceback = 0;  // stored string blob
  shm::Offset worker = 0;     // stored string blob: Outcome::worker
  std::uint32_t failure_kind = 0;
  std::uint32_t raw_error = 0;  // set_exception(tide error): raise it as is
  std::uint64_t done_stamp = 0;
  std::int32_t exitcode = 0;      // Outcome::exitcode
  std::uint32_t has_exitcode = 0;
  shm::RobustMutex watch_mutex;             // guards watchers; a leaf: nothing is locked under it
  shm::WatchSet watchers;                   // fired once, at the final state
  std::atomic<std::uint32_t> watched{0};    // 1 once anyone watched (the completer's hint)
  // A message that refers to no object and fits here is kept in the future
  // itself (values == 0): most results are a number or a short string, and
  // a stored message cost an arena alloc by the completer and a free by the
  // reader, each under the arena's one lock (issue 14, W4). The block is
  // 256 bytes either way.
  std::uint32_t inline_count = 0;
  std::uint32_t inline_size = 0;
  char inline_bytes[kInlineResult];
  FutureData() noexcept {
    header.type = shm::SharedType::Future;
    watch_mutex.init();
  }
};
// 16: the arena block's header.
static_assert(sizeof(FutureData) + 16 <= 256, "an inline result must not double the future's arena block");

class Future final : public shm::SharedObject {
 public:
  static constexpr char kTypeName[] = "tide.Future";
  static Ref<Future> create();
  explicit Future(shm::SharedHeader* h) : SharedObject(h) {}
  const char* type_name() const noexcept override { return kTypeName; }
  FutureData& data() const noexcept { return *reinterpret_cast<FutureData*>(shared_header()); }

  // Pending/Running while a completer is storing.
  CompletionState state() const noexcept;
  bool done() const noexcept { return state() >= CompletionState::Completed; }
  bool running() const noexcept { return state() == CompletionState::Running; }
  bool cancelled() const noexcept { return state() == CompletionState::Cancelled; }
  std::uint64_t done_stamp() const noexcept { return data().done_stamp; }

  // Pending -> Cancelled; true if cancelled now or before, false if
  // running or completed.
  bool cancel() noexcept;
  // Pending -> Running (true); false if cancelled; InvalidState otherwise.
  bool set_running_or_notify_cancel();
  // Completed or Failed outcome, once: false if already done. The message is
  // stored first (may throw TransferError / OSError, nothing changes then).
  bool complete(const Outcome& outcome, bool raw_error = false);
  // complete() by whoever knows the completer it may be waiting for has
  // died (a pool supervisor whose worker process ended): a future left
  // claimed but never published (its completer was killed mid-store) is
  // taken over after a short wait instead of staying undone forever.
  bool complete_abandoned(const Outcome& outcome);
  // Running -> Pending again, for a task run again after its worker died;
  // true if the future is now Pending.
  bool requeue() noexcept;

  // True once done; false at the deadline. Throws Cancelled / Interrupted.
  bool wait(const Deadline& deadline);
  // The final outcome (requires done()): a fresh copy with new references.
  Outcome outcome() const;
  bool raw_error() const noexcept { return data().raw_error != 0; }

  // Readiness registration: `w` fires when the future is done (at once if
  // it is). watch throws OSError (arena full); unwatch before freeing `w`.
  void watch(shm::Watcher* w);
  void unwatch(const shm::Watcher* w) noexcept;

  // Waits until pred() holds for `futs` (which it reads), or the deadline.
  static bool wait_many(std::span<Future* const> futs, const Deadline& deadline,
                        const std::function<bool()>& pred);
};

void destroy_future(shm::SharedHeader* h) noexcept;

}  // namespace tide::future
