-- Fault tests (issue 15): SIGKILL of the process holding, or waiting at,
-- each kind of lock, condition, semaphore, event, barrier, queue end, pipe
-- end and shared table leaves every other process and thread working.
-- Each child (tide.os.fork) signals with an Event when it is about to
-- block, the parent waits until the child sleeps in the kernel (/proc),
-- kills it, and then uses the object. Bounded waits are hang detectors.
local T = require "harness"
local tide = require "tide"
local os_ = require "tide.os"
local sync = require "tide.sync"
local queue = require "tide.queue"
local pipe = require "tide.pipe"
local shared = require "tide.shared"
local thread = require "tide.thread"

local HANG = 30

-- Forks a child that runs `before(...)`, sets `ready`, then runs `block(...)`
-- (which never returns); returns once the child sleeps in the kernel, then
-- kills it with SIGKILL and reaps it.
local function kill_while(before, block)
  local ready = sync.Event()
  local pid = T.fork(function()
    if before then before() end
    ready:set()
    block()
    return 7  -- block() must not return
  end)
  T.truthy(ready:wait(HANG), "the child got ready")
  T.eq(T.await_sleep(pid, HANG), "S", "the child blocks")
  os_.kill(pid, "SIGKILL")
  T.eq(T.exit_code(pid), -9)
end

-- A thread (in this process) that runs fn(...) and returns its results.
local function in_thread(fn, ...) return thread.spawn(fn, ...) end

for _, make in ipairs{sync.Lock, sync.RLock} do
  local name = make == sync.Lock and "Lock" or "RLock"
  T.test(name .. ": holder killed -> the next acquire gets AbandonedLock, then it works for everyone", function()
    local l = make()
    kill_while(function() l:acquire() if name == "RLock" then l:acquire() end end,
               function() sync.Event():wait() end)
    T.raises("AbandonedLock", l.acquire, l, HANG)
    l:release()
    local t = in_thread(function(l) return l:acquire(30) and (l:release() or true) end, l)
    T.eq(t:join(), true)
  end)
  T.test(name .. ": a waiter killed in acquire does not keep the lock from others", function()
    local l = make()
    l:acquire()
    kill_while(nil, function() l:acquire() end)
    l:release()
    T.eq(l:acquire(HANG), true)
    l:release()
  end)
end

T.test("Condition: holder of its lock killed -> AbandonedLock; a killed waiter does not take a notify", function()
  local c = sync.Condition()
  kill_while(function() c:acquire() end, function() sync.Event():wait() end)
  T.raises("AbandonedLock", c.acquire, c, HANG)
  c:release()
  -- A child waiting on the condition is killed; then a live thread waits and
  -- one notify must reach it.
  kill_while(nil, function() c:acquire() c:wait() end)
  local waiting = sync.Event()
  local t = in_thread(function(c, w)
    return c:with(function() w:set() return c:wait(30) end)
  end, c, waiting)
  T.truthy(waiting:wait(HANG))
  c:with(function() c:notify(1) end)
  T.eq(t:join(), true, "the live waiter was notified")
end)

for _, kind in ipairs{"Semaphore", "BoundedSemaphore"} do
  T.test(kind .. ": a waiter killed in acquire does not swallow a later release", function()
    local s = sync[kind](1)
    s:acquire()
    kill_while(nil, function() s:acquire() end)
    s:release()
    T.eq(s:acquire(HANG), true)
    s:release()
    -- A holder killed keeps its unit (as in Python: no owner), the rest work.
    local s2 = sync[kind](2)
    kill_while(function() s2:acquire() end, function() sync.Event():wait() end)
    T.eq(s2:acquire(HANG), true)
    T.eq(s2:acquire(0), false)
  end)
end

T.test("Event: a waiter killed does not stop set() waking the others", function()
  local e = sync.Event()
  kill_while(nil, function() e:wait() end)
  local t = in_thread(function(e) return e:wait(30) end, e)
  e:set()
  T.eq(t:join(), true)
end)

T.test("Barrier: a party killed while waiting had arrived: the next one completes the round, then it works", function()
  local b = sync.Barrier(2)
  kill_while(nil, function() b:wait() end)
  T.eq(type(b:wait(HANG)), "number", "this party completes the round the dead one joined")
  T.eq(b.broken, false)
  local t = in_thread(function(b) return b:wait(30) end, b)
  local mine = b:wait(HANG)
  local theirs = t:join()
  T.eq(mine + theirs, 1)
end)

T.test("Barrier: a party killed while running the action -> the others get BrokenBarrier, not a hang", function()
  local b = sync.Barrier(2, function() require("tide.sync").Event():wait() end)
  local arrived = sync.Event()
  local t = in_thread(function(b, arrived)
    local ok, e = pcall(b.wait, b, 30, arrived)
    return ok, type(e) == "table" and e.kind
  end, b)
  -- The thread arrives first, then the child arrives last and runs the action.
  local deadline = tide.monotonic() + HANG
  while b.n_waiting < 1 and tide.monotonic() < deadline do thread.yield() end
  kill_while(nil, function() b:wait() end)
  local ok, kind = t:join()
  T.eq(ok, false); T.eq(kind, "BrokenBarrier")
  b:reset()
  T.eq(b.broken, false)
end)

for _, kind in ipairs{"Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"} do
  T.test(kind .. ": a getter killed in get leaves every item to the live ones", function()
    local q = queue[kind]()
    kill_while(nil, function() q:get() end)
    q:put(1)
    T.eq(q:get(HANG), 1)
    local t = in_thread(function(q) return q:get(30) end, q)
    q:put(2)
    T.eq(t:join(), 2)
  end)
  if kind ~= "SimpleQueue" then
    T.test(kind .. ": a putter killed in put on a full queue leaves it working", function()
      local q = queue[kind](1)
      q:put(1)
      kill_while(nil, function() q:put(2) end)
      T.eq(q:get(HANG), 1)
      q:put(3)
      T.eq(q:get(HANG), 3)
      T.eq(q:qsize(), 0)
    end)
  end
end

T.test("Pipe: a receiver killed in recv leaves the end to the others", function()
  local a, b = pipe.Pipe()
  kill_while(nil, function() b:recv() end)
  a:send("after")
  T.eq(b:recv(HANG), "after")
end)

T.test("Pipe: a sender killed mid-send (pipe full) does not block the other senders forever", function()
  local a, b = pipe.Pipe()
  kill_while(nil, function() a:send(("x"):rep(1 << 22)) end)
  -- The killed send may have left part of a frame: the receiver then gets
  -- TransferError (and the connection closes); a send must still end.
  local t = in_thread(function(a) return pcall(a.send, a, "later") end, a)
  local got = {}
  for _ = 1, 3 do
    local ok, v = pcall(b.recv, b, 5)
    if not ok then
      got[#got + 1] = type(v) == "table" and v.kind or tostring(v)
      break
    end
    got[#got + 1] = #v
  end
  T.truthy(t:wait(HANG), "the second sender finished")
  local kind = got[#got]
  T.truthy(type(kind) == "number" or kind == "TransferError" or kind == "Closed" or kind == "Timeout",
           "recv outcome " .. tostring(kind))
end)

T.test("shared Table: a process killed inside update(fn) does not lock the table forever", function()
  local t = shared.Table()
  t.k = 1
  kill_while(nil, function() t:update("k", function() sync.Event():wait() end) end)
  local ok, e = pcall(t.get, t, "k")
  T.truthy(ok or tide.is_error(e, "AbandonedLock"), "get after the holder died: " .. tostring(e))
  t.k = 2
  T.eq(t.k, 2)
end)

T.test("Value: a holder of get_lock() killed -> AbandonedLock, then it works", function()
  local v = shared.Value("int", 0)
  kill_while(function() v:get_lock():acquire() end, function() sync.Event():wait() end)
  T.raises("AbandonedLock", function() v:get_lock():acquire(HANG) end)
  v:get_lock():release()
  v.value = 5
  T.eq(v:add(1), 6)
end)

T.done()
