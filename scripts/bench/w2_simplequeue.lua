-- W2: 1,000,000 integers through a SimpleQueue, one producer thread, one
-- consumer thread (items per second), beside the C limit (bench_mutex_ring_ref:
-- a mutex+condvar ring and a lock-free SPSC ring) and Python's SimpleQueue,
-- all in the same run; then the same again with one core kept busy by a
-- spinning process, and with all three pinned to one CPU (taskset), where
-- Python's GIL costs it nothing. Then the batched put_many/get_many
-- extension (chunks of 1000).
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

-- Run again by measure_one_cpu under taskset: print tide's figures only.
if os.getenv("TIDE_W2_TIDE_ONLY") then
  run(consume, produce)
  local t, counts = bench.best_counted(REPS, N, run, consume, produce)
  print(string.format("rate=%.17g wakes=%.17g waits=%.17g faults=%.17g", N / t, counts.wakes, counts.waits, counts.faults))
  return
end

-- tide, C and Python one after another, under the same conditions.
local function measure()
  local t, counts = bench.best_counted(REPS, N, run, consume, produce)
  local c, note = bench.c("mutex_ring_ref", N, REPS)
  local py = bench.python("w2_simplequeue.py")
  return N / t, counts, c, note, py
end

-- The same, each pinned to one CPU by `prefix`.
local function measure_one_cpu(prefix)
  local r = bench.rerun("TIDE_W2_TIDE_ONLY=1 ", prefix)
  local c, note = bench.c_prefixed(prefix, "mutex_ring_ref", N, REPS)
  local py = bench.python("w2_simplequeue.py", prefix)
  return r.rate, {wakes = r.wakes, waits = r.waits, faults = r.faults}, c, note, py
end

local function report(label, rate, counts, c, note, py)
  bench.report{
    name = string.format("W2 SimpleQueue, %d ints, 1 producer + 1 consumer thread%s (best of %d)", N, label, REPS),
    unit = "M/s", fmt = "%.2f", tide = rate / 1e6, c = c and c.thread_mutex_mps, c_label = "C mutex ring", c_note = note,
    python = py.msg_per_s / 1e6, counts = counts,
    extra = c and string.format("   C lock-free SPSC %.1fM/s (tide x%.3f)", c.thread_spsc_mps, rate / 1e6 / c.thread_spsc_mps) or "",
    target = ">= x0.8 C mutex ring, above python, <= 0.01 wakes/item"}
end

run(consume, produce)  -- warm-up: the first run pays for fresh pages
report("", measure())
local many = N / bench.best(REPS, run, consume_many, produce_many)
local py_quiet = bench.python("w2_simplequeue.py")
bench.line("W2 batched put_many/get_many (chunks of %d): tide %.1fM/s   ratio to python per-item x%.1f   (target >= 30M/s)",
  CHUNK, many / 1e6, many / py_quiet.msg_per_s)

do
  local busy <close> = bench.busy_core(300)  -- a bound in case it is never stopped
  report(", one core busy", measure())
end

local pin = bench.one_cpu_prefix()
if pin then
  report(", all pinned to one CPU", measure_one_cpu(pin))
else
  bench.line("W2 pinned to one CPU: n/a (no taskset)")
end
