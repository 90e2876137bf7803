-- Actor call round trip (issue 13): one call, wait for its result, repeat
-- (us per call), on a thread actor and a process actor; then the same
-- calls pipelined (all queued, then every result). Python, same run: a
-- multiprocessing.Manager proxy method call (BaseManager with a registered
-- class: its server process serves each call) and ThreadPoolExecutor(1)
-- submit(...).result(). Ratios are Python's time over tide's.
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local bench = require "benchlib"
local actor = require "tide.actor"
local pool = require "tide.pool"

local N, REPS = 20000, 5

local Counter = {}
function Counter:__init() self.n = 0 end
function Counter:inc() self.n = self.n + 1 return self.n end

local function round_trip(ref)
  return bench.best(REPS, function()
    local last
    for _ = 1, N do last = ref:call("inc"):result() end
    bench.check(last and last > 0, "actor result %s", tostring(last))
  end) / N * 1e6
end

local function pipelined(ref)
  return bench.best(REPS, function()
    local futs = {}
    for i = 1, N do futs[i] = ref:call("inc") end
    for i = 1, N do futs[i]:result() end
  end) / N * 1e6
end

local function load() local f = io.open("/proc/loadavg") local s = f:read("l") f:close() return s:match("^(%S+ %S+ %S+)") end

local t = actor.spawn(Counter, nil, {where = "thread"})
local p = actor.spawn(Counter, nil, {where = "process"})
local t_rt, p_rt = round_trip(t), round_trip(p)
local t_pl, p_pl = pipelined(t), pipelined(p)
actor.destroy(t) actor.destroy(p)

local tp = pool.ThreadPool{workers = 1}
local function one() return 1 end
local tp_rt = bench.best(REPS, function()
  for _ = 1, N do tp:submit(one):result() end
end) / N * 1e6
tp:shutdown()

local py = bench.python("actor.py")
bench.line("load average: %s", load())
bench.line("actor call round trip (%d calls, best of %d):", N, REPS)
bench.line("  tide thread actor   %7.2f us/call   python Manager proxy %7.2f us/call   ratio x%.1f",
  t_rt, py.manager_us, py.manager_us / t_rt)
bench.line("  tide process actor  %7.2f us/call   python Manager proxy %7.2f us/call   ratio x%.1f",
  p_rt, py.manager_us, py.manager_us / p_rt)
bench.line("  tide ThreadPool(1) submit+result %7.2f us   python ThreadPoolExecutor(1) %7.2f us   ratio x%.1f",
  tp_rt, py.threadpool_us, py.threadpool_us / tp_rt)
bench.line("  thread actor vs python thread-pool submit: ratio x%.1f;  process actor: x%.1f",
  py.threadpool_us / t_rt, py.threadpool_us / p_rt)
bench.line("  pipelined (all queued, then results): thread actor %.2f us/call, process actor %.2f us/call",
  t_pl, p_pl)
