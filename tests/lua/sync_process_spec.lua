-- tide.sync between processes (tide.os.fork): the same objects in a parent
-- and its fork children, and a Lock abandoned by a killed child. Processes
-- are ordered with Events, Barriers and waitpid, never with sleeps.
local T = require "harness"
local sync = require "tide.sync"
local shared = require "tide.shared"
local has_os, os_ = pcall(require, "tide.os")

local function child(fn)  -- forks; the child runs fn and exits with its result code
  local pid = os_.fork()
  if pid == 0 then
    local ok, code = pcall(fn)
    os_._exit(ok and (code or 0) or 99)
  end
  return pid
end

local function exit_code(pid)
  local _, status = os_.waitpid(pid, 0)
  return os_.waitstatus_to_exitcode(status)
end

if not has_os then
  print("SKIPPED: tide.os is not available")
  os.exit(0)
end

T.test("processes: a Lock and a Value, parent and child x 1000 locked increments", function()
  local l, v, go = sync.Lock(), shared.Value("int", 0, {lock = false}), sync.Event()
  local function work()
    go:wait()
    for _ = 1, 1000 do l:with(function() v.value = v.value + 1 end) end
  end
  local pid = child(function() work(); return 0 end)
  go:set()
  work()
  T.eq(exit_code(pid), 0)
  T.eq(v.value, 2000)
end)

T.test("processes: a child killed holding a Lock -> AbandonedLock, then the caller holds it", function()
  local l, taken = sync.Lock(), sync.Event()
  local pid = child(function()
    l:acquire()
    taken:set()
    os_.kill(os_.getpid(), 9)
  end)
  taken:wait()
  T.eq(exit_code(pid), -9)
  T.eq(l:locked(), true)
  T.raises("AbandonedLock", l.acquire, l)
  T.eq(l:locked(), true)
  T.eq(l:acquire(0), false, "held by this process now")
  l:release()
end)

T.test("processes: Condition, Semaphore and Barrier between parent and child", function()
  local c, turn = sync.Condition(), shared.Value("int", 0)
  local s, b = sync.Semaphore(0), sync.Barrier(2)
  local pid = child(function()
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
  local code = exit_code(pid)
  T.eq(mine + (code - 10), 1, "barrier indexes 0 and 1")
end)

T.done()
