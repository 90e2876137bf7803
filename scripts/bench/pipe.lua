-- tide.pipe: 100,000 small messages (integers) between a parent and a fork
-- child over a duplex Pipe, messages per second. Round trips: the parent
-- sends one and waits for the child's echo. Streaming: the parent sends all
-- of them, the child receives them and answers once with their sum.
-- Python's multiprocessing.Pipe runs the same workloads (pipe.py).
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

local function echo(c)
  c:send("ready")
  for _ = 1, N do c:send(c:recv()) end
end

local function sink(c)
  c:send("ready")
  local s = 0
  for _ = 1, N do s = s + c:recv() end
  c:send(s)
end

local function timed(serve, body)
  local c, pid = start(serve)
  bench.check(c:recv() == "ready", "child did not start")
  local t0 = tide.monotonic()
  body(c)
  local dt = tide.monotonic() - t0
  local _, status = os_.waitpid(pid, 0)
  bench.check(os_.waitstatus_to_exitcode(status) == 0, "child failed")
  c:close()
  return dt
end

local function best(serve, body)
  local b
  for _ = 1, REPS do
    collectgarbage()
    local dt = timed(serve, body)
    if not b or dt < b then b = dt end
  end
  return b
end

local round = N / best(echo, function(c)
  for i = 1, N do
    c:send(i)
    if c:recv() ~= i then error("bad echo") end
  end
end)

local stream = N / best(sink, function(c)
  for i = 1, N do c:send(i) end
  bench.check(c:recv() == N * (N + 1) // 2, "bad sum")
end)

local py = bench.python("pipe.py")
bench.line("pipe round trips, %d ints parent <-> fork child (best of %d): tide %.0fk/s   python %.0fk/s   ratio x%.2f",
  N, REPS, round / 1e3, py.round_per_s / 1e3, round / py.round_per_s)
bench.line("pipe streaming, %d ints parent -> fork child (best of %d): tide %.2fM/s   python %.0fk/s   ratio x%.2f   (target >= 1M/s)",
  N, REPS, stream / 1e6, py.stream_per_s / 1e3, stream / py.stream_per_s)
