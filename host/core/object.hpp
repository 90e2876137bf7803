// Base of every tide object that Lua can hold a handle to and that can be
// transferred between Lua states by reference. A Lua userdata is only a
// handle (bindings/support/userdata.hpp); the object lives as long as any
// handle, worker or message refers to it.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace tide {

class Object {
 public:
  Object() = default;
  Object(const Object&) = delete;
  Object& operator=(const Object&) = delete;
  virtual ~Object() = default;

  // The Lua metatable name of the handle type, e.g. "tide.Thread"; the
  // codec uses it to rebuild a handle in the receiving state.
  virtual const char* type_name() const noexcept = 0;

  // What makes two objects the same tide object: the object itself, or for
  // proxies of shared data, that data (a Lua state keeps one handle per
  // identity: runtime/handles.hpp).
  virtual const void* identity() const noexcept { return this; }
  // Bytes outside any Lua heap that a handle to this object keeps alive
  // (the object, its arena data). A new handle charges them to its state's
  // collector, which otherwise sees only the small userdata and lets
  // thousands of dead handles (a future per task) pile up in the arena.
  virtual std::size_t footprint() const noexcept { return 0; }

  void retain() const noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  void release() const noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

 private:
  mutable std::atomic<std::int64_t> refs_{1};
};

// Intrusive owning pointer. `Ref<T>::adopt(p)` takes over the reference a
// freshly constructed object starts with; copying retains.
template <class T>
class Ref {
 public:
  Ref() = default;
  static Ref adopt(T* p) noexcept { Ref r; r.p_ = p; return r; }
  static Ref share(T* p) noexcept {
    if (p) static_cast<const Object*>(p)->retain();
    return adopt(p);
  }
  template <class... A>
  static Ref make(A&&... a) { return adopt(new T(std::forward<A>(a)...)); }

  // Calls go through Object explicitly: a subclass method named release()
  // (a lock's) must never be mistaken for dropping a reference.
  Ref(const Ref& o) noexcept : p_(o.p_) { if (p_) static_cast<const Object*>(p_)->retain(); }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(Ref<U>&& o) noexcept : p_(o.detach()) {}
  Ref& operator=(Ref o) noexcept { std::swap(p_, o.p_); return *this; }
  ~Ref() { if (p_) static_cast<const Object*>(p_)->release(); }

  T* get() const noexcept { return p_; }
  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }
  explicit operator bool() const noexcept { return p_ != nullptr; }
  // Gives up ownership without releasing; the caller now owns the reference.
  T* detach() noexcept { return std::exchange(p_, nullptr); }

 private:
  T* p_ = nullptr;
};

}  // namespace tide
