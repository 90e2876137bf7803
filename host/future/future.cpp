#include "future/future.hpp"

#include <algorithm>
#include <cstring>

#include <sched.h>

#include "core/error.hpp"
#include "core/spin.hpp"
#include "shm/stored_message.hpp"

namespace tide::future {

namespace {

constexpr std::uint32_t u(CompletionState s) { return static_cast<std::uint32_t>(s); }

// How long cancel() lets a concurrent state change settle: a cancel
// publishes within a few instructions of claiming; a completer storing a
// big result may take longer and then reads as running.
constexpr int kSettleYields = 1000;

FutureTree* tree_of(const FutureData& d) noexcept { return shm::Arena::get().at<FutureTree>(d.tree); }

// Made once per process tree (fork children inherit it), read per future:
// a function-local static costs one guard load, not a call_once.
shm::Offset this_tree() {
  static const shm::Offset off = [] {
    shm::Arena& a = shm::Arena::get();
    return a.offset_of(new (a.alloc(sizeof(FutureTree))) FutureTree);
  }();
  return off;
}

struct Blob {
  std::uint64_t size;
  char bytes[1];
};

shm::Offset store_string(const std::string& s) {
  if (s.empty()) return 0;
  shm::Arena& a = shm::Arena::get();
  auto* b = static_cast<Blob*>(a.alloc(sizeof(Blob) + s.size()));
  b->size = s.size();
  std::memcpy(b->bytes, s.data(), s.size());
  return a.offset_of(b);
}

std::string load_string(shm::Offset off) {
  auto* b = shm::Arena::get().at<Blob>(off);
  return b ? std::string(b->bytes, b->size) : std::string();
}

void free_string(shm::Offset off) noexcept {
  if (off) shm::Arena::get().free(shm::Arena::get().at<Blob>(off));
}

// The store-buffering pattern with watch(): the completer stores the state,
// then reads `watched`; a watcher stores `watched`, then reads the state. With
// a full fence on each side, one of them sees the other: the watcher fires
// itself, or the completer fires it (or both; a second fire is harmless).
// Under TSan the completer takes watch_mutex every time instead.
void publish(FutureData& d, CompletionState s) noexcept {
  shm::tsan_handoff_release();
  FutureTree* t = tree_of(d);
  if (t) d.done_stamp = t->stamp.fetch_add(1, std::memory_order_relaxed) + 1;
  d.state.store(u(s), std::memory_order_release);
  d.word.notify_all();
  if (t) t->word.notify_all();
#if defined(__SANITIZE_THREAD__)
  // TSan does not model fences (GCC refuses them there): take the lock every
  // time, so the mutex orders this with watch() instead.
  const bool watched = true;
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
  const bool watched = d.watched.load(std::memory_order_relaxed) != 0;
#endif
  if (watched) {
    shm::RobustLock lk(d.watch_mutex);
    d.watchers.fire_all();
  }
}

}  // namespace

Ref<Future> Future::create() {
  shm::Offset tree = this_tree();
  FutureData* d = shm::create_shared<FutureData>();
  d->tree = tree;
  try {
    return Ref<Future>::adopt(new Future(&d->header));
  } catch (...) {
    shm::release_shared(&d->header);
    throw;
  }
}

CompletionState Future::state() const noexcept {
  std::uint32_t s = data().state.load(std::memory_order_acquire);
  if (s == kSetting) return CompletionState::Running;
  return static_cast<CompletionState>(s);
}

// As Python's: true if the future is cancelled when the call returns,
// also when it already was (f:cancel(), f:cancel() -> true, true).
bool Future::cancel() noexcept {
  std::uint32_t expected = u(CompletionState::Pending);
  if (data().state.compare_exchange_strong(expected, kSetting, std::memory_order_acq_rel)) {
    publish(data(), CompletionState::Cancelled);
    return true;
  }
  // kSetting: another cancel (a few instructions from publishing) or a
  // completer storing results (a running future). Look again once it has
  // settled; a completer still busy after that counts as running.
  for (int i = 0; expected == kSetting && i < kSettleYields; ++i) {
    sched_yield();
    expected = data().state.load(std::memory_order_acquire);
  }
  return expected == u(CompletionState::Cancelled);
}

bool Future::set_running_or_notify_cancel() {
  std::uint32_t expected = u(CompletionState::Pending);
  // No notify: every waiter on the word waits for done(), which Running is
  // not (a notify here woke each sleeping result() for nothing, once a task).
  if (data().state.compare_exchange_strong(expected, u(CompletionState::Running), std::memory_order_acq_rel))
    return true;
  if (expected == u(CompletionState::Cancelled)) return false;
  throw Error(ErrorKind::InvalidState, "future is already running or done");
}

namespace {

struct StoredOutcome {
  shm::Offset values = 0, text = 0, traceback = 0, worker = 0;  // values 0: inline
};

bool fits_inline(const Message& m) noexcept {
  return m.objects.empty() && m.bytes.size() <= kInlineResult;
}

StoredOutcome store_outcome(const Outcome& o) {
  if (o.state != CompletionState::Completed && o.state != CompletionState::Failed)
    throw Error(ErrorKind::InvalidState, "a future completes with results or an error");
  StoredOutcome st;
  if (!fits_inline(o.values)) st.values = shm::store_message(o.values);
  try {
    st.text = store_string(o.text);
    st.traceback = store_string(o.traceback);
    st.worker = store_string(o.worker);
  } catch (...) {
    free_string(st.text);
    free_string(st.traceback);
    shm::free_message(st.values);
    throw;
  }
  return st;
}

void free_outcome(const StoredOutcome& st) noexcept {
  shm::free_message(st.values);
  free_string(st.text);
  free_string(st.traceback);
  free_string(st.worker);
}

// With the future claimed (kSetting) by the caller.
void write_and_publish(FutureData& d, const StoredOutcome& st, const Outcome& o, bool raw_error) noexcept {
  d.values = st.values;
  if (!st.values) {
    d.inline_count = static_cast<std::uint32_t>(o.values.count);
    d.inline_size = static_cast<std::uint32_t>(o.values.bytes.size());
    std::memcpy(d.inline_bytes, o.values.bytes.data(), o.values.bytes.size());
  }
  d.text = st.text;
  d.traceback = st.traceback;
  d.worker = st.worker;
  d.failure_kind = static_cast<std::uint32_t>(o.failure_kind);
  d.raw_error = raw_error ? 1 : 0;
  d.exitcode = o.exitcode;
  d.has_exitcode = o.has_exitcode ? 1 : 0;
  publish(d, o.state);
}

}  // namespace

bool Future::complete(const Outcome& o, bool raw_error) {
  FutureData& d = data();
  if (d.state.load(std::memory_order_acquire) >= u(CompletionState::Completed)) return false;
  StoredOutcome st = store_outcome(o);
  std::uint32_t s = d.state.load(std::memory_order_acquire);
  while ((s == u(CompletionState::Pending) || s == u(CompletionState::Running)) &&
         !d.state.compare_exchange_weak(s, kSetting, std::memory_order_acq_rel)) {
  }
  if (s != u(CompletionState::Pending) && s != u(CompletionState::Running)) {
    free_outcome(st);
    return false;
  }
  write_and_publish(d, st, o, raw_error);
  return true;
}

bool Future::complete_abandoned(const Outcome& o) {
  if (complete(o)) return true;
  FutureData& d = data();
  if (d.state.load(std::memory_order_acquire) != kSetting) return false;
  // A live completer publishes within microseconds; one that is still
  // claiming after this bound was the dead worker.
  if (wait(Deadline::after(0.05))) return false;
  StoredOutcome st = store_outcome(o);
  std::uint32_t s = kSetting;
  if (!d.state.compare_exchange_strong(s, kSetting, std::memory_order_acq_rel)) {
    free_outcome(st);
    return false;
  }
  // What the dead completer stored before it died is ours to free.
  free_outcome(StoredOutcome{d.values, d.text, d.traceback, d.worker});
  write_and_publish(d, st, o, false);
  return true;
}

bool Future::requeue() noexcept {
  std::uint32_t s = u(CompletionState::Running);
  if (data().state.compare_exchange_strong(s, u(CompletionState::Pending), std::memory_order_acq_rel)) {
    data().word.notify_all();
    return true;
  }
  return s == u(CompletionState::Pending);
}

bool Future::wait(const Deadline& deadline) {
  // A result a few microseconds away (a pool worker running a small task)
  // is found by spinning, without a futex sleep and wake (two system calls
  // and a context switch). Per thread, and adaptive: a thread whose futures
  // are seldom that close soon stops spinning.
  static thread_local AdaptiveSpin t_spin;
  if (done() || (!deadline.passed() && t_spin.spin([&] { return done(); }))) return true;
  return wait_until(data().word, deadline, [&] { return done(); });
}

Outcome Future::outcome() const {
  shm::tsan_handoff_acquire();
  const FutureData& d = data();
  Outcome o;
  o.state = state();
  if (d.values) {
    o.values = shm::load_message(d.values);
  } else {
    // Written by a completer that may be another process: a size beyond the
    // buffer is a corrupt record, not a read past it.
    if (d.inline_size > kInlineResult) throw Error(ErrorKind::TransferError, "corrupt inline future result");
    o.values.count = static_cast<int>(d.inline_count);
    o.values.bytes.assign(d.inline_bytes, d.inline_size);
  }
  o.text = load_string(d.text);
  o.traceback = load_string(d.traceback);
  o.worker = load_string(d.worker);
  o.failure_kind = static_cast<ErrorKind>(d.failure_kind);
  o.has_exitcode = d.has_exitcode != 0;
  o.exitcode = d.exitcode;
  return o;
}

void Future::watch(shm::Watcher* w) {
  FutureData& d = data();
  shm::RobustLock lk(d.watch_mutex);
  d.watchers.add(w);
  d.watched.store(1, std::memory_order_relaxed);
#if !defined(__SANITIZE_THREAD__)
  std::atomic_thread_fence(std::memory_order_seq_cst);  // (under TSan publish always locks)
#endif
  if (done()) shm::fire(*w);
}

void Future::unwatch(const shm::Watcher* w) noexcept {
  FutureData& d = data();
  shm::RobustLock lk(d.watch_mutex);
  d.watchers.remove(w);
}

bool Future::wait_many(std::span<Future* const> futs, const Deadline& deadline, const std::function<bool()>& pred) {
  if (futs.empty()) return pred();
  shm::Offset tree = futs[0]->data().tree;
  bool same = std::all_of(futs.begin(), futs.end(), [&](Future* f) { return f->data().tree == tree; });
  if (same && tree) return wait_until(shm::Arena::get().at<FutureTree>(tree)->word, deadline, pred);
  for (;;) {  // futures of different trees: sleep in slices
    if (pred()) return true;
    if (deadline.passed()) return false;
    Deadline slice = Deadline::after(0.05);
    futs[0]->wait(slice.at() < deadline.at() ? slice : deadline);
  }
}

void destroy_future(shm::SharedHeader* h) noexcept {
  shm::tsan_handoff_acquire();
  auto* d = reinterpret_cast<FutureData*>(h);
  shm::free_message(d->values);
  free_string(d->text);
  free_string(d->traceback);
  free_string(d->worker);
  d->watchers.release();
  d->watch_mutex.destroy();
  d->~FutureData();
}

namespace {
Object* make_proxy(shm::SharedHeader* h) { return new Future(h); }

// The cycle collector's view (shm/cycles.hpp): the shared objects among a
// completed future's results (a future whose result holds a queue holding
// the future). The outcome never changes once published, so no lock is
// needed; a future not yet completed refers to nothing (whoever is
// completing it holds it).
bool traverse(shm::SharedHeader* h, void (*visit)(void*, shm::Offset), void* ctx) noexcept {
  auto* d = reinterpret_cast<FutureData*>(h);
  std::uint32_t s = d->state.load(std::memory_order_acquire);
  if (s != u(CompletionState::Completed) && s != u(CompletionState::Failed)) return true;
  shm::tsan_handoff_acquire();  // an outcome another process stored
  if (d->values) shm::visit_message_refs(d->values, visit, ctx);
  return true;
}

const shm::RegisterSharedType kFutureType{shm::SharedType::Future, {destroy_future, make_proxy, traverse}};
}  // namespace

}  // namespace tide::future
