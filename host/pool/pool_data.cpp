#include "pool/pool_data.hpp"

#include <time.h>

#include <cstring>
#include <new>

#include "core/error.hpp"

namespace tide::pool {

namespace {

constexpr std::uint32_t kInitialLog2 = 6;  // 64 records (2 KiB)

shm::Arena& arena() {
  static shm::Arena& a = shm::Arena::get();
  return a;
}

std::int64_t now_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

TaskRecord* ring_at(const PoolData& d, std::uint64_t pos) noexcept {
  auto* r = arena().at<TaskRecord>(d.ring);
  return r + (pos & ((std::uint64_t(1) << d.cap_log2) - 1));
}

void destroy(shm::SharedHeader* h) noexcept {
  auto* d = reinterpret_cast<PoolData*>(h);
  // Records still queued belong to nobody now; their futures' last
  // references are dropped by whoever frees them (the pool core drains the
  // ring before it lets go of this object).
  if (d->ring) arena().free(arena().at<void>(d->ring));
  if (d->slots) arena().free(arena().at<void>(d->slots));
  d->m.destroy();
  d->~PoolData();
}

Object* make_proxy(shm::SharedHeader* h) { return new PoolShared(h); }

const shm::RegisterSharedType kPoolType{shm::SharedType::Pool, {destroy, make_proxy}};

}  // namespace

// Takes PoolData::m. When its previous holder died (a worker killed in the
// middle of take()), its slot may name the record at `head` without the
// take having committed: that record is still queued, so the slot lets go.
class PoolShared::Lock {
 public:
  explicit Lock(const PoolShared& p) : p_(p), d_(p.data()) {
    if (d_.m.lock()) repair();
  }
  ~Lock() { d_.m.unlock(); }
  Lock(const Lock&) = delete;
  Lock& operator=(const Lock&) = delete;

 private:
  void repair() noexcept {
    std::uint64_t head = d_.head.load(std::memory_order_acquire);
    for (std::uint32_t i = 0; i < d_.nslots; ++i) {
      WorkerSlot& s = p_.slot(static_cast<int>(i));
      if (s.holding && s.pos >= head) s.holding = 0;
    }
  }
  const PoolShared& p_;
  PoolData& d_;
};

Ref<PoolShared> PoolShared::create(int nslots, int max_tasks) {
  auto* d = shm::create_shared<PoolData>();
  d->m.init();
  d->max_tasks = max_tasks;
  Ref<PoolShared> p = Ref<PoolShared>::adopt(new PoolShared(&d->header));
  if (nslots > 0) {
    void* mem = arena().alloc(sizeof(WorkerSlot) * static_cast<std::size_t>(nslots));
    auto* slots = static_cast<WorkerSlot*>(mem);
    for (int i = 0; i < nslots; ++i) new (slots + i) WorkerSlot;
    d->slots = arena().offset_of(mem);
    d->nslots = static_cast<std::uint32_t>(nslots);
  }
  return p;
}

WorkerSlot& PoolShared::slot(int i) const noexcept { return arena().at<WorkerSlot>(data().slots)[i]; }

PoolShared::Pushed PoolShared::push(const TaskRecord& r, bool requeue) {
  PoolData& d = data();
  {
    Lock lock(*this);
    std::uint32_t f = d.flags.load(std::memory_order_relaxed);
    if (f & kBroken) return Pushed::Broken;
    if ((f & kTerminate) || ((f & kShutdown) && !requeue)) return Pushed::Shutdown;
    std::uint64_t head = d.head.load(std::memory_order_relaxed);
    if (!d.ring || d.tail - head == (std::uint64_t(1) << d.cap_log2)) {
      // Grow (only the pool's own process pushes, so only it grows).
      std::uint32_t nlog = d.ring ? d.cap_log2 + 1 : kInitialLog2;
      auto* fresh = static_cast<TaskRecord*>(arena().alloc(sizeof(TaskRecord) << nlog));
      std::uint64_t mask = (std::uint64_t(1) << nlog) - 1;
      for (std::uint64_t pos = head; pos != d.tail; ++pos) fresh[pos & mask] = *ring_at(d, pos);
      shm::Offset old = d.ring;
      d.ring = arena().offset_of(fresh);
      d.cap_log2 = nlog;
      if (old) arena().free(arena().at<void>(old));
    }
    *ring_at(d, d.tail) = r;
    ++d.tail;
    d.queued.store(d.tail - head, std::memory_order_relaxed);
  }
  d.work.notify_one();
  return Pushed::Ok;
}

std::optional<TaskRecord> PoolShared::take(int slot) {
  PoolData& d = data();
  std::optional<TaskRecord> t;
  // True when this worker is done waiting: it took a record, or the pool
  // stopped for it.
  auto grab = [&] {
    Lock lock(*this);
    std::uint64_t head = d.head.load(std::memory_order_relaxed);
    std::uint32_t f = d.flags.load(std::memory_order_relaxed);
    if (head != d.tail && !(f & (kTerminate | kBroken))) {
      t.emplace(*ring_at(d, head));
      if (slot >= 0) {
        WorkerSlot& s = this->slot(slot);
        s.current = *t;
        s.pos = head;
        s.holding = 1;
        s.started_ns.store(now_ns(), std::memory_order_relaxed);
        s.task_seq.fetch_add(1, std::memory_order_release);
        s.state.store(static_cast<std::uint32_t>(SlotState::Busy), std::memory_order_release);
      }
      d.head.store(head + 1, std::memory_order_release);  // the commit
      d.queued.store(d.tail - head - 1, std::memory_order_relaxed);
      return true;
    }
    return f != 0;
  };
  auto ready = [&] {
    return d.queued.load(std::memory_order_relaxed) > 0 || d.flags.load(std::memory_order_relaxed) != 0;
  };
  bool waited = false;
  try {
    while (!grab()) {
      waited = true;
      d.work.wait(Deadline::never(), ready);
    }
  } catch (const Error&) {
    // Cancelled: terminate() stops idle thread workers this way.
  }
  // The baton: a push that found a wake-up already on its way woke nobody.
  if (t && waited && d.queued.load(std::memory_order_relaxed) > 0) d.work.pass_on();
  return t;
}

void PoolShared::release_held(int slot) noexcept {
  if (slot < 0) return;
  WorkerSlot& s = this->slot(slot);
  Lock lock(*this);
  s.holding = 0;
  s.state.store(static_cast<std::uint32_t>(SlotState::Idle), std::memory_order_release);
}

std::optional<TaskRecord> PoolShared::recover(int slot) noexcept {
  WorkerSlot& s = this->slot(slot);
  Lock lock(*this);
  if (!s.holding) return std::nullopt;
  s.holding = 0;
  // pos < head always holds here: an uncommitted take was repaired by Lock.
  return s.current;
}

std::vector<TaskRecord> PoolShared::stop(std::uint32_t flags, bool drain) {
  PoolData& d = data();
  std::vector<TaskRecord> out;
  {
    Lock lock(*this);
    d.flags.fetch_or(flags, std::memory_order_release);
    if (drain) {
      std::uint64_t head = d.head.load(std::memory_order_relaxed);
      out.reserve(d.tail - head);
      for (std::uint64_t pos = head; pos != d.tail; ++pos) out.push_back(*ring_at(d, pos));
      d.head.store(d.tail, std::memory_order_release);
      d.queued.store(0, std::memory_order_relaxed);
    }
  }
  d.work.notify_all();
  return out;
}

}  // namespace tide::pool
