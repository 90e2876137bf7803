#include "core/signal_names.hpp"

#include <csignal>

namespace tide {

const SignalEntry kSignalNames[] = {
    {"SIGHUP", SIGHUP},       {"SIGINT", SIGINT},     {"SIGQUIT", SIGQUIT},     {"SIGILL", SIGILL},
    {"SIGTRAP", SIGTRAP},     {"SIGABRT", SIGABRT},   {"SIGBUS", SIGBUS},       {"SIGFPE", SIGFPE},
    {"SIGKILL", SIGKILL},     {"SIGUSR1", SIGUSR1},   {"SIGSEGV", SIGSEGV},     {"SIGUSR2", SIGUSR2},
    {"SIGPIPE", SIGPIPE},     {"SIGALRM", SIGALRM},   {"SIGTERM", SIGTERM},     {"SIGSTKFLT", SIGSTKFLT},
    {"SIGCHLD", SIGCHLD},     {"SIGCONT", SIGCONT},   {"SIGSTOP", SIGSTOP},     {"SIGTSTP", SIGTSTP},
    {"SIGTTIN", SIGTTIN},     {"SIGTTOU", SIGTTOU},   {"SIGURG", SIGURG},       {"SIGXCPU", SIGXCPU},
    {"SIGXFSZ", SIGXFSZ},     {"SIGVTALRM", SIGVTALRM}, {"SIGPROF", SIGPROF},   {"SIGWINCH", SIGWINCH},
    {"SIGIO", SIGIO},         {"SIGPWR", SIGPWR},     {"SIGSYS", SIGSYS},       {nullptr, 0}};

namespace {
const SignalEntry kAliases[] = {{"SIGIOT", SIGIOT}, {"SIGPOLL", SIGPOLL}, {"SIGCLD", SIGCHLD}, {nullptr, 0}};
}  // namespace

const char* signal_name_or_null(int sig) noexcept {
  for (const SignalEntry* s = kSignalNames; s->name; ++s)
    if (s->number == sig) return s->name;
  if (sig == SIGRTMIN) return "SIGRTMIN";
  if (sig == SIGRTMAX) return "SIGRTMAX";
  return nullptr;
}

std::string describe_signal(int sig) {
  if (const char* n = signal_name_or_null(sig)) return n;
  return "signal " + std::to_string(sig);
}

int signal_number(std::string_view name) noexcept {
  std::string_view bare = name.substr(0, 3) == "SIG" ? name.substr(3) : name;
  if (bare.empty()) return 0;
  for (const SignalEntry* table : {kSignalNames, kAliases})
    for (const SignalEntry* s = table; s->name; ++s)
      if (bare == std::string_view(s->name).substr(3)) return s->number;
  if (bare == "RTMIN") return SIGRTMIN;
  if (bare == "RTMAX") return SIGRTMAX;
  return 0;
}

}  // namespace tide
