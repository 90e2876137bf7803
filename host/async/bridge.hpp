// Private to host/async: the helper thread that lets one wait end on a
// futex word and on descriptors together (see waiter.hpp). While armed with
// a sequence number, it sleeps on the word (wait_seq) and writes its
// eventfd as soon as the word has moved past that number; the loop polls its
// descriptors plus the eventfd. Disarming (or stopping) bumps the word so a
// sleeping bridge notices.
//
// The bridge and the loop share only atomics and the eventfd. A write that
// lands after the loop disarmed leaves the eventfd readable: the next poll
// returns at once and the loop finds nothing new (a spurious turn, never a
// lost one).
//
// Fork: the thread does not exist in a child. A Bridge made in another
// process is abandoned (never joined, its memory leaked) and a new one made.
#pragma once
#include <pthread.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>

#include "core/wait.hpp"

namespace tide::async {

class Bridge {
 public:
  // Starts the thread. Throws OSError.
  explicit Bridge(WaitWord& target);
  ~Bridge();  // stops and joins the thread (in the process that made it)
  Bridge(const Bridge&) = delete;
  Bridge& operator=(const Bridge&) = delete;

  int fd() const noexcept { return evfd_; }
  bool made_here() const noexcept;

  // Until disarm(): write the eventfd once target.seq != seen.
  void arm(std::uint32_t seen) noexcept;
  // Stops watching and empties the eventfd.
  void disarm() noexcept;

  // In a fork child: forget the thread (it is not there) without touching
  // it; the object must then be leaked, not destroyed.
  static void abandon(Bridge* b) noexcept;

 private:
  static void* main(void* self) noexcept;
  void run() noexcept;

  WaitWord& target_;
  WaitWord control_;  // bumped by arm() and the destructor
  std::atomic<std::uint32_t> seen_{0};
  std::atomic<std::uint32_t> armed_{0};
  std::atomic<bool> stop_{false};
  int evfd_ = -1;
  pid_t owner_;
  pthread_t thread_{};
};

}  // namespace tide::async
