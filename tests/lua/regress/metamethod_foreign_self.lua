-- Metamethods fetched with getmetatable and called on a foreign userdata
-- treated it as a tide handle: a crash (__tostring) or a silent corruption
-- of io.stdout (__gc).
local T = require "harness"
local sync = require "tide.sync"

T.test("__tostring and __gc of tide classes ignore foreign userdata", function()
  local sem_meta = getmetatable(sync.Semaphore(1))
  T.truthy(not pcall(sem_meta.__tostring, io.stdout), "__tostring refuses io.stdout")
  local lock_meta = getmetatable(sync.Lock())
  lock_meta.__gc(io.stdout)
  local guard = sync.Lock():guard()
  getmetatable(guard).__gc(io.stdout)
  T.truthy(io.stdout:write(""), "io.stdout still works")
  local g = getmetatable(sync.Lock()).__tostring
  T.truthy(not pcall(g, io.stdout), "handle __tostring refuses io.stdout")
end)

T.done()
