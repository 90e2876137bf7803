-- W3: 100,000 records {id=i, name="item"..i, tags={"a","b","c"}, score=i*0.5}
-- through a queue, one producer thread, one consumer thread (records per
-- second). Each record is encoded into shared memory and decoded again, so
-- the consumer gets its own copy (as a child process would). No C reference:
-- the encoding is tide's own; W2's C ring is the limit for the queue itself.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local queue = require "tide.queue"
local thread = require "tide.thread"

local N, REPS = 100000, 5

local function consume(q, n)
  local ids, score, tags = 0, 0, 0
  for _ = 1, n do
    local r = q:get()
    ids = ids + r.id; score = score + r.score; tags = tags + #r.tags
    if r.name ~= "item" .. r.id then error("record " .. r.id .. " garbled") end
  end
  return ids, score, tags
end

local function produce(q, n)
  for i = 1, n do
    q:put({id = i, name = "item" .. i, tags = {"a", "b", "c"}, score = i * 0.5})
  end
end

local function run(make)
  local q = make()
  local c = thread.spawn(consume, q, N)
  local p = thread.spawn(produce, q, N)
  p:join()
  local ids, score, tags = c:join()
  bench.check(ids == N * (N + 1) // 2 and score == ids * 0.5 and tags == 3 * N,
    "W3 got ids %d score %s tags %d", ids, score, tags)
end

run(queue.Queue)  -- warm-up: the first run pays for fresh pages (Lua heap, arena)
local tq, cq = bench.best_counted(REPS, N, run, queue.Queue)
local tsq, csq = bench.best_counted(REPS, N, run, queue.SimpleQueue)
local py = bench.python("w3_records.py")
for _, r in ipairs{{"Queue", N / tq, cq}, {"SimpleQueue", N / tsq, csq}} do
  bench.report{
    name = string.format("W3 %d records, tide %s, 1 producer + 1 consumer thread (best of %d)", N, r[1], REPS),
    unit = "k/s", fmt = "%.0f", tide = r[2] / 1e3, python = py.thread_per_s / 1e3, counts = r[3],
    extra = string.format("   (python: queue.Queue between threads, no copy; multiprocessing.Queue %.0fk/s, tide/mp x%.2f)",
      py.mp_per_s / 1e3, r[2] / py.mp_per_s),
    target = ">= 1000 k/s"}
end
