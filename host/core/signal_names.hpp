// Signal names and numbers: the one table tide.os, tide.signal,
// tide.subprocess and tide.process's exit reports share.
#pragma once
#include <string>
#include <string_view>

namespace tide {

struct SignalEntry {
  const char* name;  // "SIGTERM"
  int number;
};

// Every signal with a name here, in number order (aliases such as SIGIOT
// are accepted by signal_number but not listed). Ends with {nullptr, 0}.
extern const SignalEntry kSignalNames[];

// "SIGTERM" for 15; nullptr when the number has no name here.
const char* signal_name_or_null(int sig) noexcept;

// "SIGTERM" for 15; "signal N" for unnamed ones.
std::string describe_signal(int sig);

// 15 for "SIGTERM" or "TERM" (also SIGRTMIN and SIGRTMAX, whose numbers
// glibc fixes at run time); 0 when the name is unknown.
int signal_number(std::string_view name) noexcept;

}  // namespace tide
