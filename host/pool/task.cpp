#include "pool/task.hpp"

#include <unistd.h>

#include <new>
#include <utility>

#include "core/error.hpp"
#include "shm/stored_message.hpp"

namespace tide::pool {

namespace {

shm::Arena& arena() { return shm::Arena::get(); }

// Ids stay unique across fork: a fork child that makes its own pools
// numbers its functions in its own range.
std::uint64_t next_function_id() {
  static std::atomic<std::uint32_t> counter{0};
  return (std::uint64_t(static_cast<std::uint32_t>(getpid())) << 32) | (counter.fetch_add(1) + 1);
}

shm::Offset store_function(const FunctionBlob& blob) {
  shm::Offset msg = shm::store_message(blob.message);
  void* mem;
  try {
    mem = arena().alloc(sizeof(StoredFunction));
  } catch (...) {
    shm::free_message(msg);
    throw;
  }
  auto* f = new (mem) StoredFunction;
  f->id = blob.cacheable ? next_function_id() : 0;
  f->message = msg;
  shm::tsan_handoff_release();  // a worker process may free this block and its next user be here
  return arena().offset_of(f);
}

// A Local task is made by the submitting thread and freed by a worker, so
// with glibc the submitter's malloc cache is always empty (the frees fill
// the workers'): every submit took malloc's slow path and its arena lock.
// A freed task's memory goes on a stack instead, which a submitter takes
// whole (an exchange: no ABA) into a list of its own.
struct TaskNode {
  alignas(Task) unsigned char storage[sizeof(Task)];
  TaskNode* next;
};
std::atomic<TaskNode*> g_free_tasks{nullptr};
constexpr int kKeepTasks = 1024;  // a submitter keeps at most this many spare

struct SpareTasks {
  TaskNode* head = nullptr;
  ~SpareTasks() {
    while (head) delete std::exchange(head, head->next);
  }
  TaskNode* take() {
    if (!head) {
      head = g_free_tasks.exchange(nullptr, std::memory_order_acquire);
      // Beyond the spares kept, give the memory back.
      TaskNode* n = head;
      for (int i = 1; n && i < kKeepTasks; ++i) n = n->next;
      if (n) {
        TaskNode* rest = std::exchange(n->next, nullptr);
        while (rest) delete std::exchange(rest, rest->next);
      }
    }
    if (!head) return new TaskNode;
    return std::exchange(head, head->next);
  }
};
thread_local SpareTasks t_spare_tasks;

void give_back(TaskNode* n) noexcept {
  n->next = g_free_tasks.load(std::memory_order_relaxed);
  while (!g_free_tasks.compare_exchange_weak(n->next, n, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

Task* local_task(const TaskRecord& r) noexcept {
  return std::launder(reinterpret_cast<Task*>(reinterpret_cast<TaskNode*>(r.args)->storage));
}

}  // namespace

FunctionBlob::~FunctionBlob() {
  if (shm::Offset f = stored_.load(std::memory_order_acquire)) release_function(f);
}

shm::Offset FunctionBlob::shared() const {
  shm::Offset f = stored_.load(std::memory_order_acquire);
  if (!f) {
    shm::Offset fresh = store_function(*this);
    if (stored_.compare_exchange_strong(f, fresh, std::memory_order_acq_rel)) {
      f = fresh;
    } else {
      release_function(fresh);  // another submitter stored it first
    }
  }
  retain_function(f);
  return f;
}

void retain_function(shm::Offset f) noexcept {
  arena().at<StoredFunction>(f)->refs.fetch_add(1, std::memory_order_relaxed);
}

void release_function(shm::Offset f) noexcept {
  if (!f) return;
  auto* sf = arena().at<StoredFunction>(f);
  if (sf->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) {
    shm::tsan_handoff_release();  // the last reference may be dropped in another process
    return;
  }
  shm::tsan_handoff_acquire();
  shm::free_message(sf->message);
  sf->~StoredFunction();
  arena().free(sf);
}

TaskRecord local_record(Task task) {
  TaskRecord r;
  r.local = 1;
  TaskNode* n = t_spare_tasks.take();
  new (n->storage) Task(std::move(task));
  r.args = reinterpret_cast<std::uint64_t>(n);
  return r;
}

TaskRecord stored_record(const Ref<future::Future>& future, const FunctionBlob& fn, const Message& args) {
  TaskRecord r;
  r.args = shm::store_message(args);
  try {
    r.fn = fn.shared();
  } catch (...) {
    shm::free_message(r.args);
    throw;
  }
  shm::retain_shared(future->shared_header());
  r.future = future->offset();
  return r;
}

Task open_record(const TaskRecord& r, std::atomic<std::uint32_t>* ledger) {
  if (r.local) return std::move(*local_task(r));
  Task t;
  auto* h = arena().at<shm::SharedHeader>(r.future);
  if (!h || h->type != shm::SharedType::Future) throw Error(ErrorKind::TransferError, "a pool task's future is not a Future");
  shm::retain_shared(h);
  if (ledger) ledger->store(1, std::memory_order_release);
  t.future = Ref<future::Future>::adopt(new future::Future(h));
  t.stored_fn = r.fn;
  t.args = shm::load_message(r.args);
  return t;
}

Ref<future::Future> future_of(const TaskRecord& r) {
  if (r.local) return local_task(r)->future;
  Ref<Object> obj = shm::proxy_for(r.future);
  return Ref<future::Future>::share(dynamic_cast<future::Future*>(obj.get()));
}

void close_record(const TaskRecord& r) noexcept {
  if (r.local) {
    local_task(r)->~Task();
    give_back(reinterpret_cast<TaskNode*>(r.args));
    return;
  }
  shm::free_message(r.args);
  release_function(r.fn);
  if (r.future) shm::release_shared(arena().at<shm::SharedHeader>(r.future));
}

}  // namespace tide::pool
