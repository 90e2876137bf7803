-- A Table operation waiting while another thread's update(fn) held the
-- table's lock sat in pthread_mutex_lock: no cancellation, no Ctrl-C.
local T = require "harness"
local shared = require "tide.shared"
local sync = require "tide.sync"
local thread = require "tide.thread"

T.test("a get blocked by a running update can be cancelled; the update completes", function()
  local t = shared.Table()
  local inside, go = sync.Event(), sync.Event()
  local a = thread.spawn(function()
    return t:update("k", function() inside:set() go:wait() return 1 end)
  end)
  inside:wait()
  local b = thread.spawn(function() return t:get("k") end)
  b:cancel()
  T.raises("Cancelled", b.join, b)
  go:set()
  T.eq(a:join(), 1)
  T.eq(t.k, 1)
end)

T.test("update's function may still use the same table (re-entrant)", function()
  local t = shared.Table()
  t.a = 1
  t:update("b", function() return t.a + 1 end)
  T.eq(t.b, 2)
end)

T.done()
