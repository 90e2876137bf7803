-- tide.async: 1,000,000 integers through an async.Queue(100), one producer
-- task and one consumer task (items per second), beside asyncio.Queue.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local async = require "tide.async"

local N, SIZE, REPS = 1000000, 100, 3

local function run()
  local s = async.run(function()
    local q = async.Queue(SIZE)
    local consumer = async.spawn(function()
      local sum = 0
      for _ = 1, N do sum = sum + q:get() end
      return sum
    end)
    for i = 1, N do q:put(i) end
    return async.await(consumer)
  end)
  bench.check(s == N * (N + 1) // 2, "async_queue sum %d", s)
end

local rate = N / bench.best(REPS, run)
local py = bench.python("async_queue.py")
bench.line("async Queue(%d), %d ints, 1 producer + 1 consumer task (best of %d): tide %.2fM/s   asyncio %.2fM/s   ratio x%.1f%s",
  SIZE, N, REPS, rate / 1e6, py.asyncio_per_s / 1e6, rate / py.asyncio_per_s,
  py.uvloop_per_s and ("   uvloop %.2fM/s (x%.1f)"):format(py.uvloop_per_s / 1e6, rate / py.uvloop_per_s) or "")
