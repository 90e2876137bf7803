-- W10: 2 forked processes x 100,000 locked increments of one shared Value
-- (the lock is the Value's own RLock, as multiprocessing.Value's is), beside
-- the C limit (bench_lock_pair_proc_ref: the same on a process-shared
-- pthread mutex, plain and robust) and Python's multiprocessing.Value in the
-- same run. Fork and wait are inside the timing for all three. The futex
-- and page-fault counts are the children's (each reports its own).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local os_ = require "tide.os"
local shared = require "tide.shared"
local process = require "tide.process"

local N, PROCS, REPS = 100000, 2, 3

-- The children's counts, 3 slots each: futex wakes, futex waits, minor faults.
local function new_counts() return shared.Array("int", 3 * PROCS, {lock = false}) end

local function work(v, n, counts, slot)
  local c0 = tide._counters()
  local lock = v:get_lock()
  for _ = 1, n do
    lock:acquire()
    v.value = v.value + 1
    lock:release()
  end
  local c1 = tide._counters()
  counts[slot + 1] = counts[slot + 1] + c1.futex_wake - c0.futex_wake
  counts[slot + 2] = counts[slot + 2] + c1.futex_wait - c0.futex_wait
  counts[slot + 3] = counts[slot + 3] + c1.minflt - c0.minflt
end

local function run(counts)
  local v = shared.Value("i", 0)
  local pids = {}
  for p = 1, PROCS do
    local pid = os_.fork()
    if pid == 0 then
      local ok = pcall(work, v, N, counts, (p - 1) * 3)
      os_._exit(ok and 0 or 1)
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
local function run_process(counts, method)
  local v = shared.Value("i", 0)
  local ps = {}
  for p = 1, PROCS do
    ps[p] = process.Process{target = work, args = {v, N, counts, (p - 1) * 3}, start_method = method}
    ps[p]:start()
  end
  for _, p in ipairs(ps) do p:join() end
  bench.check(v.value == N * PROCS, "W10 value %d, expected %d", v.value, N * PROCS)
end

local function per_item(counts)
  local s = {0, 0, 0}
  for i = 0, 3 * PROCS - 1 do s[i % 3 + 1] = s[i % 3 + 1] + counts[i + 1] end
  local items = REPS * N * PROCS
  return {wakes = s[1] / items, waits = s[2] / items, faults = s[3] / items}
end

local counts = new_counts()
local us = bench.best(REPS, run, counts) / (N * PROCS) * 1e6
local c, note = bench.c("lock_pair_proc_ref", N, REPS)
local py = bench.python("w10_process_value.py")
local c_us = c and c.c_robust_us_per_increment
local c_extra = c and string.format("   (C plain pshared mutex %.4f us)", c.c_us_per_increment) or ""
bench.report{
  name = string.format("W10 %d forked processes x %d locked increments (best of %d)", PROCS, N, REPS),
  unit = "us/increment", fmt = "%.4f", tide = us, c = c_us, c_label = "C robust pshared mutex", c_note = note,
  python = py.us_per_increment, counts = per_item(counts), extra = c_extra, target = "<= 0.15 us"}
for _, m in ipairs{"fork", "forkserver", "spawn"} do
  local pc = new_counts()
  local pus = bench.best(REPS, run_process, pc, m) / (N * PROCS) * 1e6
  bench.report{
    name = string.format("W10 process.Process(%s) %d x %d locked increments", m, PROCS, N),
    unit = "us/increment", fmt = "%.4f", tide = pus, c = c_us, c_label = "C robust pshared mutex", c_note = note,
    python = py.us_per_increment, counts = per_item(pc), target = "<= 0.15 us"}
end
