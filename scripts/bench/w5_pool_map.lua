-- W5: a pool of 2; map(function(x) return x*x end, 1..n) including pool
-- start and shutdown (us per item), at n = 10^3, 10^5 and 10^7: the
-- per-item cost should stay flat. Python: ThreadPoolExecutor.map and
-- multiprocessing.Pool.map.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"

local SIZES = {1000, 100000, 10000000}
local py = bench.python("w5_pool_map.py")

for _, n in ipairs(SIZES) do
  local list = {}
  for i = 1, n do list[i] = i end
  local reps = n >= 10000000 and 2 or 5
  local function run()
    local p <close> = pool.ThreadPool{workers = 2}
    local r = p:map(function(x) return x * x end, list)
    bench.check(#r == n and r[n] == n * n, "W5 result")
  end
  local us = bench.best(reps, run) / n * 1e6
  local tp, mp = py["executor_us_" .. n], py["mp_us_" .. n]
  local function fmt(v) return v and string.format("%.3f", v) or "n/a" end
  bench.line("W5 pool map (2 workers, n=%d, best of %d): tide %.3f us/item   python executor.map %s (x%s)   multiprocessing.Pool.map %s (x%s)   (target <=0.15 us)",
    n, reps, us, fmt(tp), tp and string.format("%.0f", tp / us) or "-", fmt(mp), mp and string.format("%.1f", mp / us) or "-")
end
