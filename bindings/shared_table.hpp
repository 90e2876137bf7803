// tide.shared.Table (API.md §9), opened into the tide.shared module table.
#pragma once
#include <lua.hpp>

namespace tide {

// Defines the tide.Table class in L and sets module.Table (the constructor)
// in the table at `module_idx`.
void open_shared_table(lua_State* L, int module_idx);

}  // namespace tide
