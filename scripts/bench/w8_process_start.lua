-- W8: start and join 100 processes one after another, each target returning
-- at once, for each start method (ms per process), beside Python's
-- multiprocessing and the C limits (bench_fork_ref: fork + _exit + waitpid;
-- bench_w11_spawn_ref: posix_spawn of /bin/true + waitpid) in the same run.
-- Counts: the parent's futex calls and page faults per process started, and
-- (measured apart, untimed) the page faults a child has taken by the time its
-- target runs.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local process = require "tide.process"

local N, REPS, PROBES = 100, 3, 10
local TARGET = {fork = "<= x2 C fork+exit+wait", forkserver = "<= 2 ms (issue 14 sets none)",
  spawn = "<= x1.5 C posix_spawn of /bin/true"}

local function run(method, n)
  for i = 1, n or N do
    local p = process.Process{target = function(x) return x end, args = {i}, start_method = method}
    p:start()
    bench.check(p:join() == i, "W8 %s: wrong result", method)
  end
end

-- Mean page faults of a child from its start to its target.
local function child_faults(method)
  local sum = 0
  for _ = 1, PROBES do
    local p = process.Process{target = function() return require("tide")._counters().minflt end,
      start_method = method}
    p:start()
    sum = sum + p:join()
  end
  return sum / PROBES
end

local py = bench.python("w8_process_start.py")
local cfork, fnote = bench.c("fork_ref", N, REPS)
local cspawn, snote = bench.c("w11_spawn_ref", N, REPS)
local C = {
  fork = {cfork and cfork.c_ms, "C fork+exit+wait", fnote},
  forkserver = {cfork and cfork.c_ms, "C fork+exit+wait", fnote},
  spawn = {cspawn and cspawn.c_ms, "C posix_spawn(/bin/true)", snote},
}
for _, m in ipairs{"fork", "forkserver", "spawn"} do
  run(m, 5)  -- warm-up (the forkserver starts here)
  local t, counts = bench.best_counted(REPS, N, run, m)
  bench.report{
    name = string.format("W8 %-10s start+join x%d (best of %d)", m, N, REPS),
    unit = "ms/process", tide = t / N * 1e3, c = C[m][1], c_label = C[m][2], c_note = C[m][3],
    python = py[m .. "_ms"], counts = counts,
    extra = string.format("   child faults before its target %.0f", child_faults(m)), target = TARGET[m]}
end
