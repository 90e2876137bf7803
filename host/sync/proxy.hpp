// Helpers shared by the sync and shared-value proxies: every data struct is
// standard layout with `shm::SharedHeader header` first, so the header
// pointer a SharedObject holds is also a pointer to the data.
#pragma once
#include <type_traits>
#include <utility>

#include "core/object.hpp"
#include "shm/shared.hpp"

namespace tide::sync {

template <class Data>
Data& data_of(const shm::SharedObject& o) noexcept {
  static_assert(std::is_standard_layout_v<Data>);
  return *reinterpret_cast<Data*>(o.shared_header());
}

template <class Data>
Data& data_at(shm::SharedHeader* h) noexcept {
  return *reinterpret_cast<Data*>(h);
}

// Creates the data in the arena and a proxy adopting its one reference.
template <class Proxy, class Data, class... A>
Ref<Proxy> make_shared_proxy(A&&... args) {
  Data* d = shm::create_shared<Data>(std::forward<A>(args)...);
  try {
    return Ref<Proxy>::adopt(new Proxy(&d->header));
  } catch (...) {
    shm::release_shared(&d->header);
    throw;
  }
}

// The header of a freshly constructed data struct of `type`.
inline void init_header(shm::SharedHeader& h, shm::SharedType type) noexcept { h.type = type; }

}  // namespace tide::sync
