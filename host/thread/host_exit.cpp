#include "thread/host_exit.hpp"

#include <algorithm>
#include <mutex>
#include <vector>

#include "core/fork_safe.hpp"
#include "thread/thread.hpp"

namespace tide {

namespace {
ForkSafeMutex g_m;  // a fork child finds it free (core/fork_safe.hpp)
std::vector<ExitHook>* g_hooks = new std::vector<ExitHook>;  // never destroyed
}  // namespace

void on_host_exit(ExitHook hook) {
  std::lock_guard lock(g_m);
  if (std::find(g_hooks->begin(), g_hooks->end(), hook) == g_hooks->end()) g_hooks->push_back(hook);
}

bool shutdown_host(const ExitContext& ctx) {
  std::vector<ExitHook> hooks;
  {
    std::lock_guard lock(g_m);
    hooks = *g_hooks;
  }
  for (auto it = hooks.rbegin(); it != hooks.rend(); ++it) (*it)(ctx);
  return Thread::shutdown_all(ctx.interrupted);
}

}  // namespace tide
