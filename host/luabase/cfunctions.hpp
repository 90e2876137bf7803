// C functions cross states by name: a registered function is encoded as the
// pair (module, field) and decoded as `require(module)[field]` in the
// receiving state, so closures such as `require` itself rebind correctly.
// The standard library, every tide module and every host-registered module
// are registered; anything else is a TransferError.
#pragma once
#include <lua.hpp>
#include <string>

namespace tide::cfunctions {

struct Name {
  std::string module;  // "_G" for globals such as print
  std::string field;
};

// Looks up `f`; false if unregistered. Thread-safe.
bool find(lua_CFunction f, Name& out);

// Registers every C function found in the table at `idx` under `module`.
// Thread-safe; later registrations of the same pointer are ignored.
void register_table(lua_State* L, int idx, const char* module);

}  // namespace tide::cfunctions
