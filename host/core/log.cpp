#include "core/log.hpp"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>

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

std::shared_ptr<spdlog::logger> make_logger() {
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
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

}  // namespace

spdlog::logger& get() {
  // Never destroyed: threads may still log while static destructors run
  // (a script's os.exit, a daemon thread stuck in C code).
  static spdlog::logger* logger = new spdlog::logger(*make_logger());
  return *logger;
}

void set_thread_name(const std::string& name) { t_name = name; }
const std::string& thread_name() { return t_name; }

bool set_level(const std::string& name) {
  auto level = spdlog::level::from_str(name);
  if (level == spdlog::level::off && name != "off") return false;
  get().set_level(level);
  return true;
}

}  // namespace tide::log
