#include "shm/cycles.hpp"

#include <algorithm>
#include <atomic>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/log.hpp"
#include "shm/robust_mutex.hpp"

namespace tide::shm {

namespace {

void drain() noexcept;

// Objects walked by a collection from which this thread waits for more
// roots (see CycleCollector): smaller walks run at once.
constexpr std::size_t kBigWalk = 256;

// Offered references this thread owns, not yet collected. Collected when
// the thread ends, too (a thread_local destructor, which runs for every
// thread that ends, not for _exit: release_process_references flushes).
// A fork child inherits a copy of the forking thread's, whose references
// stay the parent's: the child forgets its copy (forget_after_fork).
struct Pending {
  std::vector<SharedHeader*> roots;
  std::size_t threshold = 1;  // collect once this many are pending
  ~Pending();
};
thread_local Pending t_pending;
thread_local int t_defer = 0;                       // Defer nesting
thread_local bool t_collecting = false;              // inside drain()
// While the collector destroys a garbage group: its members, whose
// releases are plain decrements (the collector frees their blocks).
thread_local const std::unordered_set<SharedHeader*>* t_dying = nullptr;

std::atomic<std::uint64_t> g_freed{0};
std::atomic<std::uint64_t> g_abandoned{0};

bool traversable(const SharedHeader* h) noexcept {
  const SharedTypeInfo* info = shared_type_info(h->type);
  return info && info->traverse;
}

// One collection's view of the objects it looks at.
class Collection {
 public:
  explicit Collection(Arena& a) : arena_(a) {}

  // Each entry of `roots` is one reference the caller hands over (to
  // drop_holds() if this throws: roots_taken() of them are recorded).
  void run(const std::vector<SharedHeader*>& roots) {
    for (SharedHeader* r : roots) {
      add(r, /*retain=*/false);
      ++roots_taken_;
    }
    discover();
    for (Node& n : nodes_) n.word = n.h->refs.load(std::memory_order_acquire);  // B
    enumerate();                                                                // C
    bool changed = false;                                                       // D
    for (Node& n : nodes_)
      if (n.h->refs.load(std::memory_order_acquire) != n.word) changed = n.busy = true;
    if (changed) g_abandoned.fetch_add(1, std::memory_order_relaxed);
    std::vector<std::uint32_t> dead = garbage();
    free_group(dead);
    drop_holds();
  }

  std::size_t roots_taken() const noexcept { return roots_taken_; }
  // Objects walked that are still alive (walking garbage costs nothing
  // extra: each object is freed once).
  std::size_t live_walked() const noexcept { return nodes_.size() - freed_; }

  // On failure part-way: every hold taken so far is dropped.
  void drop_holds() noexcept {
    for (Node& n : nodes_)
      for (; n.holds > 0; --n.holds) drop_shared(n.h);
  }

 private:
  struct Node {
    SharedHeader* h;
    std::uint32_t holds = 0;  // references this collection owns
    std::uint64_t word = 0;   // refs as read in step B
    bool busy = false;        // its lock was taken: reachable
    std::vector<std::uint32_t> refs;  // step C: the objects its data refers to
  };

  std::uint32_t add(SharedHeader* h, bool retain) {
    // Room first, so that the index never names a missing node.
    if (nodes_.size() == nodes_.capacity()) nodes_.reserve(std::max<std::size_t>(16, 2 * nodes_.size()));
    auto [it, fresh] = index_.try_emplace(h, static_cast<std::uint32_t>(nodes_.size()));
    if (fresh) nodes_.push_back(Node{h});
    if (retain) retain_shared(h);
    ++nodes_[it->second].holds;
    return it->second;
  }

  // The shared object at `off`, or null if the offset names none.
  SharedHeader* object_at(Offset off) const noexcept {
    if (!arena_.is_block(off, sizeof(SharedHeader))) return nullptr;
    auto* h = arena_.at<SharedHeader>(off);
    return h->magic == kSharedMagic ? h : nullptr;
  }

  // Step A. A reference found under the container's lock is alive (the
  // item holding it cannot be dropped meanwhile), so retaining it is safe.
  void discover() {
    struct Ctx {
      Collection* self;
      bool failed = false;
    };
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      SharedHeader* h = nodes_[i].h;
      if (!traversable(h)) continue;
      Ctx ctx{this};
      shared_type_info(h->type)->traverse(
          h,
          [](void* p, Offset off) {
            auto* c = static_cast<Ctx*>(p);
            SharedHeader* child = c->self->object_at(off);
            if (!child || c->self->index_.count(child)) return;
            try {
              c->self->add(child, /*retain=*/true);
            } catch (...) {  // no memory: this collection cannot finish
              c->failed = true;
            }
          },
          &ctx);
      if (ctx.failed) throw std::bad_alloc();
    }
  }

  // Step C.
  void enumerate() {
    struct Ctx {
      Collection* self;
      Node* node;
      bool failed = false;
    };
    for (Node& n : nodes_) {
      if (!traversable(n.h)) continue;
      Ctx ctx{this, &n};
      bool ok = shared_type_info(n.h->type)->traverse(
          n.h,
          [](void* p, Offset off) {
            auto* c = static_cast<Ctx*>(p);
            SharedHeader* child = c->self->object_at(off);
            if (!child) return;
            auto it = c->self->index_.find(child);
            // A reference that was not there in step A: someone changed the
            // container, so someone holds it.
            if (it == c->self->index_.end()) {
              c->node->busy = true;
              return;
            }
            try {
              c->node->refs.push_back(it->second);
            } catch (...) {
              c->failed = true;
            }
          },
          &ctx);
      if (ctx.failed) throw std::bad_alloc();
      if (!ok) n.busy = true;
    }
  }

  // Trial deletion: what is left of each count once the references from
  // the arena data seen in step C (and the collector's holds) are taken
  // away is held from outside; those objects and all they reach live.
  std::vector<std::uint32_t> garbage() {
    std::vector<std::int64_t> outside(nodes_.size());
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      outside[i] = std::int64_t(ref_count(nodes_[i].word)) - nodes_[i].holds;
    for (const Node& n : nodes_)
      for (std::uint32_t c : n.refs) --outside[c];
    std::vector<char> live(nodes_.size(), 0);
    std::vector<std::uint32_t> work;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i) {
      // Below zero cannot happen with a stable count; if it does, keep all.
      if (outside[i] < 0 && !nodes_[i].busy) return {};
      if (outside[i] > 0 || nodes_[i].busy) {
        live[i] = 1;
        work.push_back(i);
      }
    }
    while (!work.empty()) {
      std::uint32_t i = work.back();
      work.pop_back();
      for (std::uint32_t c : nodes_[i].refs)
        if (!live[c]) {
          live[c] = 1;
          work.push_back(c);
        }
    }
    std::vector<std::uint32_t> dead;
    for (std::uint32_t i = 0; i < nodes_.size(); ++i)
      if (!live[i]) dead.push_back(i);
    return dead;
  }

  // Step E. Nothing outside the group refers to it, and nothing can again.
  // Each member gets one more reference first, so that the members'
  // destructors dropping each other's references never bring one to zero
  // (which would destroy it a second time); afterwards each holds exactly
  // that one and the collector's holds, and its block is freed directly.
  void free_group(const std::vector<std::uint32_t>& dead) {
    if (dead.empty()) return;
    std::unordered_set<SharedHeader*> members;
    members.reserve(dead.size());
    for (std::uint32_t i : dead) members.insert(nodes_[i].h);
    for (std::uint32_t i : dead) retain_shared(nodes_[i].h);
    tsan_handoff_acquire();  // their data may have been written by other processes
    t_dying = &members;
    for (std::uint32_t i : dead) {
      SharedHeader* h = nodes_[i].h;
      if (const SharedTypeInfo* info = shared_type_info(h->type)) info->destroy(h);
    }
    t_dying = nullptr;
    for (std::uint32_t i : dead) {
      Node& n = nodes_[i];
      std::uint32_t left = ref_count(n.h->refs.load(std::memory_order_acquire));
      std::uint32_t expected = 1 + n.holds;
      n.holds = 0;  // consumed here, whatever happens
      if (left != expected) {
        // Cannot happen (the snapshot said these were all the references);
        // leaking the block is safer than freeing what someone holds.
        try {
          log::warn("shared arena: a cycle member kept {} references after collection", left);
        } catch (...) {
        }
        continue;
      }
      arena_.free(n.h);
      ++freed_;
      g_freed.fetch_add(1, std::memory_order_relaxed);
    }
  }

  Arena& arena_;
  std::size_t roots_taken_ = 0;
  std::size_t freed_ = 0;
  std::vector<Node> nodes_;
  std::unordered_map<SharedHeader*, std::uint32_t> index_;
};

void drain() noexcept {
  t_collecting = true;
  Arena& a = Arena::get();
  std::size_t walked = 0;
  while (!t_pending.roots.empty()) {
    std::vector<SharedHeader*> roots;
    roots.swap(t_pending.roots);
    Collection c(a);
    RobustLock lock(a.cycle_mutex());
    try {
      c.run(roots);
    } catch (...) {  // no memory for the collector's lists: give the references back
      c.drop_holds();
      for (std::size_t i = c.roots_taken(); i < roots.size(); ++i) drop_shared(roots[i]);
    }
    walked += c.live_walked();
  }
  // A big walk over live objects is not repeated before a quarter as many
  // roots are pending: building a long chain by prepending to it would walk
  // it at every step.
  t_pending.threshold = walked >= kBigWalk ? walked / 4 : 1;
  t_collecting = false;
}

Pending::~Pending() {
  if (!roots.empty() && !t_collecting) drain();
}

}  // namespace

bool CycleCollector::offer(SharedHeader* h) noexcept {
  if (!traversable(h)) return false;
  if (t_dying && t_dying->count(h)) return false;
  // The last reference is simply dropped; one a proxy holds is offered when
  // that proxy goes.
  if (ref_count(h->refs.load(std::memory_order_acquire)) <= 1) return false;
  if (h->proxies.load(std::memory_order_acquire) != 0) return false;
  try {
    t_pending.roots.push_back(h);
  } catch (...) {
    return false;
  }
  if (t_defer == 0 && !t_collecting && t_pending.roots.size() >= t_pending.threshold) drain();
  return true;
}

void CycleCollector::forget_after_fork() noexcept {
  t_pending.roots.clear();
  t_pending.threshold = 1;
}

void CycleCollector::flush() noexcept {
  if (t_defer == 0 && !t_collecting && !t_pending.roots.empty()) drain();
}

CycleCollector::Defer::Defer() noexcept { ++t_defer; }

CycleCollector::Defer::~Defer() {
  if (--t_defer == 0 && !t_collecting && t_pending.roots.size() >= t_pending.threshold) drain();
}

std::uint64_t CycleCollector::freed() noexcept { return g_freed.load(std::memory_order_relaxed); }
std::uint64_t CycleCollector::abandoned() noexcept { return g_abandoned.load(std::memory_order_relaxed); }

}  // namespace tide::shm
