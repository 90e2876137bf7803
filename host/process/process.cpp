#include "process/process.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>

#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "core/signal_names.hpp"
#include "core/wait.hpp"
#include "process/forkserver.hpp"
#include "pipe/connection.hpp"
#include "process/launch.hpp"
#include "process/launcher.hpp"
#include "thread/host_exit.hpp"
#include "shm/stored_message.hpp"
#include "thread/thread.hpp"

namespace tide::process {

namespace {

// Python 3.14 made forkserver its default: unlike fork it is safe while
// threads run, and unlike spawn a child costs a fork, not an exec.
std::atomic<int> g_default{static_cast<int>(StartMethod::ForkServer)};
std::atomic<int> g_counter{0};

// Started, unreaped children of this process. A fork child gets a fresh,
// empty registry (those are not its children); the old one is leaked, not
// destroyed, because destroying its Processes would free our work items.
// (Chained to the old one, which stays reachable: leak checkers at a fork
// child's exit() must not count it.)
struct Registry {
  std::mutex m;
  std::vector<Ref<Process>> kids;
  Registry* inherited = nullptr;  // renew_after_fork
};
Registry* g_reg = new Registry;

void after_fork_child() { renew_after_fork(g_reg); }
AtFork g_at_fork{nullptr, nullptr, after_fork_child};

void register_child(Process* p) {
  std::lock_guard lock(g_reg->m);
  g_reg->kids.push_back(Ref<Process>::share(p));
}

void unregister_child(Process* p) {
  Ref<Process> drop;  // released after the registry lock
  std::lock_guard lock(g_reg->m);
  auto& kids = g_reg->kids;
  auto it = std::find_if(kids.begin(), kids.end(), [p](const Ref<Process>& r) { return r.get() == p; });
  if (it != kids.end()) {
    drop = std::move(*it);
    kids.erase(it);
  }
}

std::vector<Ref<Process>> snapshot() {
  std::lock_guard lock(g_reg->m);
  return g_reg->kids;
}

int pidfd_open(pid_t pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) return "was killed by " + signal_name(WTERMSIG(status));
  int code = WEXITSTATUS(status);
  if (code == kExitBadPayload) return "exited with code 3: it could not load its work";
  if (code == kExitParentGone) return "exited with code 4: its parent had died";
  return "exited with code " + std::to_string(code) + " without a result";
}

void exit_hook(const ExitContext& ctx) noexcept;

}  // namespace

const char* method_name(StartMethod m) noexcept {
  switch (m) {
    case StartMethod::Fork: return "fork";
    case StartMethod::Spawn: return "spawn";
    case StartMethod::ForkServer: return "forkserver";
  }
  return "?";
}

bool method_from_name(const std::string& name, StartMethod& out) noexcept {
  for (StartMethod m : {StartMethod::Fork, StartMethod::Spawn, StartMethod::ForkServer})
    if (name == method_name(m)) {
      out = m;
      return true;
    }
  return false;
}

StartMethod default_method() noexcept { return static_cast<StartMethod>(g_default.load()); }
void set_default_method(StartMethod m) noexcept { g_default.store(static_cast<int>(m)); }

std::string signal_name(int sig) { return describe_signal(sig); }

Process::Process(Message payload, std::string name, bool daemon, StartMethod method)
    : payload_(std::move(payload)), name_(std::move(name)), daemon_(daemon), method_(method) {}

Process::~Process() {
  std::lock_guard lock(m_);
  release_locked();
}

void Process::release_locked() noexcept {
  if (pidfd_ >= 0) ::close(pidfd_);
  if (conn_ >= 0) ::close(conn_);
  pidfd_ = conn_ = -1;
  // Only the starting process owns the stored work; a fork child's copy of
  // this object must not free it under the real child's feet.
  if (stored_ && owner_ == getpid() && reaped_) shm::free_message(stored_);
  stored_ = 0;
  future_ = Ref<future::Future>();
  payload_.clear();
}

std::string Process::next_name() { return "Process-" + std::to_string(++g_counter); }

void Process::start() {
  // Reap children that ended unjoined, as Python's start() does.
  for (auto& p : snapshot()) p->is_alive();
  install_exit_hook();
  std::lock_guard lock(m_);
  if (closed_) throw Error(ErrorKind::InvalidState, "process '" + name_ + "' is closed");
  if (started_) throw Error(ErrorKind::InvalidState, "cannot start process '" + name_ + "' twice");
  future_ = future::Future::create();
  try {
    stored_ = shm::store_message(payload_);
    std::vector<int> fds = pipe::descriptors_of(payload_);  // connections keep their numbers
    fds.insert(fds.end(), extra_fds_.begin(), extra_fds_.end());
    ChildInfo info;
    info.payload = stored_;
    info.future = future_->offset();
    info.parent_pid = getpid();
    info.name_len = static_cast<std::uint32_t>(std::min(name_.size(), sizeof info.name));
    std::memcpy(info.name, name_.data(), info.name_len);
    switch (method_) {
      // Off the main thread, fork and spawn go through the launcher
      // (launcher.hpp says why); the forkserver does not need it.
      case StartMethod::Fork:
        pid_ = Thread::is_main() ? fork_child(info) : on_launcher([&] { return fork_child(info); });
        break;
      case StartMethod::Spawn:
        pid_ = Thread::is_main() ? spawn_worker(info, fds) : on_launcher([&] { return spawn_worker(info, fds); });
        break;
      case StartMethod::ForkServer: pid_ = forkserver::request(info, fds, conn_); break;
    }
  } catch (...) {
    if (stored_) shm::free_message(stored_);
    stored_ = 0;
    future_ = Ref<future::Future>();
    throw;
  }
  payload_.clear();
  owner_ = getpid();
  started_ = true;
  // Signals go through a pidfd: never to a recycled pid. (A forkserver
  // child that already ended gets none, and needs none.)
  pidfd_ = pidfd_open(pid_);
  if (pidfd_ < 0 && method_ != StartMethod::ForkServer) throw_os_error("pidfd_open", errno);
  log::debug("process '{}' started: pid {} ({})", name_, pid_, method_name(method_));
  register_child(this);
}

bool Process::try_reap_locked() {
  if (reaped_) return true;
  if (owner_ != getpid()) throw Error(ErrorKind::InvalidState, "process '" + name_ + "' is not a child of this process");
  if (method_ == StartMethod::ForkServer) {
    forkserver::Reply r{};
    ssize_t n = recv(conn_, &r, sizeof r, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return false;
    if (n == static_cast<ssize_t>(sizeof r) && r.kind == forkserver::kStatus) {
      status_ = r.value;
    } else {
      // EOF: the forkserver died, and its children with it (PDEATHSIG).
      status_ = SIGKILL;
      log::warn("process '{}': the forkserver went away", name_);
    }
  } else {
    int st = 0;
    pid_t r;
    do {
      r = waitpid(pid_, &st, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) return false;
    if (r < 0) {
      // Someone reaped it behind our back (os.waitpid(-1)): the status is lost.
      log::warn("process '{}' (pid {}) was reaped elsewhere", name_, pid_);
      st = 255 << 8;
    }
    status_ = st;
  }
  reaped_ = true;
  if (stored_) shm::free_message(stored_);
  stored_ = 0;
  log::debug("process '{}' (pid {}) ended: {}", name_, pid_,
                   WIFSIGNALED(status_) ? signal_name(WTERMSIG(status_)) : "exit code " + std::to_string(WEXITSTATUS(status_)));
  return true;
}

bool Process::wait(const Deadline& d) {
  int fd;
  {
    std::lock_guard lock(m_);
    if (!started_) throw Error(ErrorKind::InvalidState, "cannot wait for process '" + name_ + "' before it is started");
    if (reaped_) return true;
    fd = method_ == StartMethod::ForkServer ? conn_ : pidfd_;
  }
  for (;;) {
    if (!is_alive()) return true;
    // The descriptor stays open until close()/destruction, which cannot
    // happen while the caller holds this Process.
    if (wait_fd(fd, POLLIN, d) == 0) return !is_alive();
  }
}

int Process::exit_fd() const {
  std::lock_guard lock(m_);
  if (!started_ || reaped_) return -1;
  return method_ == StartMethod::ForkServer ? conn_ : pidfd_;
}

bool Process::is_alive() {
  bool newly_reaped;
  {
    std::lock_guard lock(m_);
    if (!started_ || reaped_) return false;
    newly_reaped = try_reap_locked();
  }
  if (newly_reaped) unregister_child(this);
  return !newly_reaped;
}

bool Process::started() const {
  std::lock_guard lock(m_);
  return started_;
}

bool Process::closed() const {
  std::lock_guard lock(m_);
  return closed_;
}

std::optional<int> Process::exitcode() {
  if (is_alive()) return std::nullopt;
  std::lock_guard lock(m_);
  if (!reaped_) return std::nullopt;
  return WIFSIGNALED(status_) ? -WTERMSIG(status_) : WEXITSTATUS(status_);
}

Outcome Process::outcome() {
  std::lock_guard lock(m_);
  if (!reaped_) throw Error(ErrorKind::InvalidState, "process '" + name_ + "' has not finished");
  if (future_ && future_->done()) return future_->outcome();
  Outcome o;
  o.state = CompletionState::Failed;
  o.failure_kind = ErrorKind::WorkerDied;
  o.text = describe_status(status_);
  o.has_exitcode = true;
  o.exitcode = WIFSIGNALED(status_) ? -WTERMSIG(status_) : WEXITSTATUS(status_);
  return o;
}

void Process::send_signal(int sig) {
  std::lock_guard lock(m_);
  if (!started_) throw Error(ErrorKind::InvalidState, "process '" + name_ + "' is not started");
  if (reaped_ || pidfd_ < 0) return;
  if (syscall(SYS_pidfd_send_signal, pidfd_, sig, nullptr, 0) != 0 && errno != ESRCH)
    throw_os_error("pidfd_send_signal", errno);
}

void Process::close() {
  if (is_alive()) throw Error(ErrorKind::InvalidState, "cannot close process '" + name() + "' while it is running");
  std::lock_guard lock(m_);
  release_locked();
  closed_ = true;
}

void Process::add_descriptors(std::vector<int> fds) {
  std::lock_guard lock(m_);
  if (started_) throw Error(ErrorKind::InvalidState, "process '" + name_ + "' is already started");
  extra_fds_.insert(extra_fds_.end(), fds.begin(), fds.end());
}

int Process::status_fd() const {
  std::lock_guard lock(m_);
  return method_ == StartMethod::ForkServer ? conn_ : pidfd_;
}

pid_t Process::pid() const {
  std::lock_guard lock(m_);
  return pid_;
}

std::string Process::name() const {
  std::lock_guard lock(m_);
  return name_;
}

void Process::set_name(std::string n) {
  std::lock_guard lock(m_);
  name_ = std::move(n);
}

bool Process::daemon() const {
  std::lock_guard lock(m_);
  return daemon_;
}

void Process::set_daemon(bool d) {
  std::lock_guard lock(m_);
  if (started_) throw Error(ErrorKind::InvalidState, "cannot set daemon of process '" + name_ + "' after start");
  daemon_ = d;
}

std::vector<Ref<Process>> Process::active_children() {
  std::vector<Ref<Process>> alive;
  for (auto& p : snapshot())
    if (p->is_alive()) alive.push_back(p);
  return alive;
}

void install_exit_hook() {
  static std::once_flag once;
  std::call_once(once, [] { on_host_exit(exit_hook); });
}

namespace {

// Host exit (Python's multiprocessing exit function): daemon children are
// terminated, the others joined. Ctrl-C (at exit or while joining) turns
// the joins into terminations; a child that ignores SIGTERM for 2 s is
// killed. Then the forkserver is stopped.
void exit_hook(const ExitContext& ctx) noexcept {
  try {
    auto kids = snapshot();
    bool terminating = ctx.interrupted;
    for (auto& p : kids)
      if (terminating || p->daemon()) p->send_signal(SIGTERM);
    for (auto& p : kids) {
      for (int round = 0;; ++round) {
        try {
          bool patient = !terminating && !p->daemon();
          if (p->wait(patient ? Deadline::never() : Deadline::after(2.0))) break;
          p->send_signal(SIGKILL);
        } catch (const Error& e) {
          if (e.kind() != ErrorKind::Interrupted && e.kind() != ErrorKind::Cancelled) throw;
          terminating = true;
          for (auto& q : kids) q->send_signal(round == 0 ? SIGTERM : SIGKILL);
        }
      }
    }
  } catch (const std::exception& e) {
    log::error("stopping child processes at exit: {}", e.what());
  }
  forkserver::stop();
}

}  // namespace

}  // namespace tide::process
