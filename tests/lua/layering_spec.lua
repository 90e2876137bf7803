-- The two bands of host/ (issue 16, README "Layout"): everything Lua-free
-- sits below a thin Lua-aware band, and no include runs back up. This spec
-- reads every #include of host/ and bindings/ and fails on an arrow from a
-- Lua-free folder to a Lua header or a Lua-aware folder, on an arrow up the
-- Lua-aware band (luabase -> codec -> runtime -> bindings -> embed and the
-- command), and on a host/ folder that is in no band.
local T = require "harness"

local source = assert(os.getenv("TIDE_SOURCE_DIR"), "TIDE_SOURCE_DIR is not set")

local LUA_FREE = {
  core = true, wire = true, shm = true, sync = true, thread = true, future = true,
  queue = true, pipe = true, shared_values = true, pool = true, process = true, subprocess = true,
  async = true,
  cluster = true,
}
-- The Lua-aware band, lowest first; each may include the ones below it.
local LUA_AWARE = {luabase = 1, codec = 2, runtime = 3, bindings = 4, embed = 5, main = 5}
local LUA_HEADERS = {["lua.hpp"] = true, ["lua.h"] = true, ["lauxlib.h"] = true, ["lualib.h"] = true,
                     ["luaconf.h"] = true}

local function exists(path)
  local f = io.open(path, "r")
  if f then f:close() end
  return f ~= nil
end

-- The band of a file ("host/sync/lock.cpp" -> "sync", "bindings/..." ->
-- "bindings", "host/main.cpp" -> "main").
local function folder_of(file)
  if file:match("^bindings/") then return "bindings" end
  if file == "host/main.cpp" or file == "host/tide.hpp" then return "main" end
  return file:match("^host/([^/]+)/")
end

-- Where an include lands: a host/ folder, "bindings", or "lua" (a Lua
-- header); nil for system and standard headers.
local function target_of(include, angled, exists_fn)
  local base = include:match("([^/]+)$")
  if LUA_HEADERS[base] then return "lua" end
  if angled then return nil end
  local top = include:match("^([^/]+)/")
  if top and exists_fn(source .. "/host/" .. top) then return top end
  if exists_fn(source .. "/bindings/" .. include) then return "bindings" end
  return nil  -- relative to the including file (same folder)
end

-- The violations of one file, given its lines.
local function check_file(file, lines, exists_fn)
  local problems = {}
  local from = folder_of(file)
  if not from or (not LUA_FREE[from] and not LUA_AWARE[from]) then
    return {file .. ": folder '" .. tostring(from) .. "' is in no band (add it to layering_spec.lua and the README)"}
  end
  for n, line in ipairs(lines) do
    local angled, inc = line:match("^%s*#%s*include%s*([<\"])([^>\"]+)[>\"]")
    if inc then
      local to = target_of(inc, angled == "<", exists_fn)
      local bad
      if to == nil or to == from then
        bad = nil
      elseif LUA_FREE[from] then
        if to == "lua" then
          bad = "a Lua-free folder includes a Lua header"
        elseif LUA_AWARE[to] then
          bad = "a Lua-free folder includes the Lua-aware " .. to .. "/"
        end
      elseif LUA_AWARE[from] and LUA_AWARE[to] and LUA_AWARE[to] > LUA_AWARE[from] then
        bad = from .. " includes " .. to .. ", above it in the Lua-aware band"
      elseif not LUA_FREE[to] and not LUA_AWARE[to] and to ~= "lua" then
        bad = "includes host/" .. to .. "/, which is in no band"
      end
      if bad then problems[#problems + 1] = ("%s:%d: %s (%s)"):format(file, n, bad, inc) end
    end
  end
  return problems
end

local function read_lines(path)
  local lines = {}
  for line in io.lines(path) do lines[#lines + 1] = line end
  return lines
end

local function source_files()
  local p = io.popen("cd '" .. source .. "' && find host bindings -name '*.cpp' -o -name '*.hpp' -o -name '*.c' -o -name '*.h' | sort")
  local files = {}
  for f in p:lines() do files[#files + 1] = f end
  p:close()
  return files
end

T.test("the checker catches each kind of arrow (synthetic files)", function()
  local function on_disk(path) return exists(path) end
  T.eq(#check_file("host/sync/x.cpp", {"#include <lua.hpp>"}, on_disk), 1, "Lua header in sync/")
  T.eq(#check_file("host/pool/x.hpp", {'#include "runtime/state.hpp"'}, on_disk), 1, "runtime/ from pool/")
  T.eq(#check_file("host/queue/x.cpp", {'#include "codec/codec.hpp"'}, on_disk), 1, "codec/ from queue/")
  T.eq(#check_file("host/core/x.cpp", {'#include "support/args.hpp"'}, on_disk), 1, "bindings from core/")
  T.eq(#check_file("host/luabase/x.cpp", {'#include "runtime/state.hpp"'}, on_disk), 1, "up the Lua band")
  T.eq(#check_file("host/codec/x.cpp", {'#include "modules.hpp"'}, on_disk), 1, "bindings from codec/")
  T.eq(#check_file("host/newthing/x.cpp", {}, on_disk), 1, "a folder in no band")
  T.eq(#check_file("host/runtime/x.cpp", {"#include <lua.hpp>", '#include "codec/codec.hpp"',
                                          '#include "sync/lock.hpp"', "#include <vector>"}, on_disk), 0,
       "allowed arrows")
  T.eq(#check_file("host/sync/x.cpp", {'#include "shm/arena.hpp"', "#include <atomic>"}, on_disk), 0,
       "Lua-free to Lua-free")
end)

T.test("no include runs from a lower band to a higher one", function()
  local files = source_files()
  T.truthy(#files > 100, "found the sources (" .. #files .. " files)")
  local problems = {}
  for _, f in ipairs(files) do
    for _, p in ipairs(check_file(f, read_lines(source .. "/" .. f), exists)) do problems[#problems + 1] = p end
  end
  T.eq(#problems, 0, "layering violations:\n  " .. table.concat(problems, "\n  "))
end)

T.done()
