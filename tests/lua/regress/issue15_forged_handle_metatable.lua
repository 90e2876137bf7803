-- Issue 15, defect 2: tide recognised its handles by a `__tide` field in the
-- metatable, which any script can set on a foreign userdata's metatable:
-- `getmetatable(io.stdout).__tide = true; q:put(io.stdout)` then read a
-- FILE* as a tide object (SIGSEGV). Handle metatables are now known by
-- identity, kept in the registry.
local T = require "harness"
local tide = require "tide"
local sync, queue, thread = require "tide.sync", require "tide.queue", require "tide.thread"

local stdout_meta = getmetatable(io.stdout)

T.test("a __tide field does not make io.stdout a tide object", function()
  stdout_meta.__tide = true
  local q = queue.Queue()
  T.raises("TransferError", "userdata", q.put, q, io.stdout)
  T.raises("TransferError", thread.spawn, function(f) return f end, io.stderr)
  T.eq(q:qsize(), 0)
end)

T.test("copying every field of a tide metatable does not forge a handle", function()
  for k, v in pairs(getmetatable(sync.Lock())) do
    if stdout_meta[k] == nil then stdout_meta[k] = v end
  end
  local q = queue.Queue()
  T.raises("TransferError", q.put, q, io.stdout)
  getmetatable(sync.Lock()).__gc(io.stdout)
  T.truthy(io.stdout:write(""), "io.stdout still works")
end)

T.test("real handles still travel", function()
  local q = queue.Queue()
  local ev = sync.Event()
  q:put(ev)
  T.truthy(tide.is_error(select(2, pcall(q.put, q, io.stdout)), "TransferError"))
  T.eq(q:get() == ev, true)
end)

T.done()
