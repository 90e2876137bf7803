-- tide.pipe: 100,000 small messages (integers) between a parent and a fork
-- child over a duplex Pipe, messages per second. Round trips: the parent
-- sends one and waits for the child's echo. Streaming: the parent sends all
-- of them, the child receives them and answers once with their sum.
-- Python's multiprocessing.Pipe runs the same workloads (pipe.py); the C
-- limit for streaming is bench_mutex_ring_ref's rings across a fork (a
-- mutex+condvar ring and a lock-free SPSC ring in shared memory). Counts:
-- futex calls and page faults of parent and child together, per message
-- (the child sends its own after the timed part). A Pipe waits on its
-- descriptors, not on futexes: its wake-ups are read/write calls that these
-- counters do not see.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local tide = require "tide"
local pipe = require "tide.pipe"
local os_ = require "tide.os"

local N, REPS = 100000, 5

-- Forks a child running serve(conn); returns the parent's end, the pid.
local function start(serve)
  local mine, theirs = pipe.Pipe()
  local pid = os_.fork()
  if pid == 0 then
    mine:close()
    local ok = pcall(serve, theirs)
    os_._exit(ok and 0 or 1)
  end
  theirs:close()
  return mine, pid
end

local function send_counts(c, before)
  local after = tide._counters()
  c:send({after.futex_wake - before.futex_wake, after.futex_wait - before.futex_wait, after.minflt - before.minflt})
end

local function echo(c)
  c:send("ready")
  local before = tide._counters()
  for _ = 1, N do c:send(c:recv()) end
  send_counts(c, before)
end

local function sink(c)
  c:send("ready")
  local before = tide._counters()
  local s = 0
  for _ = 1, N do s = s + c:recv() end
  c:send(s)
  send_counts(c, before)
end

local totals  -- futex wakes, futex waits, minor faults of the current best()

local function timed(serve, body)
  local c, pid = start(serve)
  bench.check(c:recv() == "ready", "child did not start")
  local c0 = tide._counters()
  local t0 = tide.monotonic()
  body(c)
  local dt = tide.monotonic() - t0
  local c1 = tide._counters()
  local child = c:recv()
  totals[1] = totals[1] + c1.futex_wake - c0.futex_wake + child[1]
  totals[2] = totals[2] + c1.futex_wait - c0.futex_wait + child[2]
  totals[3] = totals[3] + c1.minflt - c0.minflt + child[3]
  local _, status = os_.waitpid(pid, 0)
  bench.check(os_.waitstatus_to_exitcode(status) == 0, "child failed")
  c:close()
  return dt
end

-- The best time, and the counts per message over all repetitions.
local function best(serve, body)
  local b
  totals = {0, 0, 0}
  for _ = 1, REPS do
    collectgarbage()
    local dt = timed(serve, body)
    if not b or dt < b then b = dt end
  end
  local items = REPS * N
  return b, {wakes = totals[1] / items, waits = totals[2] / items, faults = totals[3] / items}
end

local round_t, round_counts = best(echo, function(c)
  for i = 1, N do
    c:send(i)
    if c:recv() ~= i then error("bad echo") end
  end
end)

local stream_t, stream_counts = best(sink, function(c)
  for i = 1, N do c:send(i) end
  bench.check(c:recv() == N * (N + 1) // 2, "bad sum")
end)

local cr, note = bench.c("mutex_ring_ref", N, REPS)
local py = bench.python("pipe.py")
bench.report{
  name = string.format("pipe round trips, %d ints parent <-> fork child (best of %d)", N, REPS),
  unit = "k/s", fmt = "%.0f", tide = N / round_t / 1e3, python = py.round_per_s / 1e3, counts = round_counts}
bench.report{
  name = string.format("pipe streaming, %d ints parent -> fork child (best of %d)", N, REPS),
  unit = "M/s", fmt = "%.3f", tide = N / stream_t / 1e6, c = cr and cr.proc_mutex_mps,
  c_label = "C mutex ring across fork", c_note = note, python = py.stream_per_s / 1e6, counts = stream_counts,
  extra = cr and string.format("   C lock-free SPSC ring across fork %.1fM/s (tide x%.3f)",
    cr.proc_spsc_mps, N / stream_t / 1e6 / cr.proc_spsc_mps) or "",
  target = ">= 1 M/s"}
