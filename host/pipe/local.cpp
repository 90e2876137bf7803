#include "pipe/local.hpp"

#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "pipe/lane.hpp"

namespace tide::pipe {

namespace {

// A plain pthread mutex held across fork (prepare/parent/child), so a fork
// child never inherits it locked by a thread that does not exist there.
pthread_mutex_t g_mutex = PTHREAD_MUTEX_INITIALIZER;
auto* g_table = new std::unordered_map<shm::Offset, std::unique_ptr<Local>>();  // never freed: used at exit

void lock_table() noexcept { pthread_mutex_lock(&g_mutex); }
void unlock_table() noexcept { pthread_mutex_unlock(&g_mutex); }
AtFork g_at_fork{lock_table, unlock_table, unlock_table};

struct TableLock {
  TableLock() { lock_table(); }
  ~TableLock() { unlock_table(); }
};

bool same_file(int fd, const ConnData& d) noexcept {
  struct stat st;
  if (fd < 0 || fstat(fd, &st) != 0) return false;
  return static_cast<std::uint64_t>(st.st_dev) == d.dev && static_cast<std::uint64_t>(st.st_ino) == d.ino;
}

}  // namespace

void Local::close_fd() noexcept {
  if (!fd_closed.exchange(true, std::memory_order_acq_rel) && available) {
    ::close(fd);
    if (reader_closes) reader_closes->fetch_add(1, std::memory_order_release);
  }
}

void Local::close() noexcept {
  std::uint64_t prev = state.fetch_or(kClosed, std::memory_order_acq_rel);
  if (!(prev & kClosed) && prev == 0) close_fd();  // no use in progress: now
}

Local* attach_local(const ConnData& data, shm::Offset off, bool fresh) {
  TableLock lock;
  auto& slot = (*g_table)[off];
  if (!slot || fresh) {
    int proxies = slot && !fresh ? slot->proxies : 0;
    slot = std::make_unique<Local>();
    slot->fd = data.fd;
    slot->proxies = proxies;
    if (data.lane_in) slot->reader_closes = &lane::reader_closes(lane::at(data.lane_in));
    if (!fresh && !same_file(data.fd, data)) {
      slot->available = false;
      slot->fd_closed.store(true);
      log::debug("pipe: connection {} arrived without its descriptor {}", off, data.fd);
    }
  }
  ++slot->proxies;
  return slot.get();
}

void detach_local(shm::Offset off, Local* l) noexcept {
  TableLock lock;
  if (--l->proxies > 0) return;
  l->state.fetch_or(Local::kClosed, std::memory_order_acq_rel);
  l->close_fd();
  auto it = g_table->find(off);
  if (it != g_table->end() && it->second.get() == l) g_table->erase(it);
}

int local_descriptor(shm::Offset off) noexcept {
  TableLock lock;
  auto it = g_table->find(off);
  if (it == g_table->end() || !it->second->available || it->second->closed()) return -1;
  return it->second->fd;
}

bool adopt_local(const ConnData& data, Local* l, int fd) noexcept {
  TableLock lock;
  if (l->available || l->closed() || !same_file(fd, data)) {
    ::close(fd);
    return false;
  }
  l->fd = fd;  // this process's number for it, whatever the sender's was
  l->fd_closed.store(false, std::memory_order_relaxed);
  l->available.store(true, std::memory_order_release);
  return true;
}

FdUse::FdUse(Local* l) : l_(l) {
  if (!l->available)
    throw Error(ErrorKind::InvalidState,
                "this connection's descriptor is not open in this process (a connection reaches "
                "threads and processes forked after it was created)");
  std::uint64_t prev = l->state.fetch_add(1, std::memory_order_acq_rel);
  if (prev & Local::kClosed) {
    this->~FdUse();
    throw Error(ErrorKind::InvalidState, "the connection is closed");
  }
}

FdUse::~FdUse() {
  std::uint64_t now = l_->state.fetch_sub(1, std::memory_order_acq_rel) - 1;
  if (now == Local::kClosed) l_->close_fd();  // the last use after close()
}

}  // namespace tide::pipe
