-- W8: start and join 100 processes one after another, each target returning
-- at once, for each start method (ms per process), beside Python's
-- multiprocessing doing the same in the same run.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local process = require "tide.process"

local N, REPS = 100, 3
local TARGET = {fork = 1.2, forkserver = 2, spawn = 5}

local function run(method)
  for i = 1, N do
    local p = process.Process{target = function(x) return x end, args = {i}, start_method = method}
    p:start()
    bench.check(p:join() == i, "W8 %s: wrong result", method)
  end
end

local py = bench.python("w8_process_start.py")
for _, m in ipairs{"fork", "forkserver", "spawn"} do
  run(m)  -- warm-up (the forkserver starts here)
  local ms = bench.best(REPS, run, m) / N * 1e3
  local pms = py[m .. "_ms"]
  bench.line("W8 %-10s start+join x%d (best of %d): tide %.3f ms/process   python %.3f ms/process   speedup x%.1f   (target <=%g ms)",
    m, N, REPS, ms, pms, pms / ms, TARGET[m])
end
