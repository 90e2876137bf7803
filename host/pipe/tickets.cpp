#include "pipe/tickets.hpp"

#include <sys/random.h>

#include <atomic>
#include <cerrno>

#include "core/error.hpp"
#include "shm/robust_mutex.hpp"
#include "shm/stored_message.hpp"

namespace tide::pipe::tickets {

namespace {

struct Ticket {
  shm::Offset next;
  std::uint64_t token;
  shm::Offset stored;
};

struct Channel {
  std::atomic<std::int64_t> refs{1};
  shm::RobustMutex mutex;  // guards the list; held for a few loads/stores
  shm::Offset head = 0;
};

shm::Arena& arena() { return shm::Arena::get(); }

// getrandom per token: a fork child must never repeat its parent's tokens.
std::uint64_t fresh_token() {
  std::uint64_t t = 0;
  while (t == 0) {
    if (getrandom(&t, sizeof t, 0) != static_cast<ssize_t>(sizeof t) && errno != EINTR)
      throw_os_error("getrandom", errno);
  }
  return t;
}

// Unlinks the ticket with `token` (mutex held); 0 if none.
shm::Offset unlink_locked(Channel* c, std::uint64_t token) noexcept {
  shm::Offset* link = &c->head;
  while (*link) {
    auto* t = arena().at<Ticket>(*link);
    if (t->token == token) {
      shm::Offset found = *link;
      *link = t->next;
      return found;
    }
    link = &t->next;
  }
  return 0;
}

}  // namespace

shm::Offset create_channel() {
  void* p = arena().alloc(sizeof(Channel));
  auto* c = new (p) Channel();
  c->mutex.init();
  return arena().offset_of(c);
}

void retain_channel(shm::Offset ch) noexcept {
  arena().at<Channel>(ch)->refs.fetch_add(1, std::memory_order_relaxed);
}

void release_channel(shm::Offset ch) noexcept {
  if (!ch) return;
  auto* c = arena().at<Channel>(ch);
  if (c->refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
  // Last reference: nobody else can reach the list any more.
  for (shm::Offset o = c->head; o;) {
    auto* t = arena().at<Ticket>(o);
    shm::Offset next = t->next;
    shm::free_message(t->stored);
    arena().free(t);
    o = next;
  }
  c->mutex.destroy();
  arena().free(c);
}

std::uint64_t deposit(shm::Offset ch, const Message& m) {
  shm::Offset stored = shm::store_message(m);
  Ticket* t;
  try {
    t = static_cast<Ticket*>(arena().alloc(sizeof(Ticket)));
  } catch (...) {
    shm::free_message(stored);
    throw;
  }
  t->stored = stored;
  auto* c = arena().at<Channel>(ch);
  std::uint64_t token;
  {
    shm::RobustLock lock(c->mutex);
    // Tokens are random; a repeat among the few filed ones is only
    // theoretically possible, and is re-drawn.
    for (;;) {
      token = fresh_token();
      bool taken = false;
      for (shm::Offset o = c->head; o && !taken; o = arena().at<Ticket>(o)->next)
        taken = arena().at<Ticket>(o)->token == token;
      if (!taken) break;
    }
    t->token = token;
    t->next = c->head;
    c->head = arena().offset_of(t);
  }
  return token;
}

Message redeem(shm::Offset ch, std::uint64_t token) {
  if (!ch) throw Error(ErrorKind::TransferError, "a message with tide objects arrived on a connection that cannot carry them");
  auto* c = arena().at<Channel>(ch);
  shm::Offset found;
  {
    shm::RobustLock lock(c->mutex);
    found = unlink_locked(c, token);
  }
  if (!found) throw Error(ErrorKind::TransferError, "unknown object ticket in a pipe message (corrupt or forged frame)");
  auto* t = arena().at<Ticket>(found);
  shm::Offset stored = t->stored;
  arena().free(t);
  struct Free {
    shm::Offset s;
    ~Free() { shm::free_message(s); }
  } release{stored};
  return shm::load_message(stored);
}

void cancel(shm::Offset ch, std::uint64_t token) noexcept {
  auto* c = arena().at<Channel>(ch);
  shm::Offset found;
  {
    shm::RobustLock lock(c->mutex);
    found = unlink_locked(c, token);
  }
  if (!found) return;  // already taken by a receiver
  auto* t = arena().at<Ticket>(found);
  shm::free_message(t->stored);
  arena().free(t);
}

}  // namespace tide::pipe::tickets
