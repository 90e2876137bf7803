-- tide.sync: API.md §3 and the object-model issue's bad-input list.
-- Threads are ordered with Events, Barriers and joins, never with sleeps.
local T = require "harness"
local tide = require "tide"
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

-- ---- Lock ------------------------------------------------------------------

T.test("Lock: acquire, locked, non-blocking and timed acquire, release", function()
  local l = sync.Lock()
  T.eq(l:locked(), false)
  T.eq(l:acquire(), true)
  T.eq(l:locked(), true)
  T.eq(l:acquire(0), false)
  T.eq(l:acquire(false), false, "Python's blocking=false")
  T.eq(l:acquire(0.01), false)
  l:release()
  T.eq(l:locked(), false)
  T.eq(l:acquire(true, 1), true, "blocking=true with a timeout")
  l:release()
end)

T.test("Lock: releasing an unheld Lock raises InvalidState", function()
  local l = sync.Lock()
  T.raises("InvalidState", "unlocked", l.release, l)
end)

T.test("Lock: bad timeouts raise ArgumentError", function()
  local l = sync.Lock()
  T.raises("ArgumentError", l.acquire, l, "soon")
  T.raises("ArgumentError", l.acquire, l, -1)
  T.raises("ArgumentError", l.acquire, l, 0 / 0)
  T.raises("ArgumentError", sync.Lock().acquire, {})
  T.eq(l:locked(), false)
end)

T.test("Lock: with returns fn's results and releases, also on error", function()
  local l = sync.Lock()
  local a, b, c = l:with(function(x, y) return x + y, nil, "z" end, 2, 3)
  T.eq(a, 5); T.eq(b, nil); T.eq(c, "z")
  T.eq(l:locked(), false)
  local ok, err = pcall(l.with, l, function() T.eq(l:locked(), true); error({code = 7}) end)
  T.eq(ok, false)
  T.eq(err.code, 7, "the body's own error value")
  T.eq(l:locked(), false)
  T.raises("ArgumentError", l.with, l, 42)
end)

T.test("Lock: with lets the body yield (coroutines)", function()
  local l = sync.Lock()
  local co = coroutine.wrap(function()
    return l:with(function() coroutine.yield("inside"); return "done" end)
  end)
  T.eq(co(), "inside")
  T.eq(l:locked(), true)
  T.eq(co(), "done")
  T.eq(l:locked(), false)
end)

T.test("Lock: guard is a to-be-closed value releasing on scope exit and on error", function()
  local l = sync.Lock()
  do
    local g <close> = l:guard()
    T.eq(l:locked(), true)
    T.match(tostring(g), "held")
  end
  T.eq(l:locked(), false)
  local ok = pcall(function()
    local g <close> = l:guard()
    error("boom")
  end)
  T.eq(ok, false)
  T.eq(l:locked(), false)
end)

T.test("Lock: __tostring shows the state; handles of one lock compare equal", function()
  local l = sync.Lock()
  T.eq(tostring(l), "Lock (unlocked)")
  l:acquire()
  T.eq(tostring(l), "Lock (locked)")
  local same = thread.spawn(function(x) return x end, l):join()
  T.truthy(same == l, "a handle back from a thread is the same lock")
  l:release()
end)

T.test("Lock: works in a thread, passed as an argument and as an upvalue", function()
  local l = sync.Lock()
  l:acquire()
  local t = thread.spawn(function(lock) return lock:acquire(0), lock:locked() end, l)
  local got, locked = t:join()
  T.eq(got, false); T.eq(locked, true)
  local t2 = thread.spawn(function() l:release(); return l:locked() end)  -- l as upvalue
  T.eq(t2:join(), false, "a Lock may be released by another thread")
  T.eq(l:locked(), false)
end)

T.test("Lock: two threads add and subtract 1000 times under a Lock, ending at 0", function()
  local l, v = sync.Lock(), shared.Value("int", 0)
  local go = sync.Event()
  local function work(step)
    go:wait()
    for _ = 1, 1000 do
      l:acquire()
      local x = v.value
      v.value = x + step
      l:release()
    end
  end
  local a, b = thread.spawn(work, 1), thread.spawn(work, -1)
  go:set()
  a:join(); b:join()
  T.eq(v.value, 0)
end)

T.test("Lock: a thread blocked in acquire is cancelled", function()
  local l = sync.Lock()
  l:acquire()
  local t = thread.spawn(function() return l:acquire() end)
  t:cancel()
  T.raises("Cancelled", t.join, t)
  l:release()
end)

-- ---- RLock -----------------------------------------------------------------

T.test("RLock: re-entrant for its owner, released as many times as acquired", function()
  local r = sync.RLock()
  T.eq(r:acquire(), true)
  T.eq(r:acquire(), true)
  T.eq(r:with(function() return r:locked() end), true)
  r:release()
  T.eq(r:locked(), true)
  r:release()
  T.eq(r:locked(), false)
  T.raises("InvalidState", r.release, r)
  T.eq(tostring(r), "RLock (unlocked)")
end)

T.test("RLock: release by a non-owner thread raises InvalidState; others cannot take it", function()
  local r = sync.RLock()
  r:acquire()
  local t = thread.spawn(function(lock)
    local ok, err = pcall(lock.release, lock)
    return ok, err, lock:acquire(0)
  end, r)
  local ok, err, got = t:join()
  T.eq(ok, false)
  T.truthy(tide.is_error(err, "InvalidState"), "InvalidState from the thread")
  T.eq(got, false)
  r:release()
end)

T.test("RLock: a thread that ends holding it abandons it; the next acquire raises, then holds it", function()
  local r = sync.RLock()
  thread.spawn(function(lock) lock:acquire(); lock:acquire() end, r):join()
  T.eq(r:locked(), true)
  local err = T.raises("AbandonedLock", r.acquire, r)
  T.match(tostring(err), "^AbandonedLock: ")
  T.eq(r:locked(), true, "the caller now holds it")
  local other = thread.spawn(function() return r:acquire(0) end)
  T.eq(other:join(), false, "held by the main thread")
  r:release()
  T.eq(r:locked(), false)
end)

T.test("RLock: with/guard release an abandoned lock they could not use", function()
  local r = sync.RLock()
  thread.spawn(function(lock) lock:acquire() end, r):join()
  T.raises("AbandonedLock", r.with, r, function() end)
  T.eq(r:locked(), false)
end)

-- ---- Condition -------------------------------------------------------------

T.test("Condition: wait/notify without the lock raise InvalidState; wait times out", function()
  local c = sync.Condition()
  T.raises("InvalidState", "without holding", c.wait, c, 0)
  T.raises("InvalidState", c.notify, c)
  T.raises("InvalidState", c.notify_all, c)
  T.raises("ArgumentError", sync.Condition, "lock")
  T.raises("ArgumentError", sync.Condition, sync.Event())
  c:acquire()
  T.eq(c:wait(0.01), false)
  T.eq(c:wait(0), false)
  T.raises("ArgumentError", c.notify, c, -1)
  c:release()
  T.match(tostring(c), "^Condition on RLock")
end)

T.test("Condition: producer/consumer across threads with wait_for", function()
  local c = sync.Condition(sync.Lock())
  local items = shared.Value("int", 0)
  local consumer = thread.spawn(function()
    return c:with(function()
      local r = c:wait_for(function() return items.value >= 3 and items.value end)
      return r
    end)
  end)
  for _ = 1, 3 do
    c:with(function() items.value = items.value + 1; c:notify() end)
  end
  T.eq(consumer:join(), 3)
  c:acquire()
  T.eq(c:wait_for(function() return false end, 0.01), false, "pred's last result at the timeout")
  c:release()
end)

T.test("Condition: notify(n) and notify_all wake the waiting threads", function()
  local c = sync.Condition()
  local arrived, go = shared.Value("int", 0), shared.Value("int", 0)
  local ts = {}
  for i = 1, 3 do
    ts[i] = thread.spawn(function()
      c:acquire()
      arrived:add(1)
      c:notify_all()
      while go.value == 0 do c:wait() end
      c:release()
      return true
    end)
  end
  c:acquire()
  c:wait_for(function() return arrived.value == 3 end)  -- all three now wait
  go.value = 1
  c:notify(2)
  c:notify_all()
  c:release()
  for i = 1, 3 do T.eq(ts[i]:join(), true) end
end)

T.test("Condition: guard, and re-entrant waits on the default RLock", function()
  local c = sync.Condition()
  do
    local g <close> = c:guard()
    c:acquire()
    T.eq(c:wait(0), false)
    c:release()
  end
  local probe = thread.spawn(function() local ok = c:acquire(0); if ok then c:release() end; return ok end)
  T.eq(probe:join(), true, "fully released after the guard")
end)

-- ---- Semaphore -------------------------------------------------------------

T.test("Semaphore: bad initial values raise ArgumentError", function()
  T.raises("ArgumentError", sync.Semaphore, -1)
  T.raises("ArgumentError", sync.BoundedSemaphore, -1)
  T.raises("ArgumentError", sync.Semaphore, 1.5)
end)

T.test("Semaphore: acquire, timeout, release(n), with, guard", function()
  local s = sync.Semaphore(2)
  T.eq(s:acquire(), true)
  T.eq(s:acquire(), true)
  T.eq(s:acquire(0), false)
  T.eq(s:acquire(0.01), false)
  s:release(2)
  T.eq(tostring(s), "Semaphore (value 2)")
  T.eq(s:with(function() return tostring(s) end), "Semaphore (value 1)")
  do local g <close> = s:guard(); T.eq(tostring(s), "Semaphore (value 1)") end
  T.eq(tostring(s), "Semaphore (value 2)")
  T.raises("ArgumentError", s.release, s, 0)
  T.eq(sync.Semaphore():acquire(0), true, "default value 1")
end)

T.test("BoundedSemaphore: over-release raises InvalidState", function()
  local b = sync.BoundedSemaphore(2)
  T.raises("InvalidState", b.release, b)
  b:acquire()
  T.raises("InvalidState", b.release, b, 2)
  b:release()
  T.eq(tostring(b), "BoundedSemaphore (value 2)")
end)

T.test("Semaphore: a thread blocked in acquire is woken by release", function()
  local s = sync.Semaphore(0)
  local ts = {}
  for i = 1, 3 do ts[i] = thread.spawn(function() return s:acquire() end) end
  s:release(3)
  for i = 1, 3 do T.eq(ts[i]:join(), true) end
  T.eq(s:acquire(0), false)
end)

-- ---- Event -----------------------------------------------------------------

T.test("Event: set, clear, is_set, wait with and without timeout", function()
  local e = sync.Event()
  T.eq(e:is_set(), false)
  T.eq(e:wait(0), false)
  T.eq(e:wait(0.01), false)
  T.eq(tostring(e), "Event (clear)")
  e:set()
  T.eq(e:is_set(), true)
  T.eq(e:wait(), true)
  T.eq(tostring(e), "Event (set)")
  e:clear()
  T.eq(e:is_set(), false)
end)

T.test("Event: threads wait for it and see it set", function()
  local e = sync.Event()
  local ts = {}
  for i = 1, 4 do ts[i] = thread.spawn(function() return e:wait(), e:is_set() end) end
  e:set()
  for i = 1, 4 do
    local w, s = ts[i]:join()
    T.eq(w, true); T.eq(s, true)
  end
end)

-- ---- Barrier ---------------------------------------------------------------

T.test("Barrier: Barrier(0) and bad arguments raise ArgumentError", function()
  T.raises("ArgumentError", sync.Barrier, 0)
  T.raises("ArgumentError", sync.Barrier, -3)
  T.raises("ArgumentError", sync.Barrier, 2, "not a function")
  T.raises("ArgumentError", sync.Barrier, 2, nil, -1)
  local co = coroutine.create(print)
  T.raises("TransferError", "coroutine", sync.Barrier, 2, function() return co end)
end)

T.test("Barrier: indexes 0..n-1 each round, the action once per round, in the last party", function()
  local runs = shared.Value("int", 0)
  local b = sync.Barrier(3, function() runs:add(1) end)
  T.eq(b.parties, 3); T.eq(b.n_waiting, 0); T.eq(b.broken, false)
  local function party()
    local seen = {}
    for r = 1, 20 do seen[r] = b:wait() end
    return seen
  end
  local t1, t2 = thread.spawn(party), thread.spawn(party)
  local mine = party()
  local a, c = t1:join(), t2:join()
  for r = 1, 20 do
    local set = {[mine[r]] = true, [a[r]] = true, [c[r]] = true}
    T.truthy(set[0] and set[1] and set[2], "round " .. r .. " indexes")
  end
  T.eq(runs.value, 20)
  T.match(tostring(b), "^Barrier %(0/3 waiting%)")
end)

T.test("Barrier: a timeout breaks it for everyone until reset", function()
  local b = sync.Barrier(2, nil, 0.01)  -- the barrier's default timeout
  T.raises("BrokenBarrier", b.wait, b)
  T.eq(b.broken, true)
  T.raises("BrokenBarrier", b.wait, b, 5)
  T.eq(tostring(b), "Barrier (broken)")
  b:reset()
  T.eq(b.broken, false)
  local t = thread.spawn(function() return b:wait(30) end)
  local mine = b:wait(30)
  T.eq(mine + t:join(), 1)
end)

T.test("Barrier: abort wakes a waiting thread with BrokenBarrier", function()
  local b = sync.Barrier(2)
  local ready = sync.Event()
  local t = thread.spawn(function()
    ready:set()
    local ok, err = pcall(b.wait, b)
    return ok, tide.is_error(err, "BrokenBarrier")
  end)
  ready:wait()
  b:abort()
  local ok, broken = t:join()
  T.eq(ok, false); T.eq(broken, true)
  T.eq(b.broken, true)
end)

T.test("Barrier: a failing action raises in the last party; the others get BrokenBarrier", function()
  local b = sync.Barrier(2, function() error("action failed") end)
  local function outcome()
    local ok, err = pcall(b.wait, b)
    if ok then return "ok" end
    if tide.is_error(err, "BrokenBarrier") then return "broken" end
    return tostring(err):find("action failed") and "action" or tostring(err)
  end
  local t = thread.spawn(outcome)
  local got = {outcome(), t:join()}
  table.sort(got)
  T.eq(got[1], "action"); T.eq(got[2], "broken")
  T.eq(b.broken, true)
end)

-- ---- objects inside other values -------------------------------------------

T.test("sync objects travel inside tables and upvalues to threads", function()
  local objs = {lock = sync.Lock(), ev = sync.Event(), sem = sync.Semaphore(0)}
  local t = thread.spawn(function(o)
    o.lock:acquire()
    o.sem:release()
    o.ev:wait()
    o.lock:release()
    return "done"
  end, objs)
  objs.sem:acquire()
  T.eq(objs.lock:locked(), true)
  objs.ev:set()
  T.eq(t:join(), "done")
  T.eq(objs.lock:locked(), false)
end)

-- The self check compares each handle's class tag with the method's class
-- (issue 14); a handle of another class never passes for this one.
T.test("methods check their object's class, even with the metatable swapped", function()
  T.raises("ArgumentError", "tide.Lock expected", sync.Lock().acquire, sync.Event())
  T.raises("ArgumentError", "tide.Event expected", sync.Event().set, sync.Lock())
  -- A Lock dressed as a Value by the debug library is still not a Value.
  local l = sync.Lock()
  debug.setmetatable(l, getmetatable(shared.Value("int", 1)))
  T.raises("ArgumentError", function() return l.value end)
  T.raises("ArgumentError", function() l.value = 2 end)
  -- Both kinds of Semaphore share their methods; released, both say so.
  local b = sync.BoundedSemaphore(1)
  T.eq(b:acquire(), true)
  b:release()
  getmetatable(b).__gc(b)
  T.raises("InvalidState", "tide.BoundedSemaphore is released", b.release, b)
  local s = sync.Semaphore(1)
  getmetatable(s).__gc(s)
  T.raises("InvalidState", "tide.Semaphore is released", s.acquire, s)
end)

T.done()
