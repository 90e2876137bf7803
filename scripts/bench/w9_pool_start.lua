-- W9 (start): pool start to first result, for each start method (ms): ProcessPool of 2
-- workers made, one task submitted, its result back, the pool shut down.
-- Beside ThreadPool and Python's multiprocessing.Pool(2) and
-- ProcessPoolExecutor(2) per start method, in the same run.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"
local tide = require "tide"

local REPS = 10

local function first_result(make)
  local t0 = tide.monotonic()
  local p = make()
  bench.check(p:submit(function(x) return x + 1 end, 1):result() == 2, "pool start: result")
  local first = tide.monotonic() - t0
  p:shutdown()
  return first
end

local function best(make)
  first_result(make)  -- warm-up (the forkserver starts here)
  local b = math.huge
  for _ = 1, REPS do b = math.min(b, first_result(make)) end
  return b * 1e3
end

local py = bench.python("w9_pool_start.py")
local t = best(function() return pool.ThreadPool{workers = 2} end)
bench.line("pool start to first result, thread (best of %d): tide %.3f ms", REPS, t)
for _, m in ipairs{"fork", "forkserver", "spawn"} do
  local ms = best(function() return pool.ProcessPool{workers = 2, start_method = m} end)
  local mp, ex = py["mp_" .. m .. "_ms"], py["ex_" .. m .. "_ms"]
  bench.line("pool start to first result, %-10s (best of %d): tide %.3f ms   python Pool %.3f ms (x%.1f)   ProcessPoolExecutor %.3f ms (x%.1f)",
    m, REPS, ms, mp, mp / ms, ex, ex / ms)
end
