-- W2: 1,000,000 integers through a SimpleQueue, one producer thread, one
-- consumer thread (items per second). Then the same with the batched
-- put_many/get_many extension (chunks of 1000).
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local queue = require "tide.queue"
local thread = require "tide.thread"

local N, REPS, CHUNK = 1000000, 5, 1000

local function consume(q, n)
  local s = 0
  for _ = 1, n do s = s + q:get() end
  return s
end

local function produce(q, n)
  for i = 1, n do q:put(i) end
end

local function consume_many(q, n, chunk)
  local s, got = 0, 0
  while got < n do
    local items = q:get_many(chunk)
    for i = 1, #items do s = s + items[i] end
    got = got + #items
  end
  return s
end

local function produce_many(q, n, chunk)
  local buf = {}
  for base = 0, n - 1, chunk do
    for j = 1, chunk do buf[j] = base + j end
    q:put_many(buf)
  end
end

local function run(cons, prod)
  local q = queue.SimpleQueue()
  local c = thread.spawn(cons, q, N, CHUNK)
  local p = thread.spawn(prod, q, N, CHUNK)
  p:join()
  local s = c:join()
  bench.check(s == N * (N + 1) // 2, "W2 sum %d, expected %d", s, N * (N + 1) // 2)
end

run(consume, produce)  -- warm-up: the first run pays for fresh pages
local one = N / bench.best(REPS, run, consume, produce)
local many = N / bench.best(REPS, run, consume_many, produce_many)
local py = bench.python("w2_simplequeue.py")
bench.line("W2 SimpleQueue, %d ints, 1 producer + 1 consumer thread (best of %d): tide %.2fM/s   python %.2fM/s   ratio x%.2f   (target >= 7M/s)",
  N, REPS, one / 1e6, py.msg_per_s / 1e6, one / py.msg_per_s)
bench.line("W2 batched put_many/get_many (chunks of %d): tide %.1fM/s   ratio to python per-item x%.1f   (target >= 30M/s)",
  CHUNK, many / 1e6, many / py.msg_per_s)
