#include "cluster/worker_cli.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

#include "cluster/keys.hpp"
#include "cluster/secret.hpp"
#include "cluster/supervisor.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/unique_fd.hpp"
#include "core/wait.hpp"

namespace tide::cluster {

namespace {

const char* kUsage =
    "usage: tide worker --redis URL [options]\n"
    "Runs tide.cluster workers: they take tasks from a Redis queue and run them.\n"
    "  --redis URL         redis://[user:password@]host[:port][/db]\n"
    "  --queue NAME        the queue (default: default)\n"
    "  --concurrency N     how many tasks run at once (default: the CPU count)\n"
    "  --processes         run them in N worker processes (default: N threads)\n"
    "  --key-file F        the shared key (default: the TIDE_CLUSTER_KEY variable)\n"
    "  --heartbeat S       seconds between heartbeats (default 1); a task whose\n"
    "                      worker missed 10 is run elsewhere\n"
    "  --timeout S         seconds to connect and for Redis to answer (default 5)\n"
    "SIGINT/SIGTERM: finish the running tasks, then exit; a second one cancels them.\n"
    "Environment: TIDE_CLUSTER_KEY, TIDE_LOG (default info).\n";

// The signal handlers only count and poke an eventfd the main thread waits on.
std::atomic<int> g_signals{0};
int g_wake_fd = -1;

void on_stop_signal(int) {
  g_signals.fetch_add(1, std::memory_order_relaxed);
  std::uint64_t one = 1;
  ssize_t n = write(g_wake_fd, &one, sizeof one);
  (void)n;
}

struct Args {
  WorkerOptions w;
  std::string key_file;
  bool processes = false;
  pid_t supervisor = 0;  // --supervised PID: a child of --processes
  bool help = false;
};

bool number(const char* s, double lo, double hi, double& out) {
  char* end = nullptr;
  out = std::strtod(s, &end);
  return end && *end == '\0' && end != s && out >= lo && out <= hi;
}

// Throws ArgumentError for bad usage.
Args parse(int argc, char** argv) {
  Args a;
  unsigned cpus = std::thread::hardware_concurrency();
  a.w.concurrency = cpus ? static_cast<int>(cpus) : 1;
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string opt = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) throw Error(ErrorKind::ArgumentError, "'" + opt + "' needs a value");
      return argv[++i];
    };
    double d;
    if (opt == "-h" || opt == "--help") {
      a.help = true;
    } else if (opt == "--redis") {
      a.w.url = RedisUrl::parse(value());
      have_url = true;
    } else if (opt == "--queue") {
      a.w.queue = value();
      check_queue_name(a.w.queue);
    } else if (opt == "--concurrency") {
      if (!number(value(), 1, 1024, d) || d != static_cast<int>(d))
        throw Error(ErrorKind::ArgumentError, "--concurrency must be an integer from 1 to 1024");
      a.w.concurrency = static_cast<int>(d);
    } else if (opt == "--processes") {
      a.processes = true;
    } else if (opt == "--key-file") {
      a.key_file = value();
    } else if (opt == "--heartbeat") {
      if (!number(value(), 0.01, 3600, a.w.heartbeat))
        throw Error(ErrorKind::ArgumentError, "--heartbeat must be seconds from 0.01 to 3600");
    } else if (opt == "--timeout") {
      if (!number(value(), 0.01, 3600, a.w.timeout))
        throw Error(ErrorKind::ArgumentError, "--timeout must be seconds from 0.01 to 3600");
    } else if (opt == "--supervised") {
      if (!number(value(), 1, 1e9, d)) throw Error(ErrorKind::ArgumentError, "--supervised needs a pid");
      a.supervisor = static_cast<pid_t>(d);
    } else {
      throw Error(ErrorKind::ArgumentError, "unrecognized option '" + opt + "'");
    }
  }
  if (!have_url && !a.help) throw Error(ErrorKind::ArgumentError, "--redis URL is required");
  return a;
}

void install_signals(int wake_fd) {
  g_wake_fd = wake_fd;
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// Waits on the wake fd: a stop signal (first: graceful, later: now) or the
// end of the work (done()). Returns once the work has ended.
template <class Stop, class Done>
void serve_until_done(int wake_fd, Stop&& stop, Done&& done) {
  int handled = 0;
  while (!done()) {
    wait_fd(wake_fd, POLLIN, Deadline::never());
    std::uint64_t drained;
    ssize_t n = read(wake_fd, &drained, sizeof drained);
    (void)n;
    for (int s = g_signals.load(); handled < s; ++handled) stop(handled > 0);
  }
}

}  // namespace

int run_worker_command(int argc, char** argv, ExecutorFactory executor, const std::string& lua,
                       const std::string& tide_exe) {
  if (!std::getenv("TIDE_LOG")) log::set_level("info");
  Args a;
  try {
    a = parse(argc, argv);
  } catch (const Error& e) {
    std::fprintf(stderr, "tide worker: %s\n%s", e.what(), kUsage);
    return 2;
  }
  if (a.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (a.supervisor) {  // a --processes child dies with its supervisor
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != a.supervisor) return 1;
  }
  UniqueFd wake(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake) {
    std::perror("tide worker: eventfd");
    return 1;
  }
  install_signals(wake.get());
  try {
    a.w.key = a.key_file.empty() ? key_from_environment() : read_key_file(a.key_file);
    check_key(a.w.key, a.key_file.empty() ? "TIDE_CLUSTER_KEY" : "--key-file");
    a.w.lua = lua;
    a.w.executor = std::move(executor);
    if (a.processes) {
      Supervisor sup(a.w, a.key_file, tide_exe, wake.get());
      sup.start();
      serve_until_done(wake.get(), [&](bool now) { sup.stop(now); }, [&] { return sup.done(); });
      return 0;
    }
    a.w.done_fd = wake.get();
    WorkerSet set(a.w);
    set.start();
    serve_until_done(wake.get(), [&](bool now) { set.stop(now); }, [&] { return set.done(); });
    set.wait(Deadline::never());
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "tide worker: %s: %s\n", e.kind_name(), e.what());
    return 1;
  }
}

}  // namespace tide::cluster
