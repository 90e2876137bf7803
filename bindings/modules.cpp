#include "modules.hpp"

#include <mutex>

#include "runtime/state.hpp"

namespace tide::bindings {

void register_modules() {
  static const luaL_Reg kModules[] = {
      {"tide", tide_open_root},
      {"tide.thread", luaopen_tide_thread},
      {"tide.log", luaopen_tide_log},
      {"tide.queue", luaopen_tide_queue},
      {"tide.os", luaopen_tide_os},
      {"tide.sync", luaopen_tide_sync},
      {"tide.shared", luaopen_tide_shared},
      {"tide.future", luaopen_tide_future},
      {"tide._pool", luaopen_tide__pool},
      {"tide.pipe", luaopen_tide_pipe},
      {"tide.process", luaopen_tide_process},
      {"tide._async", luaopen_tide__async},
      {"tide.signal", luaopen_tide_signal},
      {"tide.subprocess", luaopen_tide_subprocess},
      {"tide._cluster", luaopen_tide__cluster},
      {"tide.actor", luaopen_tide_actor},
  };
  static std::once_flag once;
  std::call_once(once, [] {
    for (const luaL_Reg& m : kModules) runtime::register_module(m.name, m.func);
  });
}

}  // namespace tide::bindings
