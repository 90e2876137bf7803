#include "cluster/worker.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cmath>
#include <sstream>

#include "cluster/link.hpp"
#include "cluster/worker_shared.hpp"
#include "core/error.hpp"
#include "core/log.hpp"

namespace tide::cluster {

namespace {

constexpr int kPruneEvery = 60;                          // beats between prunes of the workers hash
constexpr std::int64_t kStaleWorkerMs = 10 * 60 * 1000;  // a process silent this long is forgotten

UniqueFd new_eventfd() {
  UniqueFd fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!fd) throw_os_error("eventfd", errno);
  return fd;
}

void signal_fd(const UniqueFd& fd) noexcept {
  std::uint64_t one = 1;
  ssize_t n = write(fd.get(), &one, sizeof one);
  (void)n;
}

std::string ms_text(double seconds) {
  return std::to_string(std::max<long long>(1, std::llround(seconds * 1000)));
}

// Records this process in the workers hash and keeps the tasks its loops
// run from looking abandoned (XCLAIM JUSTID resets their idle time).
class Heartbeat final : public ThreadBody {
 public:
  explicit Heartbeat(std::shared_ptr<WorkerShared> s) : s_(std::move(s)) {}

  Outcome run(Thread&) noexcept override {
    WorkerShared& s = *s_;
    Link link(s.opt.url, {s.opt.timeout, s.hard_stop.get()}, "worker " + s.label + " heartbeat");
    const std::string every = ms_text(s.opt.heartbeat);
    try {
      for (int beat = 0;; ++beat) {
        try {
          beat_once(link.get(), every, beat % kPruneEvery == kPruneEvery - 1);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::OSError) throw;
          link.lost(e);
        }
        // Beats go on while loops finish their tasks after a graceful stop.
        if (wait_until(s.word, Deadline::after(s.opt.heartbeat), [&] {
              std::lock_guard lock(s.m);
              return s.loops_left == 0;
            }))
          break;
      }
    } catch (const std::exception& e) {
      log::debug("heartbeat stopped: {}", e.what());
    }
    try {  // leave the workers hash: the client's count drops at once
      auto r = Redis::connect(s.opt.url, {std::min(s.opt.timeout, 2.0), -1});
      r->call({"HDEL", s.keys.workers, s.label});
    } catch (const std::exception& e) {
      log::debug("heartbeat: could not leave the workers hash: {}", e.what());
    }
    s.finished.store(true);
    if (s.opt.done_fd >= 0) {
      std::uint64_t one = 1;
      ssize_t n = write(s.opt.done_fd, &one, sizeof one);
      (void)n;
    }
    return Outcome{};
  }

 private:
  void beat_once(Redis& r, const std::string& every, bool prune) {
    WorkerShared& s = *s_;
    std::string value = std::to_string(unix_ms()) + " " + std::to_string(s.opt.concurrency) + " " + every;
    r.append({"HSET", s.keys.workers, s.label, value});
    std::vector<std::pair<std::string, std::string>> claims;  // consumer, id
    {
      std::lock_guard lock(s.m);
      for (std::size_t i = 0; i < s.running.size(); ++i)
        if (!s.running[i].empty()) claims.emplace_back(s.label + ":" + std::to_string(i), s.running[i]);
    }
    for (auto& [consumer, id] : claims)
      r.append({"XCLAIM", s.keys.tasks, kGroup, consumer, "0", id, "JUSTID"});
    if (prune) r.append({"HGETALL", s.keys.workers});
    r.read().ok("HSET");
    for (std::size_t i = 0; i < claims.size(); ++i) r.read();
    if (prune) prune_stale(r, r.read());
  }

  void prune_stale(Redis& r, const Reply& all) {
    std::int64_t now = unix_ms();
    std::vector<std::string_view> cmd = {"HDEL", s_->keys.workers};
    for (std::size_t i = 0; i + 1 < all.elements.size(); i += 2) {
      std::istringstream in(all.elements[i + 1].str);
      std::int64_t at = 0;
      in >> at;
      if (now - at > kStaleWorkerMs) cmd.push_back(all.elements[i].str);
    }
    if (cmd.size() > 2) {
      r.append(cmd);
      r.read();
    }
  }

  std::shared_ptr<WorkerShared> s_;
};

}  // namespace

WorkerShared::WorkerShared(WorkerOptions o)
    : opt(std::move(o)),
      keys(opt.queue),
      label(process_label()),
      min_idle_ms(ms_text(opt.heartbeat * kMissedBeats)),
      idle_stop(new_eventfd()),
      hard_stop(new_eventfd()),
      running(static_cast<std::size_t>(opt.concurrency)),
      loops_left(opt.concurrency) {}

void WorkerShared::set_running(int loop, const std::string& id) {
  std::lock_guard lock(m);
  running[static_cast<std::size_t>(loop)] = id;
}

void WorkerShared::loop_ended() {
  {
    std::lock_guard lock(m);
    --loops_left;
  }
  word.notify_all();
}

std::unique_ptr<ThreadBody> make_heartbeat(std::shared_ptr<WorkerShared> shared) {
  return std::make_unique<Heartbeat>(std::move(shared));
}

WorkerSet::WorkerSet(WorkerOptions options) : shared_(std::make_shared<WorkerShared>(std::move(options))) {}

WorkerSet::~WorkerSet() {
  stop(true);
  wait(Deadline::after(5));
}

const std::string& WorkerSet::label() const noexcept { return shared_->label; }

void WorkerSet::start() {
  WorkerShared& s = *shared_;
  {  // Reach Redis first: a wrong URL or key fails the command at once.
    auto r = Redis::connect(s.opt.url, {s.opt.timeout, s.hard_stop.get()});
    Reply group = r->call({"XGROUP", "CREATE", s.keys.tasks, kGroup, "0", "MKSTREAM"});
    if (group.is_error() && group.str.rfind("BUSYGROUP", 0) != 0) group.ok("XGROUP CREATE");
  }
  for (int i = 0; i < s.opt.concurrency; ++i) {
    threads_.push_back(Ref<Thread>::make(make_loop(shared_, i), "worker-" + std::to_string(i), false));
  }
  threads_.push_back(Ref<Thread>::make(make_heartbeat(shared_), "heartbeat", false));
  for (auto& t : threads_) t->start();
  log::info("worker {}: {} loop(s) on queue '{}' at Redis {}", s.label, s.opt.concurrency, s.opt.queue,
                  s.opt.url.where());
}

void WorkerSet::stop(bool now) noexcept {
  WorkerShared& s = *shared_;
  if (!s.stopping.exchange(true)) {
    log::info("worker {}: stopping{}", s.label, now ? " now" : " after the running tasks");
    signal_fd(s.idle_stop);
  }
  if (now && !s.stopping_now.exchange(true)) {
    signal_fd(s.hard_stop);
    for (auto& t : threads_) {
      try {
        t->cancel();
      } catch (...) {
      }
    }
  }
  s.word.notify_all();
}

bool WorkerSet::done() const noexcept { return shared_->finished.load(); }

bool WorkerSet::wait(const Deadline& d) {
  for (auto& t : threads_)
    if (!t->wait(d)) return false;
  return true;
}

}  // namespace tide::cluster
