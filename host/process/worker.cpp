#include "process/worker.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/log.hpp"
#include "process/child.hpp"
#include "process/forkserver.hpp"
#include "shm/arena.hpp"

namespace tide::process {

namespace {

bool parse_fd(const char* s, int& fd) {
  char* end = nullptr;
  errno = 0;
  long v = std::strtol(s, &end, 10);
  if (errno || end == s || *end || v < 0 || v > 1 << 30) return false;
  fd = static_cast<int>(v);
  return true;
}

int worker(int arena_fd, int pipe_fd) {
  ChildInfo info;
  std::size_t got = 0;
  while (got < sizeof info) {
    ssize_t n = read(pipe_fd, reinterpret_cast<char*>(&info) + got, sizeof info - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return kExitBadPayload;
    got += static_cast<std::size_t>(n);
  }
  close(pipe_fd);
  prepare_child(info.parent_pid);
  try {
    shm::Arena::adopt(arena_fd);
  } catch (const std::exception& e) {
    log::error("worker: {}", e.what());
    return kExitBadPayload;
  }
  return run_child(info, nullptr);
}

}  // namespace

bool run_hidden_mode(int argc, char** argv, int& status) {
  if (argc < 2) return false;
  bool is_worker = std::strcmp(argv[1], "--worker") == 0;
  bool is_server = std::strcmp(argv[1], "--forkserver") == 0;
  if (!is_worker && !is_server) return false;
  int a, b;
  if (argc != 4 || !parse_fd(argv[2], a) || !parse_fd(argv[3], b)) {
    std::fprintf(stderr, "tide: %s is internal to tide.process\n", argv[1]);
    status = 2;
    return true;
  }
  try {
    status = is_worker ? worker(a, b) : forkserver::serve(a, b);
  } catch (const std::exception& e) {
    log::error("{}: {}", argv[1], e.what());
    status = 2;
  }
  return true;
}

}  // namespace tide::process
