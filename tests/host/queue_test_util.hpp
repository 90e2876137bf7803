// Helpers shared by the queue unit tests (queue_test.cpp,
// queue_process_test.cpp): raw-byte items, error kinds, fork children.
#pragma once
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "core/error.hpp"
#include "core/wait.hpp"
#include "queue/priority_key.hpp"
#include "queue/queue.hpp"
#include "queue/queue_data.hpp"
#include "test_util.hpp"

namespace queue_test {

using tide::Deadline;
using tide::ErrorKind;
using tide::Ref;
using namespace tide::queue;

constexpr int kScale = test_util::kSanitized ? 10 : 1;

inline Deadline now() { return Deadline::after(0); }
inline Deadline never() { return Deadline::never(); }

inline Item item(const std::string& s) { return Item::from_bytes(s); }
inline std::string text(const Item& i) { return std::string(i.bytes()); }

inline Item num(std::uint64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);
  return Item::from_bytes({b, 8});
}
inline std::uint64_t num_of(const Item& i) {
  std::uint64_t v = 0;
  std::memcpy(&v, i.bytes().data(), 8);
  return v;
}

inline Item prio(std::int64_t p, const std::string& data) {
  KeyBuilder kb;
  kb.open();
  kb.add_int(p);
  kb.opaque();
  Item i = item(data);
  i.set_key(kb.take());
  return i;
}

template <class F>
inline ErrorKind thrown(F&& f) {
  try {
    f();
  } catch (const tide::Error& e) {
    return e.kind();
  }
  FAIL_CHECK("did not throw");
  return ErrorKind::OSError;
}

// Runs `body` in a fork child, which exits 0 on success.
template <class F>
inline pid_t fork_child(F&& body) {
  pid_t pid = fork();
  if (pid == 0) {
    int code = 0;
    try {
      code = body();
    } catch (...) {
      code = 3;
    }
    _exit(code);
  }
  REQUIRE(pid > 0);
  return pid;
}

inline int wait_exit(pid_t pid) {
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

}  // namespace queue_test

