-- W10: 2 forked processes x 100,000 locked increments of one shared Value
-- (the lock is the Value's own RLock, as multiprocessing.Value's is).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local os_ = require "tide.os"
local shared = require "tide.shared"

local N, PROCS, REPS = 100000, 2, 3

local function run()
  local v = shared.Value("i", 0)
  local lock = v:get_lock()
  local pids = {}
  for p = 1, PROCS do
    local pid = os_.fork()
    if pid == 0 then
      for _ = 1, N do
        lock:acquire()
        v.value = v.value + 1
        lock:release()
      end
      os_._exit(0)
    end
    pids[p] = pid
  end
  for _, pid in ipairs(pids) do
    local _, status = os_.waitpid(pid, 0)
    bench.check(os_.waitstatus_to_exitcode(status) == 0, "W10 child failed")
  end
  bench.check(v.value == N * PROCS, "W10 value %d, expected %d", v.value, N * PROCS)
end

-- The same with tide.process.Process (each start method): the Value reaches
-- the children as an argument, as in the Python twin.
local process = require "tide.process"

local function work(v, n)
  local lock = v:get_lock()
  for _ = 1, n do
    lock:acquire()
    v.value = v.value + 1
    lock:release()
  end
end

local function run_process(method)
  local v = shared.Value("i", 0)
  local ps = {}
  for p = 1, PROCS do
    ps[p] = process.Process{target = work, args = {v, N}, start_method = method}
    ps[p]:start()
  end
  for _, p in ipairs(ps) do p:join() end
  bench.check(v.value == N * PROCS, "W10 value %d, expected %d", v.value, N * PROCS)
end

local us = bench.best(REPS, run) / (N * PROCS) * 1e6
local py = bench.python("w10_process_value.py")
bench.line("W10 %d processes x %d locked increments (best of %d): tide %.3f us/increment   python %.3f us/increment   speedup x%.1f   (target <=0.1 us)",
  PROCS, N, REPS, us, py.us_per_increment, py.us_per_increment / us)
for _, m in ipairs{"fork", "forkserver", "spawn"} do
  local pus = bench.best(REPS, run_process, m) / (N * PROCS) * 1e6
  bench.line("W10 process.Process(%s) %d x %d locked increments: tide %.3f us/increment   python %.3f us/increment   speedup x%.1f   (target <=0.1 us)",
    m, PROCS, N, pus, py.us_per_increment, py.us_per_increment / pus)
end
