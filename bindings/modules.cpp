#include "modules.hpp"

namespace tide {

const luaL_Reg kNativeModules[] = {
    {"tide", tide_open_root},
    {"tide.thread", luaopen_tide_thread},
    {"tide.log", luaopen_tide_log},
    {"tide.os", luaopen_tide_os},
    {nullptr, nullptr},
};

}  // namespace tide
