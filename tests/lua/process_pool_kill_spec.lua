-- Reliability of tide.pool.ProcessPool when workers are killed (issue 9):
-- 100 trials of SIGKILL to a worker in the middle of a task, with other
-- tasks queued behind it. Every trial must end with the killed task failed
-- with WorkerDied, every other task correct, the pool still usable and the
-- dead worker reaped (no zombie); at the end nothing is left behind: no
-- child process, no descriptor, no arena memory.
local T = require "harness"
local pool = require "tide.pool"
local queue = require "tide.queue"
local os_ = require "tide.os"
local process = require "tide.process"
local native = require "tide._pool"

local TRIALS = 100
local HANG = 30  -- seconds: a hang detector for each wait, not an ordering

-- Open descriptors (pidfds, sockets to the forkserver...), but for
-- eventfds (each OS thread has one for its waits, and warm OS threads come
-- and go on their own schedule) and pipes (io.popen's own, which `ls` may
-- see both ends of).
local function fd_count()
  local p = assert(io.popen("ls -l /proc/" .. os_.getpid() .. "/fd"))
  local n, all = 0, {}
  for line in p:lines() do
    if line:match("%->") and not line:match("eventfd") and not line:match("pipe:") then n = n + 1 all[#all+1] = line:match("%d+ %-> .*") end
  end
  p:close()
  return n, table.concat(all, "; ")
end

local function is_zombie_or_alive(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return false end
  f:close()
  return true
end

local function settle()
  for _ = 1, 3 do collectgarbage("collect") end
end

-- One-time allocations (the forkserver, the future tree, warm threads)
-- happen here, before the baseline.
do
  local warm <close> = pool.ProcessPool{workers = 2}
  warm:map(function(x) return x end, {1, 2, 3, 4}, {chunksize = 1})
end
-- The queue the victims report their pid on lives through every trial: a
-- killed worker's own references to objects its task used (here this
-- queue) cannot be dropped by anyone (README: process pools), while
-- everything the pool itself keeps for a task must be.
local q = queue.Queue()
q:put(0) q:get()  -- its ring is made
settle()
local fds, fdlist = fd_count()
local arena = native._arena_in_use()

T.test(TRIALS .. " trials: a worker SIGKILLed mid-task fails that task with WorkerDied; all else completes", function()
  local p <close> = pool.ProcessPool{workers = 2}
  local function square(x) return x * x end
  for trial = 1, TRIALS do
    local victim = p:submit(function(q_) q_:put(require("tide.os").getpid()) require("tide").sleep(3600) end, q)
    local pid = q:get(HANG)
    local others = {}
    for i = 1, 5 do others[i] = p:submit(square, trial * 10 + i) end
    os_.kill(pid, "SIGKILL")
    T.truthy(victim:exception(HANG), "trial " .. trial .. ": the killed task ended")
    local e = T.raises("WorkerDied", "SIGKILL", victim.result, victim)
    T.eq(e.exitcode, -9)
    T.falsy(is_zombie_or_alive(pid), "trial " .. trial .. ": the dead worker was reaped")
    for i = 1, 5 do T.eq(others[i]:result(HANG), (trial * 10 + i) ^ 2 // 1) end
  end
  T.eq(p:apply(square, 12), 144, "the pool is still usable")
end)

T.test("nothing is left behind: no child, no descriptor, no arena memory", function()
  settle()
  T.eq(#process.active_children(), 0)
  local n, all = fd_count()
  T.eq(n, fds, "open descriptors: " .. all .. " vs " .. fdlist)
  T.eq(native._arena_in_use(), arena, "arena bytes in use")
end)

T.done()
