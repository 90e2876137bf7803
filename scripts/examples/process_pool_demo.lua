-- Port of the multiprocessing.Pool seed: map, imap_unordered, apply_async
-- (with a result timeout, and with callbacks), the worker processes' pids.
-- Python's `with Pool(...)` terminates the pool on the way out; a Lua
-- <close> pool shuts down and waits instead, so the port terminates it.
local tide = require "tide"
local pool = require "tide.pool"
local os_ = require "tide.os"

local function f(x) return x * x end

local function range(n)
  local t = {}
  for i = 1, n do t[i] = i - 1 end
  return t
end

do
  -- start 4 worker processes
  local p <close> = pool.ProcessPool{workers = 4}

  -- print "0, 1, 4, ..., 81"
  print(table.concat(p:map(f, range(10)), ", "))

  -- print same numbers in arbitrary order
  for i in p:imap_unordered(f, range(10)) do print(i) end

  -- evaluate "f(20)" asynchronously
  local res = p:apply_async(f, {20})  -- runs in *only* one process
  print(res:result(1))                 -- prints "400"

  -- the same, handing the result to a callback (run here, in this process)
  p:apply_async(f, {30}, {callback = function(v) print("callback got", v) end}):result()
  require("tide.future").poll()

  -- evaluate "os.getpid()" asynchronously
  res = p:apply_async(os_.getpid, {})  -- runs in *only* one process
  print(res:result(1))                 -- prints the PID of that process

  -- launching multiple evaluations asynchronously *may* use more processes
  local multiple = {}
  for i = 1, 4 do multiple[i] = p:apply_async(os_.getpid, {}) end
  local pids = {}
  for i = 1, 4 do pids[i] = multiple[i]:result(1) end
  print(table.concat(pids, ", "))

  -- make a single worker sleep for 10 secs
  res = p:apply_async(tide.sleep, {10})
  local ok, err = pcall(res.result, res, 0.2)
  if not ok and tide.is_error(err, "Timeout") then
    print("We lacked patience and got a Timeout")
  end

  print("For the moment, the pool remains available for more work")
  p:terminate()  -- what Python's `with Pool` does on the way out
end

-- exiting the 'with'-block has stopped the pool
print("Now the pool is closed and no longer available")
