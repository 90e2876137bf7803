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
  d.flag.store(1, std::memory_order_seq_cst);
  d.sets.fetch_add(1, std::memory_order_seq_cst);
  d.word.notify_all();
}

bool Event::wait(const Deadline& deadline) {
  EventData& d = data();
  std::uint32_t sets = d.sets.load(std::memory_order_seq_cst);
  return wait_until(d.word, deadline, [&] {
    return d.flag.load(std::memory_order_acquire) != 0 || d.sets.load(std::memory_order_acquire) != sets;
  });
}

}  // namespace tide::sync
