-- Reliability of tide.pool.ProcessPool under random worker deaths (issue
-- 9): 10,000 tasks while 1% as many SIGKILLs hit the workers at whatever
-- they are doing (running a task, taking the next, completing one). Every
-- task must end (none hangs); a task whose worker was killed fails with
-- WorkerDied; every other task's result arrives exactly once, and is its
-- own (no task runs twice, no result lands in another task's future).
local T = require "harness"
local pool = require "tide.pool"
local shared = require "tide.shared"
local os_ = require "tide.os"
local process = require "tide.process"

local N = 10000
local KILLS = N // 100
local HANG = 60  -- seconds: a hang detector for each result, not an ordering

T.test(N .. " tasks, " .. KILLS .. " random worker kills: every other result exactly once", function()
  math.randomseed(os.time())
  local p <close> = pool.ProcessPool{workers = 3}
  local runs = shared.Array("int", N)  -- how many times each task ran to its end
  local function task(i, r)
    local s = 0
    for k = 1, 20000 do s = s + k end  -- long enough to be caught mid-task now and then
    r[i] = r[i] + 1
    return i * 3, require("tide.os").getpid(), s
  end
  -- Only workers that already returned a result are killed: a worker
  -- killed again and again while starting breaks the pool by design.
  local ready, kills, died = {}, 0, 0
  local function kill_one()
    local pids = {}
    for _, c in ipairs(process.active_children()) do
      if ready[c.pid] then pids[#pids + 1] = c.pid end
    end
    if #pids == 0 then return false end
    local victim = pids[math.random(#pids)]
    ready[victim] = nil
    -- A worker that just died may already be gone while still listed.
    if not pcall(os_.kill, victim, "SIGKILL") then return false end
    kills = kills + 1
    return true
  end
  -- Rounds of ROUND tasks; in each, one kill once a random number of the
  -- round's results is in, while the others still run.
  local ROUND = N // KILLS
  local owed = 0
  for first = 1, N, ROUND do
    local futs = {}
    for i = first, first + ROUND - 1 do futs[i] = p:submit(task, i, runs) end
    local at = first + math.random(0, ROUND // 2)
    owed = owed + 1
    for i = first, first + ROUND - 1 do
      if i >= at and owed > 0 and kill_one() then owed = owed - 1 end
      local f = futs[i]
      require("tide.future").wait({f}, {timeout = HANG})
      T.truthy(f:done(), "task " .. i .. " ended")
      local ok, v, pid = pcall(f.result, f, 0)
      if ok then
        T.eq(v, i * 3, "task " .. i .. "'s own result")
        T.eq(runs[i], 1, "task " .. i .. " ran once")
        ready[pid] = true
      else
        T.truthy(require("tide").is_error(v, "WorkerDied"), "task " .. i .. ": " .. tostring(v))
        T.truthy(runs[i] <= 1, "a killed task did not run again")
        died = died + 1
      end
    end
  end
  T.truthy(kills >= KILLS * 9 // 10, "kills: " .. kills)
  T.truthy(died <= kills, ("%d tasks died, %d kills"):format(died, kills))
  T.eq(p:apply(function() return "still serving" end), "still serving")
  io.write(("  (%d kills, %d tasks failed with WorkerDied, %d results)\n"):format(kills, died, N - died))
end)

T.done()
