-- tide.async: one loop awaits 100,000 futures of a 2-worker ThreadPool while
-- the pool works (submit all, then await each in order; us per future),
-- beside asyncio awaiting loop.run_in_executor futures of a
-- ThreadPoolExecutor(2).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local async = require "tide.async"
local pool = require "tide.pool"

local N, REPS = 100000, 3

local p = pool.ThreadPool{workers = 2}
local function inc(x) return x + 1 end

local function run()
  local s = async.run(function()
    local futs = {}
    for i = 1, N do futs[i] = p:submit(inc, i) end
    local sum = 0
    for i = 1, N do sum = sum + async.await(futs[i]) end
    return sum
  end)
  bench.check(s == N * (N + 1) // 2 + N, "async_pool sum %d", s)
end

local us = bench.best(REPS, run) / N * 1e6
p:shutdown()
local py = bench.python("async_pool.py")
bench.line("async await of pool futures (2 workers, %d futures, best of %d): tide %.2f us/future   asyncio %.2f us   ratio x%.1f%s",
  N, REPS, us, py.asyncio_us, py.asyncio_us / us,
  py.uvloop_us and ("   uvloop %.2f us (x%.1f)"):format(py.uvloop_us, py.uvloop_us / us) or "")
