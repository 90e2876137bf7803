#include "modules.hpp"

namespace tide {

const luaL_Reg kNativeModules[] = {
    {"tide", tide_open_root},
    {"tide.thread", luaopen_tide_thread},
    {"tide.log", luaopen_tide_log},
    {nullptr, nullptr},
};

}  // namespace tide
