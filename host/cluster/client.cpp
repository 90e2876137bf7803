#include "cluster/client.hpp"

#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>

#include "cluster/client_core.hpp"
#include "cluster/envelope.hpp"
#include "core/error.hpp"
#include "core/fork_safe.hpp"
#include "core/log.hpp"
#include "shm/owner.hpp"
#include "thread/host_exit.hpp"

namespace tide::cluster {

namespace {

// Every client made in this process, for the exit hook. A fork child finds
// its parent's clients here, with threads it does not have: their owner
// pid tells them apart. ForkSafe: the child inherits it unlocked.
ForkSafeMutex g_clients_mutex;
std::vector<std::weak_ptr<ClientCore>>* g_clients = new std::vector<std::weak_ptr<ClientCore>>;  // never destroyed
std::atomic<int> g_serial{0};

void at_exit(const ExitContext& ctx) noexcept { Client::close_all(ctx.interrupted); }

void register_client(const std::shared_ptr<ClientCore>& core) {
  on_host_exit(at_exit);
  std::lock_guard lock(g_clients_mutex);
  std::erase_if(*g_clients, [](const auto& w) { return w.expired(); });
  g_clients->push_back(core);
}

// Threads that never run Lua block every signal, so SIGINT and the
// signals scripts handle reach the main thread.
void start_thread(std::shared_ptr<ClientCore> core, void (ClientCore::*body)() noexcept) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  try {
    std::thread([core = std::move(core), body] { ((*core).*body)(); }).detach();
  } catch (const std::system_error& e) {
    pthread_sigmask(SIG_SETMASK, &old, nullptr);
    throw Error(ErrorKind::OSError, std::string("cannot start a cluster pool thread: ") + e.what(), e.code().value());
  }
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

bool owned_here(const ClientCore& c) noexcept { return c.owner == shm::current_pid(); }

}  // namespace

ClientCore::ClientCore(ClientOptions o, std::string client_id)
    : opt(std::move(o)),
      keys(opt.queue),
      id(std::move(client_id)),
      results(keys.results(id)),
      who("cluster pool '" + opt.name + "'"),
      owner(shm::current_pid()),
      stop_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (!stop_fd) throw_os_error("eventfd", errno);
}

void ClientCore::request_stop() noexcept {
  {
    std::lock_guard lock(m);
    if (stopping) return;
    stopping = true;
  }
  std::uint64_t one = 1;
  ssize_t n = write(stop_fd.get(), &one, sizeof one);
  (void)n;
  word.notify_all();
}

void ClientCore::drain() noexcept {
  bool now;
  {
    std::lock_guard lock(m);
    accepting = false;
    draining = true;
    now = pending.empty();
  }
  if (now) request_stop();
  word.notify_all();
}

void ClientCore::cancel_pending() {
  std::vector<Ref<future::Future>> futs;
  {
    std::lock_guard lock(m);
    for (auto& [task, p] : pending) {
      if (!p.entry_id.empty()) doomed.push_back(p.entry_id);
      futs.push_back(std::move(p.future));
    }
    pending.clear();
    outbox.clear();
  }
  for (auto& f : futs) f->cancel();
  word.notify_all();
}

Ref<Client> Client::create(ClientOptions options) {
  if (options.name.empty()) options.name = "ClusterPool-" + std::to_string(++g_serial);
  std::string id = process_label() + ":" + hex(random_bytes(3));
  auto core = std::make_shared<ClientCore>(std::move(options), std::move(id));
  ConnectOptions co{core->opt.timeout, core->stop_fd.get()};
  core->recv_conn = Redis::connect(core->opt.url, co);
  core->setup(*core->recv_conn);
  core->send_conn = Redis::connect(core->opt.url, co);
  log::debug("{}: connected to Redis at {} (queue '{}', client {})", core->who, core->opt.url.where(),
                   core->opt.queue, core->id);
  core->threads = core->alive = 2;
  try {
    start_thread(core, &ClientCore::receive_loop);
  } catch (...) {
    core->threads = core->alive = 0;
    throw;
  }
  try {
    start_thread(core, &ClientCore::send_loop);
  } catch (...) {
    {
      std::lock_guard lock(core->m);
      core->threads -= 1;
      core->alive -= 1;
    }
    core->request_stop();
    throw;
  }
  register_client(core);
  return Ref<Client>::adopt(new Client(std::move(core)));
}

Client::~Client() {
  if (owned_here(*core_)) core_->drain();
}

Ref<future::Future> Client::submit(std::string fn, bool cacheable, std::string args, int nargs) {
  ClientCore& c = *core_;
  if (!owned_here(c))
    throw Error(ErrorKind::BrokenPool, c.who + " belongs to the parent process: make a new pool in a fork child");
  Entry e;
  e.kind = EntryKind::Task;
  e.lua = c.opt.lua;
  e.arch = local_arch();
  e.client = c.id;
  e.reply = c.results;
  e.max_deliveries = c.opt.max_deliveries;
  e.cacheable = cacheable;
  e.fn = std::move(fn);
  e.args = std::move(args);
  e.nargs = static_cast<std::uint32_t>(nargs);
  Ref<future::Future> fut = future::Future::create();
  {
    std::lock_guard lock(c.m);
    if (!c.accepting) throw Error(ErrorKind::InvalidState, "cannot submit to " + c.who + " after shutdown");
    e.task = c.next_task++;
  }
  // Sealing (the MAC over the whole task) runs outside the lock.
  std::string sealed = seal(e, c.opt.key);
  {
    std::lock_guard lock(c.m);
    if (!c.accepting) throw Error(ErrorKind::InvalidState, "cannot submit to " + c.who + " after shutdown");
    c.pending.emplace(e.task, PendingTask{fut, {}});
    c.outbox.push_back(Outbound{e.task, std::move(sealed)});
  }
  c.word.notify_all();
  return fut;
}

void Client::shutdown(bool wait, bool cancel_futures) {
  ClientCore& c = *core_;
  if (!owned_here(c)) return;
  if (cancel_futures) c.cancel_pending();  // the receiver deletes their tasks as it leaves
  c.drain();
  if (!wait) return;
  wait_until(c.word, Deadline::never(), [&] {
    std::lock_guard lock(c.m);
    return c.threads == 0;
  });
}

void Client::terminate() {
  ClientCore& c = *core_;
  if (!owned_here(c)) return;
  c.cancel_pending();
  c.drain();
  wait_until(c.word, Deadline::never(), [&] {
    std::lock_guard lock(c.m);
    return c.threads == 0;
  });
}

bool Client::join(const Deadline& deadline) {
  ClientCore& c = *core_;
  if (!owned_here(c)) return true;
  {
    std::lock_guard lock(c.m);
    if (c.accepting) throw Error(ErrorKind::InvalidState, "join " + c.who + " before shutdown or close");
  }
  return wait_until(c.word, deadline, [&] {
    std::lock_guard lock(c.m);
    return c.threads == 0;
  });
}

const std::string& Client::name() const noexcept { return core_->opt.name; }
const std::string& Client::queue() const noexcept { return core_->opt.queue; }
const std::string& Client::id() const noexcept { return core_->id; }
std::string Client::where() const { return core_->opt.url.where(); }
int Client::workers() const noexcept { return core_->live_workers.load(std::memory_order_relaxed); }
std::uint64_t Client::duplicates() const noexcept { return core_->duplicates.load(std::memory_order_relaxed); }

std::size_t Client::pending() const {
  if (!owned_here(*core_)) return 0;
  std::lock_guard lock(core_->m);
  return core_->pending.size();
}

bool Client::is_shutdown() const {
  if (!owned_here(*core_)) return true;
  std::lock_guard lock(core_->m);
  return !core_->accepting;
}

void Client::close_all(bool interrupted) noexcept {
  std::vector<std::shared_ptr<ClientCore>> cores;
  {
    std::lock_guard lock(g_clients_mutex);
    for (auto& w : *g_clients)
      if (auto c = w.lock(); c && owned_here(*c)) cores.push_back(std::move(c));
  }
  auto all_sent = [](ClientCore& c) {
    std::lock_guard lock(c.m);
    return (c.outbox.empty() && c.in_flight == 0) || c.stopping;
  };
  auto finished = [](ClientCore& c) {
    std::lock_guard lock(c.m);
    return c.threads == 0;
  };
  try {
    if (!interrupted) {  // what was submitted reaches Redis, if it can within a few seconds
      Deadline d = Deadline::after(5.0);
      for (auto& c : cores)
        if (!wait_until(c->word, d, [&] { return all_sent(*c); }))
          log::warn("{}: tasks not sent to Redis at exit", c->who);
    }
    for (auto& c : cores) c->request_stop();
    Deadline d = Deadline::after(5.0);
    for (auto& c : cores)
      if (!wait_until(c->word, d, [&] { return finished(*c); })) log::warn("{}: threads did not stop", c->who);
  } catch (const std::exception& e) {  // a second Ctrl-C: leave now
    for (auto& c : cores) c->request_stop();
    log::debug("cluster pools at exit: {}", e.what());
  }
}

}  // namespace tide::cluster
