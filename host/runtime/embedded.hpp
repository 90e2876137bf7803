// Lua-side library code (lua/tide/*.lua), compiled into the host by
// lua/embed.cmake so worker states never read the file system to load it.
#pragma once
#include <string_view>

namespace tide {

struct EmbeddedModule {
  const char* name;       // "tide.foo"; nullptr ends the table
  const char* chunkname;  // "@lua/tide/foo.lua", for tracebacks
  std::string_view source;
};

extern const EmbeddedModule kEmbeddedModules[];

}  // namespace tide
