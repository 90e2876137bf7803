// Logging (DESIGN.md mechanism 6): one spdlog logger writing to stderr, each
// line carrying the process id and the tide thread or worker name. TIDE_LOG
// sets the level at start (trace, debug, info, warn, error, off).
#pragma once
#include <spdlog/spdlog.h>

#include <string>

namespace tide::log {

// The tide logger; initialised on first use.
spdlog::logger& get();

// Names the calling OS thread in log lines ("MainThread", "Thread-3").
void set_thread_name(const std::string& name);
const std::string& thread_name();

// Accepts spdlog level names plus "warn"; false if unknown.
bool set_level(const std::string& name);

}  // namespace tide::log
