-- tide.sync between processes (tide.os.fork): the same objects in a parent
-- and its fork children, and a Lock abandoned by a killed child. Processes
-- are ordered with Events, Barriers and waitpid, never with sleeps.
local T = require "harness"
local sync = require "tide.sync"
local shared = require "tide.shared"
local os_ = require "tide.os"

T.test("processes: a Lock and a Value, parent and child x 1000 locked increments", function()
  local l, v, go = sync.Lock(), shared.Value("int", 0, {lock = false}), sync.Event()
  local function work()
    go:wait()
    for _ = 1, 1000 do l:with(function() v.value = v.value + 1 end) end
  end
  local pid = T.fork(function() work(); return 0 end)
  go:set()
  work()
  T.eq(T.exit_code(pid), 0)
  T.eq(v.value, 2000)
end)

T.test("processes: a child killed holding a Lock -> AbandonedLock, then the caller holds it", function()
  local l, taken = sync.Lock(), sync.Event()
  local pid = T.fork(function()
    l:acquire()
    taken:set()
    os_.kill(os_.getpid(), 9)
  end)
  taken:wait()
  T.eq(T.exit_code(pid), -9)
  T.eq(l:locked(), true)
  T.raises("AbandonedLock", l.acquire, l)
  T.eq(l:locked(), true)
  T.eq(l:acquire(0), false, "held by this process now")
  l:release()
end)

T.test("processes: Condition, Semaphore and Barrier between parent and child", function()
  local c, turn = sync.Condition(), shared.Value("int", 0)
  local s, b = sync.Semaphore(0), sync.Barrier(2)
  local pid = T.fork(function()
    for _ = 1, 200 do
      c:with(function()
        while turn.value ~= 1 do c:wait() end
        turn.value = 0
        c:notify()
      end)
    end
    s:release(3)
    return b:wait() + 10
  end)
  for _ = 1, 200 do
    c:with(function()
      turn.value = 1
      c:notify()
      while turn.value ~= 0 do c:wait() end
    end)
  end
  for _ = 1, 3 do T.eq(s:acquire(30), true) end
  local mine = b:wait(30)
  local code = T.exit_code(pid)
  T.eq(mine + (code - 10), 1, "barrier indexes 0 and 1")
end)

T.done()
