#include "modules.hpp"

namespace tide {

const luaL_Reg kNativeModules[] = {
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
    {"tide.signal", luaopen_tide_signal},
    {"tide.subprocess", luaopen_tide_subprocess},
    {nullptr, nullptr},
};

}  // namespace tide
