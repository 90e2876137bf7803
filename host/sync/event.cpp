#include "sync/event.hpp"

#include "sync/proxy.hpp"

namespace tide::sync {

namespace {
const shm::RegisterSharedType kEventType{shm::SharedType::Event, {shm::no_data_destructor, shm::proxy_of<Event>}};
}  // namespace

Ref<Event> Event::create() { return make_shared_proxy<Event, EventData>(); }

EventData& Event::data() const noexcept { return data_of<EventData>(*this); }

void Event::set() noexcept {
  EventData& d = data();
  std::uint32_t s = d.state.load(std::memory_order_relaxed);
  while (!d.state.compare_exchange_weak(s, (s + EventData::kOneSet) | EventData::kFlag, std::memory_order_seq_cst)) {
  }
  d.word.notify_all();
}

bool Event::wait(const Deadline& deadline) {
  EventData& d = data();
  std::uint32_t sets = d.state.load(std::memory_order_seq_cst) >> 1;
  return wait_until(d.word, deadline, [&] {
    std::uint32_t s = d.state.load(std::memory_order_acquire);
    return (s & EventData::kFlag) != 0 || (s >> 1) != sets;
  });
}

}  // namespace tide::sync
