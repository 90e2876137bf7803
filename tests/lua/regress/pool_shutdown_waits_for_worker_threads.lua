-- Issue 15, defect 9: shutdown{wait=true} returned once every worker had
-- left its loop, but before their Threads had finished, so a worker Thread
-- could still report is_alive() (123 of 200 pools). After shutdown (and
-- join) returns, every worker Thread is finished, and every worker process
-- of a process pool is reaped.
local T = require "harness"
local pool = require "tide.pool"
local thread = require "tide.thread"
local sync = require "tide.sync"

-- The pool's worker Threads, once each of them has run a task.
local function workers_of(p, n)
  local b = sync.Barrier(n)
  local fs = {}
  for i = 1, n do fs[i] = p:submit(function(bar) bar:wait() end, b) end
  for i = 1, n do fs[i]:result() end
  local mine = {}
  for _, t in ipairs(thread.enumerate()) do
    if t.name:sub(1, #p.name + 1) == p.name .. "_" then mine[#mine + 1] = t end
  end
  assert(#mine == n, "found the workers")
  return mine
end

T.test("after shutdown{wait=true} no worker Thread of the pool is alive (200 pools)", function()
  local alive = 0
  for _ = 1, 200 do
    local p = pool.ThreadPool{workers = 2}
    local ws = workers_of(p, 2)
    p:shutdown{wait = true}
    if ws[1]:is_alive() or ws[2]:is_alive() then alive = alive + 1 end
  end
  T.eq(alive, 0, "pools with a worker still alive after shutdown")
end)

T.test("close() then join() waits for the worker Threads too", function()
  local alive = 0
  for _ = 1, 100 do
    local p = pool.ThreadPool{workers = 1}
    local ws = workers_of(p, 1)
    p:close()
    T.eq(p:join(), true)
    if ws[1]:is_alive() then alive = alive + 1 end
  end
  T.eq(alive, 0)
end)

T.test("after shutdown{wait=true} every worker process is reaped (20 pools)", function()
  local left = {}
  for _ = 1, 20 do
    local p = pool.ProcessPool{workers = 2}
    local pids = p:map(function() return require("tide.os").getpid() end, {1, 2, 3, 4}, {chunksize = 1})
    p:shutdown{wait = true}
    for _, pid in ipairs(pids) do
      local f = io.open("/proc/" .. pid .. "/stat")
      if f then left[#left + 1] = pid; f:close() end
    end
  end
  T.eq(#left, 0, "worker processes not reaped: " .. table.concat(left, " "))
end)

T.done()
