-- tide.future: API.md §5. Threads are ordered with futures, events and
-- joins, never with sleeps; no timing assertions.
local T = require "harness"
local tide = require "tide"
local thread = require "tide.thread"
local sync = require "tide.sync"
local future = require "tide.future"

T.test("new: pending; set_result makes it done; result returns all values", function()
  local f = future.new()
  T.eq(f:done(), false); T.eq(f:running(), false); T.eq(f:cancelled(), false)
  T.match(tostring(f), "pending")
  f:set_result(1, nil, "three", {x = 4})
  T.eq(f:done(), true)
  local a, b, c, d = f:result()
  T.eq(a, 1); T.eq(b, nil); T.eq(c, "three"); T.eq(d.x, 4)
  T.eq(select("#", f:result()), 4)
  T.eq(f:exception(), nil)
  T.match(tostring(f), "completed")
end)

T.test("a second completion raises InvalidState", function()
  local f = future.new()
  f:set_result(1)
  T.raises("InvalidState", f.set_result, f, 2)
  T.raises("InvalidState", f.set_exception, f, "e")
  T.eq(f:result(), 1)
  local g = future.new()
  g:set_exception("boom")
  T.raises("InvalidState", g.set_result, g, 2)
end)

T.test("set_exception with a plain value: result raises RemoteError with cause and traceback", function()
  local f = future.new()
  f:set_exception({code = 7})
  local e = T.raises("RemoteError", f.result, f)
  T.eq(e.cause.code, 7)
  T.eq(type(e.traceback), "string")
  local x = f:exception()
  T.truthy(tide.is_error(x, "RemoteError")); T.eq(x.cause.code, 7)
  T.match(tostring(f), "failed")
end)

T.test("set_exception with a tide error: result raises that error itself", function()
  local f = future.new()
  local ok, err = pcall(sync.Lock().release, sync.Lock())
  T.eq(ok, false)
  f:set_exception(err)
  local e = T.raises("InvalidState", f.result, f)
  T.eq(e.message, err.message)
  T.truthy(tide.is_error(f:exception(), "InvalidState"))
end)

T.test("cancel: only while pending; result and exception raise Cancelled", function()
  local f = future.new()
  T.eq(f:cancel(), true)
  T.eq(f:cancelled(), true); T.eq(f:done(), true)
  T.eq(f:cancel(), true, "already cancelled (as Python: true again)")
  T.raises("Cancelled", f.result, f)
  T.raises("Cancelled", f.exception, f)
  T.raises("InvalidState", f.set_result, f, 1)
  local g = future.new()
  g:set_result(1)
  T.eq(g:cancel(), false, "done futures cannot be cancelled")
  T.eq(g:cancelled(), false)
end)

T.test("result and exception time out with Timeout; bad timeouts are ArgumentError", function()
  local f = future.new()
  T.raises("Timeout", f.result, f, 0)
  T.raises("Timeout", f.exception, f, 0.01)
  T.raises("ArgumentError", f.result, f, -1)
  T.raises("ArgumentError", f.result, f, "soon")
  T.raises("ArgumentError", f.add_done_callback, f, 42)
  T.raises("ArgumentError", future.new().done, {})
  T.raises("ArgumentError", future.wait, {1})
  T.raises("ArgumentError", future.wait, {f}, {return_when = "SOMETIMES"})
  T.raises("ArgumentError", future.gather, "x")
  T.raises("ArgumentError", future.as_completed, {f}, -2)
end)

T.test("set_result of a value that cannot transfer raises TransferError, the future stays pending", function()
  local f = future.new()
  T.raises("TransferError", f.set_result, f, coroutine.create(print))
  T.eq(f:done(), false)
  f:set_result("ok")
  T.eq(f:result(), "ok")
end)

T.test("completed from another thread: values, errors, waiting", function()
  local f, g, started = future.new(), future.new(), sync.Event()
  local t = thread.spawn(function(a, b, ev)
    ev:set()
    a:set_result("from", "thread")
    b:set_exception("bad")
  end, f, g, started)
  T.eq(select(2, f:result()), "thread")
  local e = T.raises("RemoteError", g.result, g)
  T.eq(e.cause, "bad")
  t:join()
  -- a thread waits on a future the main state completes
  local h = future.new()
  local w = thread.spawn(function(x) return x:result() * 2 end, h)
  h:set_result(21)
  T.eq(w:join(), 42)
end)

T.test("add_done_callback: runs in the adding state, in order, at poll; errors do not stop others", function()
  local f = future.new()
  local seen = {}
  f:add_done_callback(function(x) seen[#seen + 1] = "a"; T.eq(x, f) end)
  f:add_done_callback(function() error("callback fails") end)
  f:add_done_callback(function() seen[#seen + 1] = "c" end)
  local t = thread.spawn(function(x) x:set_result(1) end, f)
  repeat until f:done()  -- not a tide wait: that would run the callbacks
  T.eq(#seen, 0, "never on the completing thread")
  future.poll()
  T.same(seen, {"a", "c"})
  future.poll()
  T.same(seen, {"a", "c"}, "each runs once")
  t:join()
end)

T.test("add_done_callback: immediately when already done; at the next future wait", function()
  local f = future.new()
  f:set_result(1)
  local n = 0
  f:add_done_callback(function() n = n + 1 end)
  T.eq(n, 1)
  local g, h = future.new(), future.new()
  local order = {}
  g:add_done_callback(function() order[#order + 1] = "g" end)
  h:add_done_callback(function() order[#order + 1] = "h" end)
  g:set_result(1)
  h:set_result(2)
  T.eq(#order, 0)
  T.eq(h:result(), 2)
  T.same(order, {"g", "h"})
  local c = future.new()
  local got
  c:add_done_callback(function(x) got = x:cancelled() end)
  c:cancel()
  future.poll()
  T.eq(got, true)
end)

T.test("add_done_callback: runs at the next wait of any module in the adding state", function()
  local sync, queue, thread = require "tide.sync", require "tide.queue", require "tide.thread"
  local waits = {
    sleep = function() require("tide").sleep(0) end,
    event = function() local e = sync.Event() e:set() e:wait() end,
    lock = function() local l = sync.Lock() l:acquire() l:release() end,
    queue = function() local q = queue.Queue() q:put(1) q:get() end,
    join = function() thread.spawn(function() end):join() end,
  }
  for name, wait in pairs(waits) do
    local f = future.new()
    local ran = 0
    f:add_done_callback(function() ran = ran + 1 end)
    -- Completed by another thread: the callback runs here, not there.
    local setter = thread.spawn(function(x) x:set_result(1) end, f)
    repeat until f:done()  -- not a tide wait
    local g = future.new()
    g:add_done_callback(function() ran = ran + 10 end)
    g:set_result(2)
    T.eq(ran, 0, name .. ": not before a wait")
    wait()
    T.eq(ran, 11, name)
    setter:join()
  end
end)

T.test("as_completed: completion order, duplicates once, Timeout mid-iteration", function()
  local a, b, c = future.new(), future.new(), future.new()
  c:set_result("c"); a:set_result("a"); b:set_result("b")
  local got = {}
  for f in future.as_completed({a, b, a, c, b}) do got[#got + 1] = f:result() end
  T.same(got, {"c", "a", "b"})
  local p, q = future.new(), future.new()
  p:set_result(1)
  local it = future.as_completed({p, q}, 0.01)
  T.eq(it(), p)
  T.raises("Timeout", it)
  T.eq(#(function() local r = {} for f in future.as_completed({}) do r[#r + 1] = f end return r end)(), 0)
end)

T.test("as_completed: futures finished by a thread while iterating", function()
  local fs, go = {}, {}
  for i = 1, 4 do fs[i] = future.new(); go[i] = sync.Event() end
  local t = thread.spawn(function(futs, evs)
    for i = 4, 1, -1 do evs[i]:wait(); futs[i]:set_result(i) end
  end, fs, go)
  local got = {}
  go[4]:set()
  for f in future.as_completed(fs) do
    local v = f:result()
    got[#got + 1] = v
    if v > 1 then go[v - 1]:set() end
  end
  t:join()
  T.same(got, {4, 3, 2, 1})
end)

T.test("wait: ALL_COMPLETED, FIRST_COMPLETED, FIRST_EXCEPTION, timeout", function()
  local a, b, c = future.new(), future.new(), future.new()
  a:set_result(1)
  local done, not_done = future.wait({a, b, c}, {return_when = "FIRST_COMPLETED"})
  T.same(done, {a}); T.same(not_done, {b, c})
  done, not_done = future.wait({a, b, c}, {timeout = 0.01})
  T.eq(#done, 1); T.eq(#not_done, 2)
  done, not_done = future.wait({a, b, c}, {timeout = 0, return_when = "FIRST_EXCEPTION"})
  T.eq(#not_done, 2)
  c:set_exception("x")
  done, not_done = future.wait({a, b, c}, {return_when = "FIRST_EXCEPTION"})
  T.same(done, {a, c}); T.same(not_done, {b})
  local t = thread.spawn(function(x) x:set_result(2) end, b)
  done, not_done = future.wait({a, b, c, a})
  t:join()
  T.eq(#done, 3); T.eq(#not_done, 0)
  T.same({future.wait({})}, {{}, {}})
end)

T.test("gather: first results in order; raises the first error in list order", function()
  local a, b, c = future.new(), future.new(), future.new()
  c:set_result("c", "extra"); b:set_result(); a:set_result("a")
  local r = future.gather({a, b, c})
  T.eq(r[1], "a"); T.eq(r[2], nil); T.eq(r[3], "c")
  local x, y, z = future.new(), future.new(), future.new()
  x:set_result(1); z:set_exception("z failed"); y:set_exception("y failed")
  local e = T.raises("RemoteError", future.gather, {x, y, z})
  T.eq(e.cause, "y failed")
  local k = future.new(); k:cancel()
  T.raises("Cancelled", future.gather, {x, k})
  local list = {x, x}
  local m = future.new()
  m:add_done_callback(function() list[1] = "not a future" end)
  m:set_result("m")
  T.eq(future.gather(list)[2], 1, "a callback changing the list does not affect gather")
end)

T.test("futures travel through a queue and can be compared", function()
  local queue = require "tide.queue"
  local q = queue.Queue()
  local f = future.new()
  q:put(f)
  local g = q:get()
  T.eq(g, f)
  g:set_result("via queue")
  T.eq(f:result(), "via queue")
end)

T.test("a forked child completes futures the parent waits on (one with wait, one with gather)", function()
  local a, b, go = future.new(), future.new(), future.new()
  local pid = T.fork(function()
    a:set_result("child", 2)
    go:result()
    b:set_exception("child failed")
    return 0
  end)
  local done = future.wait({a, b}, {return_when = "FIRST_COMPLETED"})
  T.same(done, {a})
  T.eq(select(2, a:result()), 2)
  go:set_result(true)
  local e = T.raises("RemoteError", future.gather, {a, b})
  T.eq(e.cause, "child failed")
  T.eq(T.exit_code(pid), 0)
end)

T.test("dropped futures are collected at the pace of their arena data, not of their small handles", function()
  -- The collector waits for the Lua heap to double; a future's handle is a
  -- few dozen bytes of it while its data in the arena is several hundred.
  -- Unless each new handle charges that to the collector, 100,000 dropped
  -- futures pile up to several times the heap (measured: 4.5-15x) first.
  local native = require "tide._pool"
  local ballast = {}
  for i = 1, 30000 do ballast[i] = {i} end
  collectgarbage(); collectgarbage()
  local heap = collectgarbage("count") * 1024
  local base, peak = native._arena_in_use(), 0
  for i = 1, 100000 do
    local f = future.new()
    f:set_result(i)
    if i % 500 == 0 then peak = math.max(peak, native._arena_in_use() - base) end
  end
  T.truthy(peak < 2.5 * heap, string.format("dead futures' arena data peaked at %.1fx the Lua heap", peak / heap))
  T.eq(#ballast, 30000)
end)

T.test("live futures' arena data counts as kept data: cycles come no more often than Lua's own pause makes them", function()
  -- Lua starts a cycle once the heap has grown by what the last one kept.
  -- Charging every handle's arena data in full would start one per heap's
  -- worth of it however much live handles hold, each cycle walking them
  -- all: with 100,000 live futures, 300,000 dropped ones took 7 cycles.
  -- Counted as kept, the arena makes it about 300,000 * 256 bytes over
  -- (heap + arena), i.e. 2-3; the dropped ones still peak below that sum.
  local native = require "tide._pool"
  local cycles = 0
  local counting = true
  local function sentinel()
    setmetatable({}, {__gc = function() if counting then cycles = cycles + 1; sentinel() end end})
  end
  local live = {}
  for i = 1, 100000 do live[i] = future.new() end
  collectgarbage(); collectgarbage()
  local kept = collectgarbage("count") * 1024 + native._arena_in_use()
  local base, peak = native._arena_in_use(), 0
  sentinel()
  for i = 1, 300000 do
    future.new():set_result(i)
    if i % 500 == 0 then peak = math.max(peak, native._arena_in_use() - base) end
  end
  counting = false
  T.truthy(cycles >= 1 and cycles <= 4, string.format("%d cycles", cycles))
  T.truthy(peak < 2.5 * kept, string.format("dead futures' arena data peaked at %.1fx the kept data", peak / kept))
  T.eq(#live, 100000)
end)

T.test("arena data kept by a shared table does not let a small heap wait for as much dead futures", function()
  -- The arena is the whole tree's: 128 MB kept there must not make a state
  -- with a small heap (a fresh thread's) wait for that much dead futures
  -- before a cycle (with no floor under the charge's scale: over 500x).
  local native = require "tide._pool"
  local shared = require "tide.shared"
  local big = shared.Table()
  big.s = string.rep("x", 64 << 20)
  collectgarbage(); collectgarbage()
  local ratio = thread.spawn(function()
    local future, native = require "tide.future", require "tide._pool"
    future.new():set_result(0)
    collectgarbage(); collectgarbage()
    local heap = collectgarbage("count") * 1024
    local base, peak = native._arena_in_use(), 0
    for i = 1, 200000 do
      future.new():set_result(i)
      if i % 500 == 0 then peak = math.max(peak, native._arena_in_use() - base) end
    end
    return peak / heap
  end):join()
  T.truthy(ratio < 64, string.format("dead futures' arena data peaked at %.1fx the thread's Lua heap", ratio))
  T.eq(#big.s, 64 << 20)
end)

T.test("a script that stopped the collector keeps it stopped while it makes handles", function()
  collectgarbage(); collectgarbage("stop")
  local before = collectgarbage("count")
  for i = 1, 20000 do future.new():set_result(i) end
  local grew = collectgarbage("count") - before
  local running = collectgarbage("isrunning")
  collectgarbage("restart")
  T.eq(running, false)
  -- Nothing was collected: every handle made is still counted.
  T.truthy(grew > 20000 * 40 / 1024, string.format("the heap grew by only %.0f KB", grew))
end)

T.test("100,000 futures completed, waited and collected", function()
  local fs = {}
  for i = 1, 100000 do
    local f = future.new()
    f:set_result(i)
    fs[i] = f
  end
  local r = future.gather(fs)
  T.eq(#r, 100000); T.eq(r[100000], 100000)
  fs, r = nil, nil
  collectgarbage(); collectgarbage()
end)

T.done()
