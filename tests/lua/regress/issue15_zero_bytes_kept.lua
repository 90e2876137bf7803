-- Issue 15 defect 5: embedded zero bytes cut strings short. A path with a
-- zero byte is an ArgumentError (the C library would use the part before
-- it); names and error messages keep every byte.
local T = require "harness"
local tide = require "tide"
local pipe = require "tide.pipe"
local thread = require "tide.thread"
local process = require "tide.process"
local pool = require "tide.pool"
local future = require "tide.future"

local name = "a\0b"

T.test("paths with a zero byte raise ArgumentError and create nothing", function()
  local dir = os.tmpname()
  os.remove(dir)
  T.raises("ArgumentError", "zero byte", pipe.fifo, dir .. "\0tail")
  T.eq(io.open(dir), nil, "nothing created at the cut path")
  T.raises("ArgumentError", "zero byte", pipe.open, dir .. "\0tail", "r", 0)
end)

T.test("Thread, Process and pool names keep every byte", function()
  T.eq(thread.Thread{target = print, name = name}.name, name)
  local t = thread.Thread{target = print}
  t.name = name
  T.eq(t.name, name)
  T.eq(process.Process{target = print, name = name}.name, name)
  local p <close> = pool.ThreadPool{workers = 1, name = name}
  T.eq(p.name, name)
end)

T.test("a child process sees its name with every byte", function()
  for _, m in ipairs(process.get_all_start_methods()) do
    local p = process.Process{target = function() return require("tide.process").current().name end,
                              name = name, start_method = m}
    p:start()
    T.eq(p:join(), name, m)
  end
end)

T.test("error messages keep every byte", function()
  T.eq(tide.error("Timeout", name).message, name)
  local f = future.new()
  f:set_exception(name)
  local e = T.raises("RemoteError", f.result, f)
  T.eq(e.cause, name)
  T.match(e.message, "a%zb")
  local t = thread.spawn(function(s) error(s, 0) end, name)
  local err = T.raises("RemoteError", t.join, t)
  T.match(err.message, "a%zb")
  T.eq(err.cause, name)
end)

T.done()
