-- Issue 15 defect 13: pool.default() == pool.default() was false: each push
-- of a handle made a new userdata. One tide object is one value in a Lua
-- state, for every kind of handle: equal, rawequal, and one table key.
local T = require "harness"
local pool = require "tide.pool"
local thread = require "tide.thread"
local sync = require "tide.sync"
local queue = require "tide.queue"
local shared = require "tide.shared"

T.test("the default pool is one value", function()
  local a, b = pool.default(), pool.default()
  T.eq(rawequal(a, b), true)
  local t = {[a] = 1}
  T.eq(t[b], 1)
end)

T.test("threads, locks and queue items come back as the same value", function()
  T.eq(rawequal(thread.current(), thread.current()), true)
  T.eq(rawequal(thread.main(), thread.current()), true)
  local l, q = sync.Lock(), queue.Queue()
  q:put(l)
  T.eq(rawequal(q:get(), l), true)
  local v = shared.Value("int", 0)
  T.eq(rawequal(v:get_lock(), v:get_lock()), true)
  local tab = shared.Table()
  tab.x = l
  T.eq(rawequal(tab.x, l), true)
end)

T.test("a released handle is replaced, not handed out again", function()
  local v = shared.Value("int", 0)
  local lock = v:get_lock()
  getmetatable(lock).__gc(lock)  -- releases the handle
  local again = v:get_lock()
  T.eq(rawequal(again, lock), false)
  T.eq(again:acquire(), true)
  again:release()
end)

T.done()
