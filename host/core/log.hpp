// Logging (DESIGN.md mechanism 6): one spdlog logger writing to stderr, each
// line carrying the process id and the tide thread or worker name. TIDE_LOG
// sets the level at start (trace, debug, info, warn, error, off).
#pragma once
#include <spdlog/spdlog.h>

#include <functional>
#include <string>
#include <string_view>

namespace tide::log {

// The tide logger; initialised on first use.
spdlog::logger& get();

// Names the calling OS thread in log lines ("MainThread", "Thread-3").
void set_thread_name(const std::string& name);
const std::string& thread_name();

// Accepts spdlog level names plus "warn"; false if unknown.
bool set_level(const std::string& name);

// Where records go instead of stderr (an embedding host's own log): called
// from any thread with the level name and the formatted line (no newline).
// An empty function restores stderr.
using Output = std::function<void(std::string_view level, std::string_view line)>;
void set_output(Output out);

}  // namespace tide::log
