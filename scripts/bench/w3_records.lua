-- W3: 100,000 records {id=i, name="item"..i, tags={"a","b","c"}, score=i*0.5}
-- through a queue, one producer thread, one consumer thread (records per
-- second). Each record is encoded into shared memory and decoded again, so
-- the consumer gets its own copy (as a child process would).
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
local q_rate = N / bench.best(REPS, run, queue.Queue)
local sq_rate = N / bench.best(REPS, run, queue.SimpleQueue)
local py = bench.python("w3_records.py")
bench.line("W3 %d records, 1 producer + 1 consumer thread (best of %d): tide Queue %.0fk/s, SimpleQueue %.0fk/s   python queue.Queue (threads, no copy) %.0fk/s, multiprocessing.Queue %.0fk/s   ratio x%.1f / x%.1f   (target >= 1M/s)",
  N, REPS, q_rate / 1e3, sq_rate / 1e3, py.thread_per_s / 1e3, py.mp_per_s / 1e3,
  q_rate / py.thread_per_s, q_rate / py.mp_per_s)
