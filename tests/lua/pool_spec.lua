-- tide.pool.ThreadPool (API.md §6): submit, map and friends, lifecycle.
-- Ordering uses Events, never sleeps.
local T = require "harness"
local tide = require "tide"
local pool = require "tide.pool"
local future = require "tide.future"
local sync = require "tide.sync"
local thread = require "tide.thread"

T.test("submit returns a Future with every return value", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local f = p:submit(function(a, b) return a + b, a .. b, nil, {a} end, 1, 2)
  local x, y, z, t = f:result()
  T.eq(x, 3); T.eq(y, "12"); T.eq(z, nil); T.same(t, {1})
  T.truthy(f:done())
end)

-- A future keeps a result of up to 64 bytes that refers to no object in
-- itself, and stores a bigger one: both read back alike, from a thread and
-- from a worker process of each start method.
T.test("results both sides of the size a future keeps in itself, from threads and processes", function()
  local makers = {function() return pool.ThreadPool{workers = 2} end}
  for _, m in ipairs{"fork", "spawn", "forkserver"} do
    makers[#makers + 1] = function() return pool.ProcessPool{workers = 2, start_method = m} end
  end
  for _, make in ipairs(makers) do
    local p <close> = make()
    local fs = {}
    for n = 0, 80 do fs[n] = p:submit(function(k) return string.rep("r", k), k, nil end, n) end
    for n = 0, 80 do
      T.eq(select("#", fs[n]:result()), 3)
      local s, k = fs[n]:result()
      T.eq(s, string.rep("r", n)); T.eq(k, n)
    end
  end
end)

T.test("workers default to the CPU count; names and __tostring", function()
  local p <close> = pool.ThreadPool()
  T.eq(p.workers, tide.cpu_count())
  T.match(p.name, "^ThreadPool%-%d+$")
  local q <close> = pool.ThreadPool{workers = 1, name = "crunch"}
  T.eq(q.name, "crunch")
  T.eq(q:submit(function() return require("tide.thread").current().name end):result(), "crunch_0")
  T.match(tostring(q), "ThreadPool 'crunch' %(1 workers, running%)")
end)

T.test("map returns results in order, with nil results in place", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local list = {}
  for i = 1, 1000 do list[i] = i end
  local r = p:map(function(x) return x * x end, list)
  T.eq(#r, 1000)
  for i = 1, 1000 do T.eq(r[i], i * i) end
  T.same(p:map(function(x) return x end, {}), {})
  local holes = p:map(function(x) if x % 2 == 0 then return x end end, {1, 2, 3, 4}, {chunksize = 1})
  T.eq(holes[1], nil); T.eq(holes[2], 2); T.eq(holes[3], nil); T.eq(holes[4], 4)
  T.same(p:map(function(x) return x + 1 end, {1, 2, 3}, {chunksize = 2}), {2, 3, 4})
end)

T.test("map sends contiguous chunks (about len / (4 x workers) items) to one worker each", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local list = {}
  for i = 1, 80 do list[i] = i end
  local function where() return require("tide.thread").current().name end
  local names = p:map(where, list)  -- chunks of 80 / (4 * 2) = 10
  for c = 0, 7 do
    for i = 2, 10 do T.eq(names[c * 10 + i], names[c * 10 + 1], "chunk " .. c) end
  end
  local one = p:map(where, list, {chunksize = 80})
  for i = 2, 80 do T.eq(one[i], one[1]) end
end)

T.test("a failing item makes map raise RemoteError naming its index", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local list = {}
  for i = 1, 50 do list[i] = i end
  local e = T.raises("RemoteError", "item 37 failed in worker 'ThreadPool%-%d+_%d'", p.map, p, function(x)
    if x == 37 then error("bad item " .. x) end
    return x
  end, list)
  T.eq(e.index, 37)
  T.match(e.worker, "^ThreadPool%-%d+_%d$")
  T.match(e.cause, "bad item 37")
  T.match(e.traceback, "pool_spec.lua")
  -- A tide error raised by the item is the cause as it was.
  local e2 = T.raises("RemoteError", p.map, p, function(x) error(tide.error("Full", "x" .. x)) end, {5})
  T.truthy(tide.is_error(e2.cause, "Full")); T.eq(e2.cause.message, "x5")
end)

T.test("map and imap keep items after holes in the input", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local function f(x) return (x or 0) * 10 end
  local r = p:map(f, {1, nil, 3, 4}, {chunksize = 4})
  T.eq(r[1], 10); T.eq(r[2], 0); T.eq(r[3], 30); T.eq(r[4], 40)
  local list = {1, 2, 3, 4, 5, 6, 7, 8}
  list[2], list[3], list[4] = nil, nil, nil
  local r2 = p:map(f, list, {chunksize = 8})
  T.eq(r2[1], 10); T.eq(r2[3], 0); T.eq(r2[8], 80)
  local n, got = 0, {}
  local src = {1, false, 3}
  for i, v in p:imap(function(x) if x then return x * 10 end end, function()
    n = n + 1
    return src[n]
  end, {chunksize = 4, indexed = true}) do got[i] = v == nil and "nil" or v end
  T.same(got, {10, "nil", 30})
end)

T.test("starmap and apply", function()
  local p <close> = pool.ThreadPool{workers = 2}
  T.same(p:starmap(function(a, b) return a * b end, {{2, 3}, {4, 5}, {6, 7}}), {6, 20, 42})
  T.same(p:starmap(function(a, b, c) return c end, {{1, nil, 3, n = 3}}), {3})
  T.eq(select("#", p:apply(function(...) return ... end, 1, nil, 3)), 3)
  T.eq(p:apply(string.rep, "ab", 3), "ababab")  -- a C function travels by name
  T.raises("ArgumentError", "argument array", p.starmap, p, print, {1})
end)

T.test("imap yields in order; imap_unordered in completion order", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local got = {}
  for v, i in p:imap(function(x) return x * 10 end, {1, 2, 3, 4, 5}) do got[#got + 1] = i .. ":" .. v end
  T.eq(table.concat(got, " "), "1:10 2:20 3:30 4:40 5:50")
  -- Item 1 waits until item 2's result has been yielded: 2 comes out first.
  local ev = sync.Event()
  local order = {}
  for v, i in p:imap_unordered(function(x)
    if x == 1 then ev:wait() end
    return x
  end, {1, 2}) do
    order[#order + 1] = v .. "@" .. i
    ev:set()
  end
  T.eq(table.concat(order, " "), "2@2 1@1")
  local idx = {}
  for i, v in p:imap(function(x) if x ~= 2 then return x end end, {1, 2, 3}, {indexed = true}) do idx[i] = v or "nil" end
  T.same(idx, {1, "nil", 3})
end)

T.test("imap reads an endless iterator lazily with bounded read-ahead", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local produced = 0
  local function naturals() produced = produced + 1 return produced end
  local got = 0
  for v in p:imap(function(x) return x * 2 end, naturals, {chunksize = 3}) do
    got = got + 1
    T.eq(v, got * 2)
    if got == 20 then break end
  end
  T.truthy(produced >= 20, "read at least what was used")
  T.truthy(produced <= 20 + 2 * p.workers * 3 + 3, "bounded read-ahead, read " .. produced)
end)

T.test("leaving an imap loop early cancels the chunks not yet started", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local ran = require("tide.shared").Value("int", 0)
  local ev = sync.Event()
  for v in p:imap(function(x)
    ran:add(1)
    if x >= 2 then ev:wait() end
    return x
  end, {1, 2, 3, 4, 5, 6}) do
    T.eq(v, 1)
    break
  end
  ev:set()
  p:shutdown()
  T.truthy(ran.value <= 2, "without the cancel all three would run; ran " .. ran.value)
end)

T.test("shutdown runs all queued work even when workers retire (max_tasks_per_worker)", function()
  local p = pool.ThreadPool{workers = 2, max_tasks_per_worker = 2}
  local fs = {}
  for i = 1, 10 do fs[i] = p:submit(function(x) return x end, i) end
  p:shutdown()
  for i = 1, 10 do T.eq(fs[i]:result(0), i) end
  local q = pool.ThreadPool{workers = 1, max_tasks_per_worker = 1}
  local gs = {}
  for i = 1, 4 do gs[i] = q:submit(function(x) return -x end, i) end
  q:close()
  T.eq(q:join(), true)
  for i = 1, 4 do T.eq(gs[i]:result(0), -i) end
end)

T.test("imap raises the item's error and stops", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local seen = {}
  local e = T.raises("RemoteError", "item 3", function()
    for v in p:imap(function(x) if x == 3 then error("three") end return x end, {1, 2, 3, 4, 5}) do
      seen[#seen + 1] = v
    end
  end)
  T.eq(e.index, 3)
  T.same(seen, {1, 2})
end)

T.test("map with a timeout raises Timeout and cancels what has not started", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local ev = sync.Event()
  T.raises("Timeout", p.map, p, function(x) ev:wait() return x end, {1, 2, 3}, {timeout = 0.05, chunksize = 1})
  ev:set()
end)

T.test("a task error fails only its own Future", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local fs = {}
  for i = 1, 3 do fs[i] = p:submit(function(x) if x == 2 then error("two!") end return x end, i) end
  T.eq(fs[1]:result(), 1); T.eq(fs[3]:result(), 3)
  local e = T.raises("RemoteError", "in worker 'ThreadPool%-%d+_%d': .*two!", fs[2].result, fs[2])
  T.match(e.worker, "^ThreadPool%-%d+_%d$")
  T.match(e.cause, "two!")
  T.match(e.traceback, "pool_spec.lua")
  T.truthy(tide.is_error(fs[2]:exception(), "RemoteError"))
end)

T.test("a result that cannot be sent back fails its Future (as Thread:join does)", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local f = p:submit(function() return coroutine.create(print) end)
  local e = T.raises("RemoteError", "return value 1: cannot transfer a coroutine", f.result, f)
  T.truthy(tide.is_error(e.cause, "TransferError"))
  T.eq(p:submit(function() return "still serving" end):result(), "still serving")
end)

T.test("cancel works for pending tasks, not running ones", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local started, release = sync.Event(), sync.Event()
  local running = p:submit(function(s, r) s:set() r:wait() return "ran" end, started, release)
  local pending = p:submit(function() return "never" end)
  started:wait()
  T.eq(running:cancel(), false); T.truthy(running:running())
  T.eq(pending:cancel(), true); T.truthy(pending:cancelled())
  release:set()
  T.eq(running:result(), "ran")
  T.raises("Cancelled", pending.result, pending)
end)

T.test("shutdown: submit after it raises InvalidState; cancel_futures cancels the queue", function()
  local p = pool.ThreadPool{workers = 1}
  local started, release = sync.Event(), sync.Event()
  local first = p:submit(function(s, r) s:set() r:wait() return 1 end, started, release)
  local queued = {}
  for i = 1, 3 do queued[i] = p:submit(function() return i end) end
  started:wait()
  p:shutdown{wait = false, cancel_futures = true}
  for i = 1, 3 do T.truthy(queued[i]:cancelled(), "queued " .. i) end
  T.raises("InvalidState", "after shutdown", p.submit, p, print)
  release:set()
  T.eq(first:result(), 1)
  p:shutdown()  -- idempotent; waits
  T.eq(p:join(), true)
  T.match(tostring(p), "shut down")
end)

T.test("shutdown with wait finishes queued work", function()
  local p = pool.ThreadPool{workers = 2}
  local fs = {}
  for i = 1, 20 do fs[i] = p:submit(function(x) return x end, i) end
  p:shutdown()
  for i = 1, 20 do T.truthy(fs[i]:done()); T.eq(fs[i]:result(), i) end
end)

T.test("close, join and terminate", function()
  local p = pool.ThreadPool{workers = 1}
  T.raises("InvalidState", "still running", p.join, p)
  p:close()
  T.eq(p:join(), true)
  local q = pool.ThreadPool{workers = 1}
  local started = sync.Event()
  local blocked = q:submit(function(s) s:set() require("tide.sync").Event():wait() end, started)
  local queued = q:submit(function() return 1 end)
  started:wait()
  q:terminate()
  T.raises("Cancelled", blocked.result, blocked)
  T.truthy(queued:cancelled())
  T.eq(q:join(), true)
  T.raises("InvalidState", q.submit, q, print)
end)

T.test("<close> shuts the pool down with wait", function()
  local f
  do
    local p <close> = pool.ThreadPool{workers = 1}
    f = p:submit(function() return "done" end)
  end
  T.truthy(f:done())
  T.eq(f:result(), "done")
end)

T.test("initializer and initargs run once in each worker", function()
  local p <close> = pool.ThreadPool{workers = 2, initializer = function(a, b) _G.setting = a .. b end,
                                    initargs = {"x", "y"}}
  local r = p:map(function() return _G.setting end, {1, 2, 3, 4}, {chunksize = 1})
  T.same(r, {"xy", "xy", "xy", "xy"})
end)

T.test("an initializer that raises breaks the pool with BrokenPool carrying the cause", function()
  local p = pool.ThreadPool{workers = 2, initializer = function() error("no database") end}
  local e = T.raises("BrokenPool", "initializer raised", function() return p:submit(function() return 1 end):result() end)
  T.match(tostring(e.cause), "no database")
  local e2 = T.raises("BrokenPool", "is broken", p.submit, p, print)
  T.match(tostring(e2.cause), "no database")
  T.match(tostring(p), "broken")
  p:shutdown()
end)

T.test("max_tasks_per_worker replaces the worker with a fresh state", function()
  local p <close> = pool.ThreadPool{workers = 1, max_tasks_per_worker = 2}
  local r = {}
  for i = 1, 5 do
    r[i] = p:submit(function()
      _G.count = (_G.count or 0) + 1
      return _G.count, require("tide.thread").current().name
    end)
  end
  local counts, names = {}, {}
  for i = 1, 5 do counts[i], names[i] = r[i]:result() end
  T.same(counts, {1, 2, 1, 2, 1})
  T.eq(names[1], names[2]); T.truthy(names[2] ~= names[3]); T.truthy(names[4] ~= names[5])
end)

T.test("closures carry their upvalues as they were at each submit", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local n = 1
  local function get() return n end
  local a = p:submit(get)
  n = 2
  local b = p:submit(get)
  T.eq(a:result(), 1); T.eq(b:result(), 2)
  -- The same pure function reused: encoded once, still correct.
  local function sq(x) return x * x end
  local fs = {}
  for i = 1, 100 do fs[i] = p:submit(sq, i) end
  for i = 1, 100 do T.eq(fs[i]:result(), i * i) end
end)

T.test("a new closure literal at each submit runs as one function; different code is never confused", function()
  local p <close> = pool.ThreadPool{workers = 1}
  -- Each submit makes a new closure, found by its bytecode in submit's cache
  -- (and in the worker's decode cache): the worker runs one copy of it (it
  -- counts the distinct functions it ran, holding each).
  local fs = {}
  for i = 1, 50 do
    fs[i] = p:submit(function(x)
      local me = debug.getinfo(1, "f").func
      _G.ran = _G.ran or {n = 0}
      if not _G.ran[me] then _G.ran[me] = true; _G.ran.n = _G.ran.n + 1 end
      return _G.ran.n, x
    end, i)
  end
  for i = 1, 50 do
    local copies, x = fs[i]:result()
    T.eq(copies, 1); T.eq(x, i)
  end
  -- Alternating literals with different code, then two with the same code on
  -- different lines: each runs as itself, line numbers included.
  local got = {}
  for i = 1, 20 do
    if i % 2 == 0 then
      got[i] = p:submit(function(x) return x * 2 end, i)
    else
      got[i] = p:submit(function(x) return -x end, i)
    end
  end
  for i = 1, 20 do T.eq(got[i]:result(), i % 2 == 0 and i * 2 or -i) end
  -- Two literals on one line whose bytecode differs in one operand byte.
  for i = 1, 20 do got[i] = p:submit(i % 2 == 0 and function(x) return x + 1 end or function(x) return x + 2 end, i) end
  for i = 1, 20 do T.eq(got[i]:result(), i % 2 == 0 and i + 1 or i + 2) end
  -- Two on one line whose bytecode is the same and only a local's name
  -- differs: each runs with its own debug information.
  for i = 1, 20 do
    got[i] = p:submit(i % 2 == 0 and function(a) return (debug.getlocal(1, 1)) end
                        or function(b) return (debug.getlocal(1, 1)) end, i)
  end
  for i = 1, 20 do T.eq(got[i]:result(), i % 2 == 0 and "a" or "b") end
  -- The same source loaded twice: two prototypes of one bytecode (found by
  -- dump, not by prototype, then the other's prototype remembered), all right.
  local src = "return function(x) return x * 7 end"
  local one, two = load(src)(), load(src)()
  for i = 1, 20 do got[i] = p:submit(i % 3 == 0 and one or load(src)(), i) end
  for i = 1, 20 do T.eq(got[i]:result(), i * 7) end
  T.eq(p:submit(two, 3):result(), 21)
  local a = p:submit(function() error("boom") end)
  local b = p:submit(function()
    error("boom") end)
  local ea, eb = T.raises("RemoteError", "boom", a.result, a), T.raises("RemoteError", "boom", b.result, b)
  T.truthy(tostring(ea):match(":(%d+): boom") ~= tostring(eb):match(":(%d+): boom"),
           "same bytecode on different lines ran as one: " .. tostring(ea) .. " / " .. tostring(eb))
  -- A literal that is also reused afterwards is still right.
  local f
  for i = 1, 3 do f = function(x) return x + 100 end; T.eq(p:submit(f, i):result(), i + 100) end
  for i = 1, 10 do T.eq(p:submit(f, i):result(), i + 100) end
end)

T.test("nested submission from a task to another pool", function()
  local outer <close> = pool.ThreadPool{workers = 1}
  local inner <close> = pool.ThreadPool{workers = 2}
  local r = outer:submit(function(other)
    local fs = {}
    for i = 1, 4 do fs[i] = other:submit(function(x) return x * 3 end, i) end
    local s = 0
    for i = 1, 4 do s = s + fs[i]:result() end
    return s, other:map(function(x) return -x end, {1, 2})[2]
  end, inner)
  local s, neg = r:result()
  T.eq(s, 30); T.eq(neg, -2)
end)

T.test("a task can wait for another task it submits to its own pool", function()
  local p <close> = pool.ThreadPool{workers = 2}
  for round = 1, 200 do
    local f = p:submit(function(self, r) return self:submit(function(x) return x + 1 end, r):result() end, p, round)
    T.eq(f:result(), round + 1)
  end
end)

T.test("a worker cannot wait for its own pool", function()
  local p <close> = pool.ThreadPool{workers = 1}
  local f = p:submit(function(self) return pcall(self.shutdown, self) end, p)
  local ok, e = f:result()
  T.eq(ok, false); T.truthy(tide.is_error(e, "InvalidState"))
end)

T.test("apply_async runs callback / error_callback in this state at its next wait", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local log = {}
  local f1 = p:apply_async(function(a, b) return a + b, "x" end, {2, 3}, {callback = function(v, w) log[#log + 1] = v .. w end})
  local f2 = p:apply_async(function() error("bad") end, nil, {error_callback = function(e) log[#log + 1] = e.kind end})
  future.wait({f1, f2})
  T.same(log, {"5x", "RemoteError"})
  T.raises("ArgumentError", p.apply_async, p, print, 5)
end)

T.test("pool.default() is one shared pool sized to the CPU count", function()
  local a, b = pool.default(), pool.default()
  T.eq(a.name, b.name); T.eq(a.workers, tide.cpu_count())
  T.eq(a:submit(function() return 7 end):result(), 7)
end)

T.test("bad arguments raise ArgumentError", function()
  T.raises("ArgumentError", "workers", pool.ThreadPool, {workers = 0})
  T.raises("ArgumentError", "workers", pool.ThreadPool, {workers = "2"})
  T.raises("ArgumentError", "initializer", pool.ThreadPool, {initializer = 5})
  T.raises("ArgumentError", "initargs", pool.ThreadPool, {initializer = print, initargs = 5})
  T.raises("ArgumentError", "name", pool.ThreadPool, {name = 5})
  T.raises("ArgumentError", "max_tasks_per_worker", pool.ThreadPool, {max_tasks_per_worker = 0})
  T.raises("ArgumentError", pool.ThreadPool, 5)
  local p <close> = pool.ThreadPool{workers = 1}
  T.raises("ArgumentError", p.submit, p, 5)
  T.raises("ArgumentError", p.map, p, print, 5)
  T.raises("ArgumentError", "chunksize", p.map, p, print, {}, {chunksize = 0})
  T.raises("ArgumentError", "timeout", p.map, p, print, {}, {timeout = -1})
  T.raises("ArgumentError", p.imap, p, print, 5)
  T.raises("TransferError", "argument 1", p.submit, p, print, coroutine.create(print))
end)

T.test("a pool in a forked child is broken, the parent's keeps working", function()
  local p <close> = pool.ThreadPool{workers = 1}
  T.eq(p:submit(function() return 1 end):result(), 1)
  local pid = T.fork(function()
    local ok, e = pcall(p.submit, p, print)
    return (not ok and tide.is_error(e, "BrokenPool")) and 0 or 1
  end)
  T.eq(T.exit_code(pid), 0)
  T.eq(p:submit(function() return 2 end):result(), 2)
end)

T.test("at exit, pools finish their queued work", function()
  local code, out = T.run_tide([[-e 'local p = require("tide.pool").ThreadPool{workers = 1}
    local ev = require("tide.sync").Event()
    p:submit(function(e) e:wait() print("first") end, ev)
    p:submit(function() print("second") end)
    ev:set()']])
  T.eq(code, 0)
  T.eq(out, "first\nsecond\n")
end)

T.test("Ctrl-C interrupts a blocking map and the script exits promptly", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local p = assert(io.popen(bin .. [[ -e 'local pool = require("tide.pool").ThreadPool{workers = 2}
    print(require("tide.os").getpid()) io.stdout:flush()
    local t = {} for i = 1, 8 do t[i] = i end
    pool:map(function() require("tide.sync").Event():wait() end, t)' 2>&1; echo "status $?"]]))
  local pid = math.tointeger(tonumber(p:read("l")))
  require("tide.os").kill(pid, "SIGINT")
  local rest = p:read("a")
  p:close()
  T.match(rest, "Interrupted")
  T.match(rest, "status 130")
end)

T.test("progress prints nothing when stderr is not a terminal", function()
  local code, out, err = T.run_tide([[-e 'local p = require("tide.pool").ThreadPool{workers = 2}
    local r = p:map(function(x) return x end, {1, 2, 3}, {progress = true}) print(#r)']])
  T.eq(code, 0); T.eq(out, "3\n"); T.eq(err, "")
end)

T.test("progress draws count, rate and ETA on a terminal", function()
  local bin = os.getenv("TIDE_BIN") or "tide"
  local f = os.tmpname()
  local script = io.open(f, "w")
  script:write([[local p = require("tide.pool").ThreadPool{workers = 2}
    local t = {} for i = 1, 40 do t[i] = i end
    p:map(function(x) return x end, t, {progress = true})]])
  script:close()
  -- script(1) runs the command on a pseudo-terminal.
  local pipe = assert(io.popen(("script -qec '%s %s' /dev/null"):format(bin, f)))
  local out = pipe:read("a")
  pipe:close()
  os.remove(f)
  T.match(out, "%[#+%] 40/40 [%d.]+/s ETA %d+:%d%d")
end)

T.test("a submitted future is one value: callbacks, as_completed and a queue round trip give the same handle", function()
  local p <close> = pool.ThreadPool{workers = 2}
  local futs, seen = {}, {}
  for i = 1, 20 do futs[i] = p:submit(function(x) return x end, i) end
  local got = {}
  for i = 1, 20 do futs[i]:add_done_callback(function(f) got[i] = f end) end
  for f in future.as_completed(futs) do seen[f] = true end
  for i = 1, 20 do T.eq(seen[futs[i]], true) end
  future.poll()  -- every future is done: each callback runs now at the latest
  for i = 1, 20 do T.eq(rawequal(got[i], futs[i]), true) end
  local q = require("tide.queue").Queue()
  q:put(futs[7])
  T.eq(rawequal(q:get(), futs[7]), true)
end)

T.done()
