-- Issue 15 defect 8: acquire(false, timeout) silently ignored the timeout,
-- and booleans passed as timeouts elsewhere (Condition:wait(true) waited
-- forever). Only acquire takes Python's blocking flag; a timeout with a
-- non-blocking acquire is an ArgumentError (Python: ValueError).
local T = require "harness"
local sync = require "tide.sync"
local future = require "tide.future"
local queue = require "tide.queue"
local thread = require "tide.thread"

T.test("acquire(false, timeout) is an ArgumentError; acquire(false) does not block", function()
  for _, make in ipairs{sync.Lock, sync.RLock, sync.Semaphore, sync.Condition} do
    local l = make()
    T.raises("ArgumentError", "non%-blocking", l.acquire, l, false, 1)
    T.eq(l:acquire(false), true)
  end
  local l = sync.Lock()
  l:acquire()
  T.eq(l:acquire(false), false)
  T.eq(l:acquire(true, 0), false)
  T.eq(l:acquire(0), false)
end)

T.test("booleans are not timeouts anywhere else", function()
  local c, e, b, f = sync.Condition(), sync.Event(), sync.Barrier(2), future.new()
  c:acquire()
  for _, v in ipairs{true, false} do
    T.raises("ArgumentError", "timeout", c.wait, c, v)
    T.raises("ArgumentError", "timeout", c.wait_for, c, function() return false end, v)
    T.raises("ArgumentError", "timeout", e.wait, e, v)
    T.raises("ArgumentError", "timeout", b.wait, b, v)
    T.raises("ArgumentError", "timeout", f.result, f, v)
    T.raises("ArgumentError", "timeout", f.exception, f, v)
    local q = queue.Queue()
    T.raises("ArgumentError", "timeout", q.get, q, v)
    local t = thread.Thread{target = print}
    T.raises("ArgumentError", "timeout", t.join, t, v)
    T.raises("ArgumentError", "got boolean", thread.sleep, v)
  end
  c:release()
end)

T.done()
