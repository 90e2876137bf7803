-- tide.thread: API.md §2 and the foundation issue's bad-input list.
local T = require "harness"
local tide = require "tide"
local thread = require "tide.thread"

T.test("spawn runs a function and join returns all its values", function()
  local t = thread.spawn(function(a, b) return a + b, nil, "x" end, 2, 3)
  local n = select("#", t:join())
  T.eq(n, 3, "result count")
  local a, b, c = t:join()  -- joining again gives the same results
  T.eq(a, 5); T.eq(b, nil); T.eq(c, "x")
  T.eq(math.type(a), "integer")
end)

T.test("more than 20 results survive (lua_checkstack)", function()
  local t = thread.spawn(function()
    local r = {}
    for i = 1, 300 do r[i] = i end
    return table.unpack(r)
  end)
  local r = table.pack(t:join())
  T.eq(r.n, 300); T.eq(r[300], 300)
end)

T.test("Thread{} is not started until start(); status moves new -> completed", function()
  local t = thread.Thread{target = function(x) return x * 2 end, args = {21}, name = "doubler"}
  T.eq(t:status(), "new")
  T.eq(t.name, "doubler")
  T.eq(t.ident, nil)
  T.falsy(t:is_alive())
  t:start()
  T.eq(t:join(), 42)
  T.eq(t:status(), "completed")
  T.truthy(math.type(t.ident) == "integer" and t.ident > 0, "ident")
  T.falsy(t:is_alive())
end)

T.test("args keep holes when args.n is given", function()
  local t = thread.Thread{target = function(...) return select("#", ...), ... end, args = {n = 3, 1, nil, 3}}
  t:start()
  local n, a, b, c = t:join()
  T.eq(n, 3); T.eq(a, 1); T.eq(b, nil); T.eq(c, 3)
end)

T.test("starting twice raises InvalidState", function()
  local t = thread.spawn(function() end)
  T.raises("InvalidState", "already started", t.start, t)
  t:join()
end)

T.test("join before start raises InvalidState", function()
  local t = thread.Thread{target = function() end}
  T.raises("InvalidState", "before it is started", t.join, t)
end)

T.test("a thread cannot join itself", function()
  local t = thread.spawn(function()
    local me = require("tide.thread").current()
    local ok, err = pcall(me.join, me)
    return ok, err
  end)
  local ok, err = t:join()
  T.eq(ok, false)
  T.truthy(tide.is_error(err, "InvalidState"), "InvalidState crossed back")
  T.match(err.message, "current thread")
end)

T.test("an error in the thread comes back as RemoteError naming the thread", function()
  local t = thread.Thread{target = function() error("boom") end, name = "bad-worker"}
  t:start()
  local err = T.raises("RemoteError", "bad%-worker", t.join, t)
  T.match(err.message, "boom")
  T.match(err.cause, "boom")
  T.match(err.traceback, "stack traceback")
  T.eq(t:status(), "failed")
  T.eq(t:wait(), true, "wait does not raise for the thread's own error")
end)

T.test("a raised table comes back as the cause", function()
  local t = thread.spawn(function() error({code = 42, nested = {"x"}}) end)
  local err = T.raises("RemoteError", t.join, t)
  T.eq(type(err.cause), "table")
  T.eq(err.cause.code, 42)
  T.eq(err.cause.nested[1], "x")
end)

T.test("a tide error raised in the thread keeps its kind as the cause", function()
  local t = thread.spawn(function() error(require("tide").error("Full", "no room")) end)
  local err = T.raises("RemoteError", t.join, t)
  T.truthy(tide.is_error(err.cause, "Full"), "cause is a Full error")
  T.eq(tostring(err.cause), "Full: no room")
end)

T.test("an error object whose __tostring raises does not break the thread", function()
  local t = thread.spawn(function()
    error(setmetatable({}, {__tostring = function() error("tostring exploded") end}))
  end)
  local err = T.raises("RemoteError", t.join, t)
  T.match(err.message, "error object is a table value")
end)

T.test("an error inside the thread's own error handler is contained", function()
  local t = thread.spawn(function()
    local ok, msg = xpcall(function() error("first") end, function() error("in handler") end)
    return ok, type(msg)
  end)
  local ok, ty = t:join()
  T.eq(ok, false)
  T.eq(ty, "string")
  local t2 = thread.spawn(function()
    return xpcall(function() error("first") end, function() error("in handler") end)
  end)
  T.eq((t2:join()), false)
end)

T.test("upvalues are copied: mutation in the worker is not seen by the sender", function()
  local counter = 10
  local cfg = {step = 5}
  local t = thread.spawn(function()
    counter = counter + cfg.step
    cfg.step = 0
    return counter
  end)
  T.eq(t:join(), 15)
  T.eq(counter, 10)
  T.eq(cfg.step, 5)
end)

T.test("the worker sees a fresh global table", function()
  GLOBAL_IN_MAIN = "main"
  local t = thread.spawn(function() return GLOBAL_IN_MAIN, type(string.format), type(require) end)
  local g, f, r = t:join()
  T.eq(g, nil); T.eq(f, "function"); T.eq(r, "function")
  GLOBAL_IN_MAIN = nil
end)

T.test("captured modules and standard functions arrive working", function()
  local fmt = string.format
  local th = thread
  local t = thread.spawn(function() return fmt("%d-%s", 7, "x"), th.is_main() end)
  local s, is_main = t:join()
  T.eq(s, "7-x")
  T.eq(is_main, false)
end)

T.test("Thread objects pass to other threads by reference", function()
  local inner = thread.spawn(function() return "inner result" end)
  local outer = thread.spawn(function(t) return t:join() end, inner)
  T.eq(outer:join(), "inner result")
end)

T.test("join with a timeout raises Timeout; wait returns false", function()
  local t = thread.spawn(function() require("tide").sleep(1000) end)
  T.raises("Timeout", t.join, t, 0)
  T.raises("Timeout", t.join, t, 0.01)
  T.eq(t:wait(0), false)
  T.truthy(t:is_alive(), "still alive")
  t:cancel()
  T.raises("Cancelled", t.join, t)
  T.eq(t:status(), "cancelled")
  T.eq(t:wait(0), true)
end)

T.test("cancel stops a busy Lua loop", function()
  local t = thread.spawn(function() local x = 0 while true do x = x + 1 end end)
  t:cancel()
  T.raises("Cancelled", t.join, t)
  T.eq(t:status(), "cancelled")
end)

T.test("pcall inside the worker cannot swallow cancellation", function()
  local t = thread.spawn(function()
    while true do
      pcall(function() while true do end end)
      pcall(require("tide").sleep, 1000)
    end
  end)
  t:cancel()
  T.raises("Cancelled", t.join, t)
end)

T.test("cancel wakes a thread blocked in join of another thread", function()
  local sleeper = thread.spawn(function() require("tide").sleep(1000) end)
  local joiner = thread.spawn(function(s) return s:join() end, sleeper)
  joiner:cancel()
  T.raises("Cancelled", joiner.join, joiner)
  sleeper:cancel()
  T.raises("Cancelled", sleeper.join, sleeper)
end)

T.test("a thread can cancel itself", function()
  local t = thread.spawn(function()
    require("tide.thread").current():cancel()
    while true do end
  end)
  T.raises("Cancelled", t.join, t)
end)

T.test("cancelling a thread before start means it never runs", function()
  local t = thread.Thread{target = function() return "ran" end}
  t:cancel()
  T.eq(t:status(), "cancelled")
  T.raises("Cancelled", t.join, t)
end)

T.test("current, main, is_main, enumerate, active_count", function()
  T.eq(thread.current().name, "MainThread")
  T.eq(thread.main().name, "MainThread")
  T.truthy(thread.current() == thread.main(), "current is main")
  T.eq(thread.is_main(), true)
  local t = thread.Thread{target = function()
    local th = require("tide.thread")
    return th.current().name, th.is_main(), th.main().name, th.active_count() >= 2
  end, name = "probe"}
  t:start()
  local name, is_main, main_name, count_ok = t:join()
  T.eq(name, "probe"); T.eq(is_main, false); T.eq(main_name, "MainThread"); T.eq(count_ok, true)
  local all = thread.enumerate()
  T.truthy(#all >= 1 and all[1].name == "MainThread", "enumerate starts with MainThread")
  T.eq(thread.active_count(), #all)
end)

T.test("a running thread is listed by enumerate until it finishes", function()
  local t = thread.Thread{target = function() require("tide").sleep(1000) end, name = "listed"}
  t:start()
  local found = false
  for _, x in ipairs(thread.enumerate()) do if x == t then found = true end end
  T.truthy(found, "listed while running")
  t:cancel(); t:wait()
  for _, x in ipairs(thread.enumerate()) do T.truthy(x ~= t, "gone after finishing") end
end)

T.test("name and daemon can be set before start, daemon not after", function()
  local t = thread.Thread{target = function() end}
  T.match(t.name, "^Thread%-%d+$")
  t.name = "renamed"; t.daemon = true
  T.eq(t.name, "renamed"); T.eq(t.daemon, true)
  t:start(); t:join()
  T.raises("InvalidState", function() t.daemon = false end)
  T.raises("ArgumentError", function() t.bogus = 1 end)
  T.match(tostring(t), "Thread 'renamed' %(completed%)")
end)

T.test("Timer runs its function after the interval; join returns its results", function()
  local tm = thread.Timer(0.01, function(x) return x + 1 end, 41)
  tm:start()
  T.eq(tm:join(), 42)
end)

T.test("a cancelled Timer never runs and join returns nothing", function()
  local tm = thread.Timer(1000, function() return "ran" end)
  tm:start()
  tm:cancel()
  T.eq(select("#", tm:join()), 0)
  T.eq(tm:status(), "cancelled")
end)

T.test("thread.sleep and yield", function()
  thread.sleep(0)
  thread.yield()
  T.raises("ArgumentError", thread.sleep, -1)
  T.raises("ArgumentError", thread.sleep, "x")
end)

-- Bad input ------------------------------------------------------------------

T.test("spawn of a non-function raises ArgumentError", function()
  T.raises("ArgumentError", "function expected, got number", thread.spawn, 42)
  T.raises("ArgumentError", thread.spawn)
  T.raises("ArgumentError", "target", thread.Thread, {target = "nope"})
  T.raises("ArgumentError", "table expected", thread.Thread, 1)
  T.raises("ArgumentError", "args", thread.Thread, {target = print, args = 3})
  T.raises("ArgumentError", thread.Timer, -1, print)
end)

T.test("join with a non-number timeout raises ArgumentError", function()
  local t = thread.spawn(function() end)
  T.raises("ArgumentError", "number or nil", t.join, t, "soon")
  T.raises("ArgumentError", "non%-negative", t.join, t, -1)
  T.raises("ArgumentError", t.wait, t, {})
  t:join()
  T.raises("ArgumentError", "tide.Thread expected, got number", t.join, 42)
  local impostor = setmetatable({}, {__index = {join = t.join}})
  T.raises("ArgumentError", "calling 'join' on bad self", function() return impostor:join() end)
end)

T.test("values that cannot cross raise TransferError naming the path", function()
  local co = coroutine.create(function() end)
  T.raises("TransferError", "argument 2 %.config%.on_done%[3%]: cannot transfer a coroutine",
           thread.spawn, function() end, {config = {on_done = {1, 2, co}}})
  T.raises("TransferError", "userdata", thread.spawn, function() end, io.stdout)
  local light = debug.upvalueid(function() return co end, 1)
  T.raises("TransferError", "light userdata", thread.spawn, function() end, 1, {light})
  local iter = string.gmatch("a", "a")
  T.raises("TransferError", "C function", thread.spawn, function() end, iter)
  T.raises("TransferError", "upvalue 'co'", thread.spawn, function() return co end)
end)

T.test("a 10,000-deep table raises TransferError, not a stack overflow", function()
  local deep = {}
  local cur = deep
  for _ = 1, 10000 do cur.next = {}; cur = cur.next end
  T.raises("TransferError", "deeper", thread.spawn, function() end, deep)
end)

T.test("a result that cannot cross fails the thread with the reason", function()
  local t = thread.spawn(function() return coroutine.create(print) end)
  local err = T.raises("RemoteError", "return value 1: cannot transfer a coroutine", t.join, t)
  T.truthy(tide.is_error(err.cause, "TransferError"), "cause is the TransferError")
end)

T.done()
