-- tide.async task switches: 100,000 tasks each doing async.sleep(0) ten
-- times, then gathered (us per switch, creation and gather included), beside
-- Python's asyncio (and uvloop when installed). Target: >= 10x asyncio.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local async = require "tide.async"

local N, K, REPS = 100000, 10, 3

local function worker()
  for _ = 1, K do async.sleep(0) end
  return 1
end

local function run()
  local total = async.run(function()
    local tasks = {}
    for i = 1, N do tasks[i] = async.spawn(worker) end
    local r = async.gather(tasks)
    local s = 0
    for i = 1, r.n do s = s + r[i] end
    return s
  end)
  bench.check(total == N, "async_switch: %d results, expected %d", total, N)
end

local us = bench.best(REPS, run) / (N * K) * 1e6
local py = bench.python("async_switch.py")
bench.line("async switch (%d tasks x %d sleep(0), gathered, best of %d): tide %.3f us/switch   asyncio %.3f us   ratio x%.1f%s   (target >= x10)",
  N, K, REPS, us, py.asyncio_us, py.asyncio_us / us,
  py.uvloop_us and ("   uvloop %.3f us (x%.1f)"):format(py.uvloop_us, py.uvloop_us / us) or "   (uvloop not installed)")
