#include "cluster/supervisor.hpp"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <mutex>

#include "core/error.hpp"
#include "core/log.hpp"
#include "core/wait.hpp"
#include "subprocess/spawn.hpp"

namespace tide::cluster {

namespace {

constexpr int kGiveUpAfter = 5;          // children in a row that failed at once
constexpr double kFastFailure = 1.0;     // seconds: ending sooner counts as failing at once

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

std::string how_it_ended(int rc) {
  if (rc < 0) {
    const char* name = sigabbrev_np(-rc);
    return std::string("killed by SIG") + (name ? name : std::to_string(-rc));
  }
  return "exit code " + std::to_string(rc);
}

}  // namespace

struct SupervisorShared {
  std::vector<std::string> argv;
  int done_fd = -1;
  std::atomic<bool> stopping{false};
  std::mutex m;  // guards children and slots_left
  std::vector<std::shared_ptr<subprocess::Child>> children;  // under m: per slot, the running child
  int slots_left = 0;                                        // under m
  WaitWord word;  // bumped when stopping starts (ends a slot's pause)

  void slot_ended() {
    bool last;
    {
      std::lock_guard lock(m);
      last = --slots_left == 0;
    }
    if (last && done_fd >= 0) {
      std::uint64_t one = 1;
      ssize_t n = write(done_fd, &one, sizeof one);
      (void)n;
    }
  }
};

namespace {

class Slot final : public ThreadBody {
 public:
  Slot(std::shared_ptr<SupervisorShared> s, int index) : s_(std::move(s)), index_(index) {}

  Outcome run(Thread&) noexcept override {
    int fast_failures = 0;
    try {
      while (!s_->stopping && fast_failures < kGiveUpAfter) {
        auto started = std::chrono::steady_clock::now();
        int rc = run_child();
        if (s_->stopping) break;
        double lived = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        fast_failures = lived < kFastFailure ? fast_failures + 1 : 0;
        log::warn("worker process {} ended ({}); starting another", index_, how_it_ended(rc));
        if (fast_failures > 0)  // a pause before trying again, cut short by a stop
          wait_until(s_->word, Deadline::after(kFastFailure), [&] { return s_->stopping.load(); });
      }
      if (fast_failures >= kGiveUpAfter)
        log::error("worker process {} keeps failing at start; giving it up", index_);
    } catch (const std::exception& e) {
      log::error("worker process {}: {}", index_, e.what());
    }
    s_->slot_ended();
    return Outcome{};
  }

 private:
  // Starts a child and waits for it; its return code (-N: signal N).
  int run_child() {
    subprocess::SpawnSpec spec;
    spec.argv = s_->argv;
    spec.new_session = true;
    subprocess::Spawned sp = subprocess::spawn(spec);
    {
      std::lock_guard lock(s_->m);
      s_->children[static_cast<std::size_t>(index_)] = sp.child;
    }
    if (s_->stopping) sp.child->send_signal(SIGTERM);  // a stop that came while it started
    log::debug("worker process {} started (pid {})", index_, sp.child->pid());
    std::optional<int> rc = sp.child->wait(Deadline::never());
    {
      std::lock_guard lock(s_->m);
      s_->children[static_cast<std::size_t>(index_)].reset();
    }
    return rc.value_or(0);
  }

  std::shared_ptr<SupervisorShared> s_;
  const int index_;
};

}  // namespace

Supervisor::Supervisor(const WorkerOptions& o, std::string key_file, std::string tide_exe, int done_fd)
    : s_(std::make_shared<SupervisorShared>()) {
  s_->argv = {tide_exe, "worker", "--redis", o.url.spec, "--queue", o.queue, "--concurrency", "1",
              "--heartbeat", seconds_text(o.heartbeat), "--timeout", seconds_text(o.timeout),
              "--supervised", std::to_string(getpid())};
  if (!key_file.empty()) {
    s_->argv.push_back("--key-file");
    s_->argv.push_back(std::move(key_file));
  }
  s_->done_fd = done_fd;
  s_->children.resize(static_cast<std::size_t>(o.concurrency));
  s_->slots_left = o.concurrency;
  for (int i = 0; i < o.concurrency; ++i)
    slots_.push_back(Ref<Thread>::make(std::make_unique<Slot>(s_, i), "supervise-" + std::to_string(i), false));
}

Supervisor::~Supervisor() {
  stop(true);
  for (auto& t : slots_) t->wait(Deadline::after(10));
}

void Supervisor::start() {
  log::info("supervising {} worker processes", slots_.size());
  for (auto& t : slots_) t->start();
}

void Supervisor::stop(bool now) noexcept {
  s_->stopping = true;
  s_->word.notify_all();
  std::vector<std::shared_ptr<subprocess::Child>> kids;
  {
    std::lock_guard lock(s_->m);
    kids = s_->children;
  }
  for (auto& c : kids) {
    if (!c) continue;
    try {
      c->send_signal(SIGTERM);  // a child's second SIGTERM cancels its task
    } catch (...) {
    }
  }
  (void)now;
}

bool Supervisor::done() const noexcept {
  std::lock_guard lock(s_->m);
  return s_->slots_left == 0;
}

}  // namespace tide::cluster
