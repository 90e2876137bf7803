-- W5: a pool of 2; map(function(x) return x*x end, 1..n) including pool
-- start and shutdown (us per item), at n = 10^3, 10^5 and 10^7: the
-- per-item cost should stay flat. Python: ThreadPoolExecutor.map and
-- multiprocessing.Pool.map. No C reference: this is tide's own machinery.
-- TIDE_BENCH_W5_MAX=<n> replaces 10^7 by n (both here and in the Python
-- twin), for a quicker run: 10^7 takes tens of seconds on a loaded machine.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local pool = require "tide.pool"

local MAX = math.tointeger(tonumber(os.getenv("TIDE_BENCH_W5_MAX") or "")) or 10000000
local SIZES = {1000, 100000, MAX}
local py = bench.python("w5_pool_map.py")

local per_item = {}
for _, n in ipairs(SIZES) do
  local list = {}
  for i = 1, n do list[i] = i end
  local reps = n >= 10000000 and 2 or 5
  local function run()
    local p <close> = pool.ThreadPool{workers = 2}
    local r = p:map(function(x) return x * x end, list)
    bench.check(#r == n and r[n] == n * n, "W5 result")
  end
  local t, counts = bench.best_counted(reps, n, run)
  local us = t / n * 1e6
  per_item[n] = us
  local tp, mp = py["executor_us_" .. n], py["mp_us_" .. n]
  bench.report{
    name = string.format("W5 pool map (2 workers, n=%d, best of %d)", n, reps),
    unit = "us/item", tide = us, python = mp, counts = counts,
    extra = string.format("   (python: multiprocessing.Pool.map; executor.map %s, tide/executor %s)",
      bench.num(tp), bench.ratio(us, tp)),
    target = "<= 0.15 us"}
end
bench.line("W5 flatness: us/item at n=%d / at n=100000: x%.2f   (target <= x1.2)", MAX, per_item[MAX] / per_item[100000])
