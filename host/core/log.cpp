#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>
#include <spdlog/sinks/sink.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>

namespace tide::log {

namespace {

thread_local std::string t_name = "MainThread";

// %N in the pattern: the tide name of the thread that logged.
class ThreadNameFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    dest.append(t_name.data(), t_name.data() + t_name.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return spdlog::details::make_unique<ThreadNameFlag>();
  }
};

// Writes each record to stderr with one write(): no lock (spdlog's _mt
// sinks hold a mutex while writing, which a fork child could inherit held
// by a thread it does not have), and lines of concurrent threads and
// processes do not interleave. Formatters keep per-call state, so each
// thread formats with its own copy of the one set at start.
// An embedding host's output, if set (set_output). A plain atomic pointer
// (std::atomic_load of a shared_ptr takes a lock from libstdc++'s pool,
// which a fork child could inherit held); a replaced one is never freed, as
// another thread may still be calling it. Hosts set it once.
std::atomic<const Output*> g_output{nullptr};

class StderrSink final : public spdlog::sinks::sink {
 public:
  void log(const spdlog::details::log_msg& msg) override {
    thread_local std::unique_ptr<spdlog::formatter> formatter;
    if (!formatter) formatter = formatter_->clone();
    spdlog::memory_buf_t buf;
    formatter->format(msg, buf);
    if (const Output* out = g_output.load(std::memory_order_acquire)) {
      std::string_view line(buf.data(), buf.size());
      while (!line.empty() && line.back() == '\n') line.remove_suffix(1);
      auto level = spdlog::level::to_string_view(msg.level);
      (*out)(std::string_view(level.data(), level.size()), line);
      return;
    }
    const char* p = buf.data();
    std::size_t left = buf.size();
    while (left > 0) {
      ssize_t n = ::write(STDERR_FILENO, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // nowhere to report a failing stderr
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  void flush() override {}
  void set_pattern(const std::string& pattern) override {
    formatter_ = std::make_unique<spdlog::pattern_formatter>(pattern);
  }
  // Called once, before the logger is shared.
  void set_formatter(std::unique_ptr<spdlog::formatter> f) override { formatter_ = std::move(f); }

 private:
  std::unique_ptr<spdlog::formatter> formatter_ = std::make_unique<spdlog::pattern_formatter>();
};

std::shared_ptr<spdlog::logger> make_logger() {
  auto sink = std::make_shared<StderrSink>();
  auto logger = std::make_shared<spdlog::logger>("tide", sink);
  auto formatter = std::make_unique<spdlog::pattern_formatter>();
  formatter->add_flag<ThreadNameFlag>('N').set_pattern("[%H:%M:%S.%e] [%l] [pid %P %N] %v");
  logger->set_formatter(std::move(formatter));
  logger->set_level(spdlog::level::warn);
  logger->flush_on(spdlog::level::trace);
  if (const char* env = std::getenv("TIDE_LOG")) {
    auto level = spdlog::level::from_str(env);
    if (std::string(env) != "off" && level == spdlog::level::off) level = spdlog::level::warn;
    logger->set_level(level);
  }
  return logger;
}

spdlog::logger& get() {
  // Never destroyed: threads may still log while static destructors run
  // (a script's os.exit, a daemon thread stuck in C code).
  static spdlog::logger* logger = new spdlog::logger(*make_logger());
  return *logger;
}

spdlog::level::level_enum to_spdlog(Level level) noexcept {
  return static_cast<spdlog::level::level_enum>(static_cast<int>(level));
}

}  // namespace

bool enabled(Level level) noexcept { return get().should_log(to_spdlog(level)); }

void write(Level level, std::string_view text) {
  get().log(to_spdlog(level), spdlog::string_view_t(text.data(), text.size()));
}

void set_level(Level level) { get().set_level(to_spdlog(level)); }
Level level() noexcept { return static_cast<Level>(static_cast<int>(get().level())); }

std::string_view level_name() noexcept {
  auto sv = spdlog::level::to_string_view(get().level());
  return {sv.data(), sv.size()};
}

void set_thread_name(const std::string& name) { t_name = name; }
const std::string& thread_name() { return t_name; }

void set_output(Output out) {
  g_output.store(out ? new Output(std::move(out)) : nullptr, std::memory_order_release);
}

bool set_level(const std::string& name) {
  auto level = spdlog::level::from_str(name);
  if (level == spdlog::level::off && name != "off") return false;
  get().set_level(level);
  return true;
}

}  // namespace tide::log
