// Logging (DESIGN.md mechanism 6): one spdlog logger writing to stderr, each
// line carrying the process id and the tide thread or worker name. TIDE_LOG
// sets the level at start (trace, debug, info, warn, error, off).
//
// This header needs only fmt's core: spdlog's headers stay in log.cpp, so
// the thirty files that log do not each compile them (several seconds a
// file, in every build CI makes).
#pragma once
#include <fmt/core.h>

#include <functional>
#include <string>
#include <string_view>

namespace tide::log {

// spdlog's levels, in its order.
enum class Level : int { trace = 0, debug, info, warn, error, critical, off };

// Whether a record at `level` would be written (a load and a compare).
bool enabled(Level level) noexcept;
// Writes one record (already formatted).
void write(Level level, std::string_view text);

template <class... A>
void log(Level level, fmt::format_string<A...> f, A&&... a) {
  if (enabled(level)) write(level, fmt::vformat(f, fmt::make_format_args(a...)));
}
template <class... A>
void debug(fmt::format_string<A...> f, A&&... a) { log(Level::debug, f, std::forward<A>(a)...); }
template <class... A>
void info(fmt::format_string<A...> f, A&&... a) { log(Level::info, f, std::forward<A>(a)...); }
template <class... A>
void warn(fmt::format_string<A...> f, A&&... a) { log(Level::warn, f, std::forward<A>(a)...); }
template <class... A>
void error(fmt::format_string<A...> f, A&&... a) { log(Level::error, f, std::forward<A>(a)...); }

// Names the calling OS thread in log lines ("MainThread", "Thread-3").
void set_thread_name(const std::string& name);
const std::string& thread_name();

// Accepts spdlog level names plus "warn"; false if unknown.
bool set_level(const std::string& name);
void set_level(Level level);
Level level() noexcept;
// The current level's name ("warn", "off", ...).
std::string_view level_name() noexcept;

// Where records go instead of stderr (an embedding host's own log): called
// from any thread with the level name and the formatted line (no newline).
// An empty function restores stderr.
using Output = std::function<void(std::string_view level, std::string_view line)>;
void set_output(Output out);

}  // namespace tide::log
