-- W9: ProcessPool{workers=2}:map(function(x) return x*x end, 1..n), pool
-- start and shutdown included (us per item), at n = 10^3, 10^5 and 10^7.
-- Python: multiprocessing.Pool(2).map and ProcessPoolExecutor(2).map with
-- a chunksize (n / 8, as tide's map chooses), each with its default start
-- method, in the same run.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"
local process = require "tide.process"

local SIZES = {1000, 100000, 10000000}
local py = bench.python("w9_process_pool_map.py")

for _, n in ipairs(SIZES) do
  local list = {}
  for i = 1, n do list[i] = i end
  local reps = n >= 10000000 and 2 or 5
  local function run()
    local p <close> = pool.ProcessPool{workers = 2}
    local r = p:map(function(x) return x * x end, list)
    bench.check(#r == n and r[n] == n * n, "W9 result")
  end
  run()  -- warm-up: the forkserver starts here
  local us = bench.best(reps, run) / n * 1e6
  local mp, ex = py["mp_us_" .. n], py["executor_us_" .. n]
  bench.line("W9 process pool map (2 workers, %s, n=%d, best of %d): tide %.3f us/item   python Pool.map %.3f (x%.1f)   ProcessPoolExecutor.map %.3f (x%.1f)   (target <=0.2 us, ahead of Pool.map)",
    process.get_start_method(), n, reps, us, mp, mp / us, ex, ex / us)
end
