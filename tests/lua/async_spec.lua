-- tide.async (API.md §12): run, spawn, Tasks, await, sleep, gather,
-- wait_for, as_completed, timeout scopes, to_thread, async generators,
-- loops stepped from outside, unretrieved errors. Ordering uses async.Event
-- and the tasks themselves, never sleeps; a sleep appears only where time
-- is the subject (timeouts, sleep's own order).
local T = require "harness"
local tide = require "tide"
local async = require "tide.async"

-- ---- run and spawn --------------------------------------------------------

T.test("run returns the main function's results and passes its arguments", function()
  local a, b, c = async.run(function(x, y) return x + y, "two", nil end, 40, 2)
  T.eq(a, 42); T.eq(b, "two"); T.eq(c, nil)
  T.eq(select("#", async.run(function() end)), 0)
end)

T.test("run raises the main task's own error object", function()
  local e = {code = 7}
  local ok, err = pcall(async.run, function() error(e) end)
  T.falsy(ok)
  T.eq(err, e)
  T.raises("ArgumentError", async.run, 42)
end)

T.test("nested async.run is an error (InvalidState) that the task can catch", function()
  local kind = async.run(function()
    local ok, err = pcall(async.run, function() end)
    return not ok and err.kind
  end)
  T.eq(kind, "InvalidState")
end)

T.test("outside a loop, spawn and the awaiting functions raise InvalidState", function()
  T.raises("InvalidState", async.spawn, function() end)
  T.raises("InvalidState", async.sleep, 0)
  T.raises("InvalidState", async.await, {})
  T.raises("InvalidState", async.gather, function() end)
  T.raises("InvalidState", async.timeout, 1)
  T.eq(async.current_task(), nil)
  T.eq(async.get_loop(), nil)
end)

T.test("spawned tasks start at the next turn, in spawn order, and interleave at sleep(0)", function()
  local log = {}
  async.run(function()
    local function worker(name)
      for i = 1, 3 do log[#log + 1] = name .. i; async.sleep(0) end
    end
    local a, b = async.spawn(worker, "a"), async.spawn(worker, "b")
    log[#log + 1] = "main"
    async.await(a); async.await(b)
  end)
  T.eq(table.concat(log, " "), "main a1 b1 a2 b2 a3 b3")
end)

T.test("current_task and get_loop inside a task; a task's name", function()
  async.run(function()
    local me = async.current_task()
    T.truthy(me)
    T.eq(async.get_loop():is_running(), true)
    local t = async.spawn(function() return async.current_task() end)
    T.eq(async.await(t), t)
    T.match(t.name, "^Task%-%d+$")
    t:set_name("worker")
    T.eq(t:get_name(), "worker")
    T.eq(tostring(t), "Task 'worker' (completed)")
  end)
end)

-- ---- Tasks as Futures -----------------------------------------------------

T.test("a Task: done, result, exception, cancelled, status", function()
  async.run(function()
    local ev = async.Event()
    local t = async.spawn(function() ev:wait() return 1, 2 end)
    T.falsy(t:done())
    T.eq(t:status(), "pending")
    async.sleep(0)
    T.eq(t:status(), "running")
    ev:set()
    local a, b = t:result()  -- inside a task, result() awaits
    T.eq(a, 1); T.eq(b, 2)
    T.truthy(t:done()); T.falsy(t:cancelled())
    T.eq(t:exception(), nil)
    local bad = async.spawn(function() error(tide.error("Empty", "nothing")) end)
    T.eq(bad:exception().kind, "Empty")
    local ok, err = pcall(bad.result, bad)
    T.falsy(ok); T.eq(err.kind, "Empty")
  end)
end)

T.test("result() of an unfinished task outside its loop raises InvalidState; with a timeout inside, Timeout", function()
  local loop = async.new_loop()
  local ev = async.Event()
  local t = loop:spawn(function() ev:wait() end)
  T.raises("InvalidState", t.result, t)
  loop:run(function()
    T.raises("Timeout", t.result, t, 0.01)
    ev:set()
    t:result()
  end)
  loop:close()
end)

T.test("add_done_callback runs fn(task) at the next turn after the task is done; remove_done_callback", function()
  local seen = {}
  async.run(function()
    local t = async.spawn(function() return "x" end)
    local function cb(task) seen[#seen + 1] = task:result() end
    local function never() seen[#seen + 1] = "removed" end
    t:add_done_callback(cb)
    t:add_done_callback(never)
    T.eq(t:remove_done_callback(never), 1)
    async.await(t)
    async.sleep(0)
    t:add_done_callback(cb)  -- already done: the next turn
    T.eq(#seen, 1)
    async.sleep(0)
  end)
  T.same(seen, {"x", "x"})
end)

T.test("a callback's error is logged and does not stop the loop", function()
  local code, out, err = T.run_tide([[-e '
    local async = require "tide.async"
    async.run(function()
      local t = async.spawn(function() end)
      t:add_done_callback(function() error("in callback") end)
      async.await(t) async.sleep(0) async.sleep(0)
      print("went on")
    end)']])
  T.eq(code, 0, err)
  T.eq(out, "went on\n")
  T.match(err, "in callback")
end)

-- ---- await ------------------------------------------------------------------

T.test("await gives a task's results, raises its error, and takes a list (like gather)", function()
  async.run(function()
    T.eq(select("#", async.await(async.spawn(function() return 1, nil, 3 end))), 3)
    local ok, err = pcall(async.await, async.spawn(function() error("bad", 0) end))
    T.falsy(ok); T.eq(err, "bad")
    local r = async.await({async.spawn(function() return "a" end), async.spawn(function() return "b", "ignored" end)})
    T.same(r, {"a", "b", n = 2})
    T.raises("ArgumentError", async.await, 42)
    T.raises("InvalidState", async.await, async.current_task())
  end)
end)

T.test("await of a task of another loop is an error", function()
  local other = async.new_loop()
  local t = other:spawn(function() end)
  async.run(function() T.raises("InvalidState", async.await, t) end)
  other:close()
end)

-- ---- sleep -------------------------------------------------------------------

T.test("sleeps end in order of their times; sleep checks its argument", function()
  local order = {}
  async.run(function()
    local a = async.spawn(function() async.sleep(0.03) order[#order + 1] = "long" end)
    local b = async.spawn(function() async.sleep(0.01) order[#order + 1] = "short" end)
    async.gather(a, b)
    T.raises("ArgumentError", async.sleep, -1)
    T.raises("ArgumentError", async.sleep, "x")
  end)
  T.same(order, {"short", "long"})
end)

-- ---- gather ------------------------------------------------------------------

T.test("gather: the first result of each, in order, from tasks and functions; n counts nils", function()
  async.run(function()
    local ev = async.Event()
    local r = async.gather(
      function() ev:wait() return "first", "dropped" end,
      async.spawn(function() ev:set() return "second" end),
      function() return nil end)
    T.same(r, {"first", "second", n = 3})
    T.same(async.gather({}), {n = 0})
    T.same(async.gather({function() return 1 end}), {1, n = 1})
  end)
end)

T.test("gather raises the first error as it happens; the others go on", function()
  async.run(function()
    local ev = async.Event()
    local slow = async.spawn(function() ev:wait() return "done" end)
    local ok, err = pcall(async.gather, slow, function() error(tide.error("Full", "first")) end)
    T.falsy(ok); T.eq(err.kind, "Full")
    T.falsy(slow:done())
    ev:set()
    T.eq(async.await(slow), "done")
  end)
end)

T.test("gather{return_exceptions = true} puts the errors in the array", function()
  async.run(function()
    local r = async.gather({function() error(tide.error("Empty", "e")) end, function() return 2 end,
                            function() error("plain", 0) end}, {return_exceptions = true})
    T.eq(r[1].kind, "Empty"); T.eq(r[2], 2); T.eq(r[3], "plain")
    T.raises("ArgumentError", async.gather, {42})
    T.raises("ArgumentError", async.gather, {}, 5)
  end)
end)

-- ---- wait_for / timeout -------------------------------------------------

T.test("wait_for returns the results in time; at the timeout the task is cancelled and Timeout raised", function()
  async.run(function()
    T.eq(async.wait_for(function() return "quick" end, 10), "quick")
    T.eq(async.wait_for(async.spawn(function() return 5 end), nil), 5)
    local cleaned = false
    local t = async.spawn(function()
      local c <close> = setmetatable({}, {__close = function() cleaned = true end})
      async.Event():wait()
    end)
    T.raises("Timeout", async.wait_for, t, 0.02)
    T.truthy(t:cancelled())
    T.truthy(cleaned)  -- it finished unwinding before wait_for returned
  end)
end)

T.test("a timeout scope turns its cancellation into Timeout, after which the task goes on", function()
  async.run(function()
    local ok, err = pcall(function()
      local scope <close> = async.timeout(0.02)
      async.Event():wait()
    end)
    T.falsy(ok); T.eq(err.kind, "Timeout")
    -- the task is not cancelled any more: it awaits normally
    async.sleep(0)
    T.eq(async.await(async.spawn(function() return "fine" end)), "fine")
  end)
end)

T.test("a timeout scope that does not expire changes nothing; expired() and when()", function()
  async.run(function()
    local s
    do
      local scope <close> = async.timeout(10)
      s = scope
      async.sleep(0)
    end
    T.falsy(s:expired())
    T.truthy(s:when() > tide.monotonic())
    local none <close> = async.timeout(nil)
    T.eq(none:when(), nil)
  end)
end)

T.test("nested timeout scopes: the inner one's Timeout is caught inside the outer one", function()
  async.run(function()
    local outer_ok, outer_err = pcall(function()
      local outer <close> = async.timeout(10)
      local ok, err = pcall(function()
        local inner <close> = async.timeout(0.01)
        async.Event():wait()
      end)
      T.falsy(ok); T.eq(err.kind, "Timeout")
      return "inside"
    end)
    T.truthy(outer_ok); T.eq(outer_err, "inside")
  end)
end)

T.test("a scope expiring while a task unwinds a user's cancel does not turn it into Timeout", function()
  async.run(function()
    local c = async.Condition()
    local scope_fired = async.Event()
    local t = async.spawn(function()
      local scope <close> = async.timeout(0.02)
      c:acquire()
      c:wait()  -- cancelled here; then it must take the lock back, held below
    end)
    async.sleep(0) async.sleep(0)
    c:acquire()          -- t waits on the condition; the lock is ours now
    t:cancel("by the user")
    async.sleep(0.05)    -- t's scope expires while t waits for the lock (time is the subject)
    c:release()
    local ok, err = pcall(async.await, t)
    T.falsy(ok); T.eq(err.kind, "Cancelled"); T.eq(err.message, "by the user")
    T.truthy(t:cancelled())
  end)
end)

T.test("a timeout scope can be rescheduled", function()
  async.run(function()
    local ok, err = pcall(function()
      local scope <close> = async.timeout(nil)
      scope:reschedule(0.01)
      async.Event():wait()
    end)
    T.falsy(ok); T.eq(err.kind, "Timeout")
  end)
end)

-- ---- as_completed -------------------------------------------------------

T.test("as_completed: completion order, already-done items first, Timeout at its deadline", function()
  async.run(function()
    local e1, e2 = async.Event(), async.Event()
    local a = async.spawn(function() e1:wait() return "a" end)
    local b = async.spawn(function() e2:wait() return "b" end)
    local done = async.spawn(function() return "done" end)
    async.sleep(0)
    local it = async.as_completed({a, b, done})
    T.eq(it(), done)
    e2:set()
    T.eq(it(), b)
    e1:set()
    T.eq(it(), a)
    T.eq(it(), nil)
    local never = async.spawn(function() async.Event():wait() end)
    local it2 = async.as_completed({never}, 0.01)
    T.raises("Timeout", it2)
    never:cancel()
  end)
end)

-- ---- to_thread ------------------------------------------------------------

T.test("to_thread runs the function on the default pool and awaits it while other tasks run", function()
  async.run(function()
    local gate = require("tide.sync").Event()
    -- The pool's function waits for a gate only a task of this loop opens:
    -- to_thread must not block the loop.
    local opener = async.spawn(function()
      for _ = 1, 3 do async.sleep(0.001) end
      gate:set()
    end)
    local a, b = async.to_thread(function(g, x)
      if not g:wait(10) then return "the loop was blocked" end
      return x * 2, "pool"
    end, gate, 21)
    T.eq(a, 42); T.eq(b, "pool")
    async.await(opener)
    local ok, err = pcall(async.to_thread, function() error("in pool") end)
    T.falsy(ok); T.eq(err.kind, "RemoteError")
  end)
end)

-- ---- async generators -------------------------------------------------------

T.test("async.iter: values from a generator that awaits; it:next(); arguments", function()
  async.run(function()
    local ev = async.Event()
    local function gen(n)
      for i = 1, n do
        async.sleep(0)
        coroutine.yield(i)
      end
      ev:wait()
      coroutine.yield("after")
    end
    local got = {}
    local helper = async.spawn(function() async.sleep(0) ev:set() end)
    for v in async.iter(gen, 3) do got[#got + 1] = v end
    T.same(got, {1, 2, 3, "after"})
    async.await(helper)
    local it = async.iter(function() coroutine.yield("one") end)
    T.eq(it:next(), "one")
    T.eq(it:next(), nil)
    T.eq(it:next(), nil)
  end)
end)

T.test("breaking out of an async.iter loop closes the generator (its <close> variables run)", function()
  local closed = false
  async.run(function()
    local function gen()
      local c <close> = setmetatable({}, {__close = function() closed = true end})
      for i = 1, math.huge do coroutine.yield(i) end
    end
    for v in async.iter(gen) do if v == 2 then break end end
  end)
  T.truthy(closed)
end)

T.test("a generator's error reaches the loop reading it", function()
  async.run(function()
    local ok, err = pcall(function()
      for _ in async.iter(function() coroutine.yield(1) error("gen failed", 0) end) do end
    end)
    T.falsy(ok); T.eq(err, "gen failed")
  end)
end)

T.test("a plain coroutine.wrap generator inside a task may await (the await passes through)", function()
  async.run(function()
    local gen = coroutine.wrap(function()
      for i = 1, 2 do async.sleep(0.001) coroutine.yield(i) end
    end)
    T.eq(gen(), 1); T.eq(gen(), 2)
    local co = coroutine.create(function() async.sleep(0) return "done" end)
    local ok, v = coroutine.resume(co)
    T.truthy(ok); T.eq(v, "done")
  end)
end)

T.test("coroutine.yield straight from a task fails it with InvalidState", function()
  async.run(function()
    local t = async.spawn(function() coroutine.yield("stray") end)
    local ok, err = pcall(async.await, t)
    T.falsy(ok); T.eq(err.kind, "InvalidState")
  end)
end)

-- ---- deadlock and loops ------------------------------------------------

T.test("when nothing can ever wake a task, run raises InvalidState (deadlock) instead of hanging", function()
  local err = T.raises("InvalidState", async.run, function() async.Event():wait() end)
  T.match(err.message, "deadlock")
end)

T.test("a loop stepped from outside: step runs what is ready and returns without blocking", function()
  local loop <close> = async.new_loop()
  local log = {}
  loop:spawn(function() for i = 1, 2 do log[#log + 1] = i; async.sleep(0) end end)
  local sleeper = loop:spawn(function() async.sleep(3600) end)
  T.truthy(loop:step())
  T.same(log, {1})
  T.truthy(loop:step(0))
  T.same(log, {1, 2})
  for _ = 1, 3 do loop:step() end
  T.falsy(sleeper:done())   -- and step came back: it never waits for the sleeper
  T.eq(#loop:tasks(), 1)
  T.match(tostring(loop), "1 task")
  sleeper:cancel()
  T.falsy(loop:step())
  T.truthy(sleeper:cancelled())
end)

T.test("step from inside the loop's own task, or of a closed loop, raises InvalidState", function()
  local loop = async.new_loop()
  local t = loop:spawn(function() return pcall(loop.step, loop) end)
  loop:step()
  local ok, err = t:result()
  T.falsy(ok); T.eq(err.kind, "InvalidState")
  loop:close()
  T.raises("InvalidState", loop.step, loop)
  T.raises("InvalidState", loop.spawn, loop, function() end)
  T.truthy(loop:is_closed())
end)

T.test("closing a loop cancels its tasks, which unwind", function()
  local loop = async.new_loop()
  local cleaned = false
  local t = loop:spawn(function()
    local c <close> = setmetatable({}, {__close = function() cleaned = true end})
    async.sleep(3600)
  end)
  loop:step()
  loop:close()
  T.truthy(t:cancelled())
  T.truthy(cleaned)
end)

T.test("each thread may run its own loop", function()
  local thread = require "tide.thread"
  local ts = {}
  for i = 1, 3 do
    ts[i] = thread.spawn(function(n)
      local async = require "tide.async"
      return async.run(function()
        local r = async.gather(function() async.sleep(0.001) return n end, function() return n * 10 end)
        return r[1] + r[2]
      end)
    end, i)
  end
  async.run(function()
    for i = 1, 3 do T.eq(async.await(ts[i]), i * 11) end
  end)
end)

-- ---- unretrieved errors ---------------------------------------------------

T.test("a task error nobody retrieved is logged once, with its traceback, when the loop ends", function()
  local code, _, err = T.run_tide([[-e '
    local async = require "tide.async"
    async.run(function()
      local t = async.spawn(function() local function deep() error("lost error") end deep() end)
      async.sleep(0) async.sleep(0)
    end)']])
  T.eq(code, 0, err)
  local _, n = err:gsub("Task exception was never retrieved", "")
  T.eq(n, 1, err)
  T.match(err, "lost error")
  T.match(err, "'deep'")
end)

T.test("an unretrieved error is logged when the task is collected, and not again", function()
  local code, out, err = T.run_tide([[-e '
    local async = require "tide.async"
    async.run(function()
      async.spawn(function() error("collected error") end)
      async.sleep(0) async.sleep(0)
      collectgarbage() collectgarbage()
      io.stderr:write("after gc\n")
    end)']])
  T.eq(code, 0, err)
  local _, n = err:gsub("Task exception was never retrieved", "")
  T.eq(n, 1, err)
  T.truthy(err:find("collected error", 1, true) < err:find("after gc", 1, true))
end)

T.test("retrieved errors (await, result, exception, gather) and cancellations are not logged", function()
  local code, _, err = T.run_tide([[-e '
    local async = require "tide.async"
    async.run(function()
      local a = async.spawn(function() error("a") end)
      local b = async.spawn(function() error("b") end)
      local c = async.spawn(function() error("c") end)
      local d = async.spawn(function() async.sleep(10) end)
      async.sleep(0)
      pcall(async.await, a); b:exception(); async.gather({c}, {return_exceptions = true})
      d:cancel()
    end)']])
  T.eq(code, 0, err)
  T.falsy(err:find("never retrieved"), err)
end)

-- ---- many tasks ---------------------------------------------------------

T.test("100,000 tasks run, are gathered and leave nothing behind", function()
  local n = T.sanitizer and 20000 or 100000
  local before
  async.run(function()
    collectgarbage() collectgarbage()
    before = collectgarbage("count")
    local tasks = {}
    for i = 1, n do tasks[i] = async.spawn(function() async.sleep(0) return i end) end
    local r = async.gather(tasks)
    T.eq(r.n, n)
    T.eq(r[n], n)
    local loop = async.get_loop()
    T.eq(loop.ntasks, 1)  -- only the main task
    T.eq(loop.nwatch, 0)
    tasks, r = nil, nil
  end)
  collectgarbage() collectgarbage()
  local after = collectgarbage("count")
  T.truthy(after - before < 2048, ("%.0f KB left after %d tasks"):format(after - before, n))
end)

T.done()
