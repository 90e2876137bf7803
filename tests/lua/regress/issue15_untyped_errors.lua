-- Issue 15 defect 10: errors tide raised that were not tide error objects:
-- the Lua-side pool methods called with `.` or on a bad self ("attempt to
-- index a nil value"), Future:set_exception() without an argument,
-- __tostring / __close / Guard:release on a wrong self, log format errors.
local T = require "harness"
local tide = require "tide"
local pool = require "tide.pool"
local sync = require "tide.sync"
local future = require "tide.future"
local log = require "tide.log"

T.test("Lua-side pool methods with `.` or a bad self raise ArgumentError", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local f = function(x) return x end
  for _, m in ipairs{"map", "starmap", "imap", "imap_unordered", "apply", "apply_async"} do
    T.raises("ArgumentError", "bad self", p[m], f, {1})
    T.raises("ArgumentError", "bad self", p[m], nil, f, {1})
    T.raises("ArgumentError", "bad self", p[m], io.stdout, f, {1})
    T.raises("ArgumentError", "bad self", p[m], sync.Lock(), f, {1})
    T.raises("ArgumentError", "bad self", p[m], 42, f, {1})
  end
end)

T.test("set_exception without an argument raises ArgumentError", function()
  local fut = future.new()
  T.raises("ArgumentError", fut.set_exception, fut)
end)

T.test("metamethods and Guard:release on a wrong self raise ArgumentError", function()
  local values = {sync.Lock(), sync.RLock(), sync.Condition(), sync.Semaphore(), sync.BoundedSemaphore(),
                  sync.Event(), sync.Barrier(1), future.new(), pool.default()}
  for _, v in ipairs(values) do
    local mt = getmetatable(v)
    for _, mm in ipairs{"__tostring", "__close"} do
      if mt[mm] then
        for _, bad in ipairs{io.stdout, 1, "x", {}, false} do
          T.raises("ArgumentError", mt[mm], bad)
        end
      end
    end
  end
  local g = sync.Lock():guard()
  for _, bad in ipairs{io.stdout, 1, {}} do
    T.raises("ArgumentError", g.release, bad)
    T.raises("ArgumentError", getmetatable(g).__tostring, bad)
    T.raises("ArgumentError", getmetatable(g).__close, bad)
  end
  g:release()
end)

T.test("log format errors raise ArgumentError", function()
  local level = log.get_level()
  log.set_level("trace")  -- formatting is lazy: an error shows when the level is enabled
  for _, fn in ipairs{log.debug, log.info, log.warn, log.error} do
    T.raises("ArgumentError", "format", fn, "%d", "x")
    T.raises("ArgumentError", "format", fn, "%q", {})
    T.raises("ArgumentError", fn, {}, 1)
  end
  log.set_level(level)
end)

T.test("every submodule API.md names loads or raises a typed error", function()
  for _, name in ipairs{"thread", "sync", "queue", "future", "pool", "process", "pipe", "shared",
                        "subprocess", "signal", "os", "async", "log"} do
    local ok, v = pcall(function() return tide[name] end)
    if ok then T.eq(type(v), "table", name) else T.truthy(tide.is_error(v), name .. ": " .. tostring(v)) end
  end
  local ok, v = pcall(function() return tide.no_such_module end)
  T.eq(ok, true); T.eq(v, nil)
end)

T.done()
