#include "thread/completion.hpp"

namespace tide {

bool Completion::start_running() noexcept {
  auto expected = CompletionState::Pending;
  return state_.compare_exchange_strong(expected, CompletionState::Running,
                                        std::memory_order_acq_rel);
}

bool Completion::finish(Outcome outcome) {
  std::lock_guard lock(m_);
  if (done()) return false;
  outcome_ = std::move(outcome);
  state_.store(outcome_.state, std::memory_order_release);
  word_.notify_all();
  for (shm::Watcher* w : watchers_) shm::fire(*w);
  return true;
}

bool Completion::cancel_pending() {
  std::lock_guard lock(m_);
  if (state() != CompletionState::Pending) return false;
  // Nobody reads outcome_ before the state is final, so it may be written
  // ahead of the CAS that decides whether the runner started first.
  outcome_ = Outcome{CompletionState::Cancelled, {}, {}, {}};
  auto expected = CompletionState::Pending;
  if (!state_.compare_exchange_strong(expected, CompletionState::Cancelled,
                                      std::memory_order_acq_rel)) {
    outcome_ = Outcome{};
    return false;
  }
  word_.notify_all();
  for (shm::Watcher* w : watchers_) shm::fire(*w);
  return true;
}

void Completion::watch(shm::Watcher* w) {
  std::lock_guard lock(m_);
  watchers_.push_back(w);
  if (done()) shm::fire(*w);
}

void Completion::unwatch(const shm::Watcher* w) noexcept {
  std::lock_guard lock(m_);
  for (auto it = watchers_.begin(); it != watchers_.end(); ++it) {
    if (*it == w) {
      watchers_.erase(it);
      return;
    }
  }
}

bool Completion::wait(const Deadline& deadline) {
  return wait_until(word_, deadline, [this] { return done(); });
}

}  // namespace tide
