-- Cancellation in tide.async: task:cancel() raises Cancelled at the task's
-- await point, whichever it is; pcall cannot swallow it; further awaits
-- raise at once; cancelling a task cancels what it awaits (a gather's
-- children, an awaited task, a pending future); primitives pass on what a
-- cancelled waiter was given; Ctrl-C in async.run cancels everything and
-- raises Interrupted. Ordering uses events and the loop's turns.
local T = require "harness"
local tide = require "tide"
local async = require "tide.async"
local thread = require "tide.thread"
local sync = require "tide.sync"

-- Runs body(ready) in a task inside pcall, lets it reach its await, cancels
-- it and checks: Cancelled was raised there, the pcall did not swallow it
-- (nothing after it ran), the task is cancelled. `setup` (optional) runs in
-- the main task first and returns the body's argument; `teardown(arg)`
-- (optional) runs at the end.
local function cancels_at(name, body, setup, teardown)
  T.test("cancel at " .. name .. ": Cancelled raised there, not swallowed by pcall", function()
    async.run(function()
      local arg = setup and setup()
      local after_pcall, caught = false, nil
      local t = async.spawn(function()
        local ok, err = pcall(body, arg)
        after_pcall = true  -- never reached: pcall re-raises a cancelled task's error
        caught = {ok, err}
      end)
      for _ = 1, 3 do async.sleep(0) end  -- it is at its await now
      T.falsy(t:done(), name .. " finished instead of waiting")
      T.truthy(t:cancel())
      local ok, err = pcall(async.await, t)
      T.falsy(ok)
      T.eq(tide.is_error(err, "Cancelled"), true, tostring(err))
      T.falsy(after_pcall, "pcall swallowed the cancellation: " .. tostring(caught and caught[2]))
      T.truthy(t:cancelled())
      T.falsy(t:cancel())  -- done: cancel is false
      if teardown then teardown(arg) end
    end)
  end)
end

local forever = function() async.Event():wait() end

cancels_at("sleep", function() async.sleep(3600) end)
cancels_at("sleep(0) (ready, not yet run)", function() while true do async.sleep(0) end end)
cancels_at("await of a task", function() async.await(async.spawn(forever)) end)
cancels_at("await of a pool future", function(f) async.await(f) end,
           function() return require("tide.future").new() end)
cancels_at("await of a thread", function(a) async.await(a.thread) end,
           function()
             local gate = sync.Event()
             return {gate = gate, thread = thread.spawn(function(g) g:wait(30) end, gate)}
           end,
           function(a) a.gate:set() a.thread:join() end)
cancels_at("gather", function() async.gather(forever, forever) end)
cancels_at("wait_for", function() async.wait_for(forever, 3600) end)
cancels_at("an as_completed iterator", function() for _ in async.as_completed({async.spawn(forever)}) do end end)
cancels_at("Queue:get", function() async.Queue():get() end)
cancels_at("Queue:put (full)", function() local q = async.Queue(1) q:put(1) q:put(2) end)
cancels_at("Queue:join", function() local q = async.Queue() q:put(1) q:join() end)
cancels_at("Event:wait", forever)
cancels_at("Lock:acquire", function(l) l:acquire() end, function() local l = async.Lock() l:acquire() return l end)
cancels_at("Semaphore:acquire", function() async.Semaphore(0):acquire() end)
cancels_at("Condition:wait", function(c) c:acquire() c:wait() end, function() return async.Condition() end)
cancels_at("async.get of a tide.queue", function(q) async.get(q) end, function() return require("tide.queue").Queue() end)
cancels_at("async.put to a full tide.queue", function(q) async.put(q, 2) end,
           function() local q = require("tide.queue").Queue(1) q:put(1) return q end)
cancels_at("async.recv", function(ends) async.recv(ends[1]) end,
           function() return {require("tide.pipe").Pipe()} end)  -- both ends kept: no end of stream
cancels_at("async.readable", function(fd) async.readable(fd) end, function() return (require("tide.os").pipe()) end)
cancels_at("async.waitpid", function(a) async.waitpid(a.pid) end,
           function()
             local os_, go = require "tide.os", sync.Event()
             local pid = os_.fork()
             if pid == 0 then go:wait(30) os_._exit(0) end
             return {pid = pid, go = go}
           end,
           function(a) a.go:set() require("tide.os").waitpid(a.pid) end)
cancels_at("an async.iter generator's await", function()
  for _ in async.iter(function() forever() coroutine.yield(1) end) do end
end)
cancels_at("a timeout scope's await", function() local s <close> = async.timeout(3600) forever() end)

T.test("a task cancelled before it ever ran never runs", function()
  async.run(function()
    local ran = false
    local t = async.spawn(function() ran = true end)
    t:cancel()
    async.sleep(0)
    T.truthy(t:cancelled()); T.falsy(ran)
  end)
end)

T.test("a task cancelling itself gets Cancelled at its next await; later awaits raise at once", function()
  async.run(function()
    local log = {}
    local t = async.spawn(function()
      async.current_task():cancel()
      log[#log + 1] = "still running"
      local c <close> = setmetatable({}, {__close = function()
        log[#log + 1] = select(2, pcall(async.sleep, 0)).kind  -- an await while unwinding
      end})
      async.sleep(0)
      log[#log + 1] = "not reached"
    end)
    pcall(async.await, t)
    T.same(log, {"still running", "Cancelled"})
  end)
end)

T.test("cancel(msg) puts the message in the Cancelled error", function()
  async.run(function()
    local t = async.spawn(forever)
    async.sleep(0)
    t:cancel("because")
    local _, err = pcall(async.await, t)
    T.eq(err.message, "because")
  end)
end)

T.test("a cancelled gather cancels its children", function()
  async.run(function()
    local a, b = async.spawn(forever), async.spawn(forever)
    local done = async.spawn(function() return 1 end)
    local g = async.spawn(function() async.gather(a, b, done) end)
    async.sleep(0) async.sleep(0)
    g:cancel()
    pcall(async.await, g)
    async.sleep(0)
    T.truthy(a:cancelled()); T.truthy(b:cancelled()); T.falsy(done:cancelled())
  end)
end)

T.test("cancelling a task cancels the task it awaits, and a pending future it awaits", function()
  async.run(function()
    local inner = async.spawn(forever)
    local outer = async.spawn(function() async.await(inner) end)
    local f = require("tide.future").new()
    local fut_waiter = async.spawn(function() async.await(f) end)
    async.sleep(0) async.sleep(0)
    outer:cancel(); fut_waiter:cancel()
    async.sleep(0)
    T.truthy(inner:cancelled())
    T.truthy(f:cancelled())
  end)
end)

T.test("a Queue getter cancelled after it was woken passes the item on", function()
  async.run(function()
    local q = async.Queue()
    local a = async.spawn(function() return q:get() end)
    local b = async.spawn(function() return q:get() end)
    async.sleep(0)
    q:put("x")   -- wakes a
    a:cancel()   -- before a runs
    T.eq(async.await(b), "x")
    T.truthy(a:cancelled())
  end)
end)

T.test("a Lock handed to a waiter that is cancelled goes to the next waiter", function()
  async.run(function()
    local l = async.Lock()
    l:acquire()
    local a = async.spawn(function() l:acquire() return "a" end)
    local b = async.spawn(function() l:acquire() return "b" end)
    async.sleep(0)
    l:release()  -- handed to a
    a:cancel()
    T.eq(async.await(b), "b")
    T.truthy(l:locked())
    l:release()
    T.falsy(l:locked())
  end)
end)

T.test("a Condition wait that is cancelled takes the lock back before raising", function()
  async.run(function()
    local c = async.Condition()
    local held_at_raise
    local t = async.spawn(function()
      c:acquire()
      local ok = pcall(c.wait, c)
      held_at_raise = ok
    end)
    local observer = async.spawn(function()
      async.sleep(0) async.sleep(0)
      c:acquire()   -- t waits (the lock is free)
      t:cancel()
      async.sleep(0)
      T.falsy(t:done())  -- t needs the lock back first
      c:release()
    end)
    async.await(observer)
    pcall(async.await, t)
    T.truthy(t:cancelled())
    T.truthy(c:locked())  -- t raised while holding it (its pcall could not catch)
  end)
end)

-- ---- Ctrl-C ------------------------------------------------------------------

-- Waits until the main thread sleeps in the kernel, then sends it SIGINT.
local function interrupt_main_when_blocked()
  local pid = require("tide.os").getpid()
  return thread.spawn(function(pid)
    local os_, th = require "tide.os", require "tide.thread"
    repeat
      local f = io.open(string.format("/proc/%d/task/%d/stat", pid, pid))
      local stat = f:read("a"); f:close()
      if stat:match("%) S ") then break end
      th.yield()
    until false
    os_.kill(pid, "SIGINT")
  end, pid)
end

T.test("Ctrl-C in async.run cancels the tasks (they unwind) and raises Interrupted", function()
  local unwound = {}
  local killer = interrupt_main_when_blocked()
  local err = T.raises("Interrupted", async.run, function()
    local child = async.spawn(function()
      local c <close> = setmetatable({}, {__close = function() unwound[#unwound + 1] = "child" end})
      async.sleep(3600)
    end)
    local c <close> = setmetatable({}, {__close = function() unwound[#unwound + 1] = "main" end})
    async.await(child)
  end)
  killer:join()
  table.sort(unwound)
  T.same(unwound, {"child", "main"})
  T.truthy(err)
end)

T.test("Ctrl-C during a blocking tide call inside a task ends the run with Interrupted too", function()
  local killer = interrupt_main_when_blocked()
  local other_unwound = false
  T.raises("Interrupted", async.run, function()
    async.spawn(function()
      local c <close> = setmetatable({}, {__close = function() other_unwound = true end})
      async.sleep(3600)
    end)
    async.sleep(0)
    sync.Event():wait()  -- tide.sync: blocks the loop (and the thread) until Ctrl-C
  end)
  killer:join()
  T.truthy(other_unwound)
end)

T.test("Ctrl-C while tasks only switch (no blocking wait) also ends the run with Interrupted", function()
  local code, out, err = T.run_tide([[-e '
    local async = require "tide.async"
    local os_ = require "tide.os"
    async.run(function()
      local n = 0
      local t = async.spawn(function() while true do n = n + 1 async.sleep(0) end end)
      async.sleep(0)
      os_.kill(os_.getpid(), "SIGINT")
      while true do async.sleep(0) end
    end)']])
  T.eq(code, 130, err)
  T.match(err, "Interrupted")
end)

T.test("a worker thread running a loop is cancelled: its tasks unwind and the join raises Cancelled", function()
  local started = sync.Event()
  local unwound = sync.Event()
  local th = thread.spawn(function(started, unwound)
    local async = require "tide.async"
    async.run(function()
      local c <close> = setmetatable({}, {__close = function() unwound:set() end})
      started:set()
      async.sleep(3600)
    end)
  end, started, unwound)
  started:wait()
  T.wait_blocked(th)
  th:cancel()
  T.raises("Cancelled", th.join, th)
  T.truthy(unwound:wait(10))
end)

T.done()
