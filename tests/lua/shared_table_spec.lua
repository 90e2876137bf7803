-- tide.shared.Table: API.md §9.
local T = require "harness"
local tide = require "tide"
local shared = require "tide.shared"
local thread = require "tide.thread"
local queue = require "tide.queue"

local Table = shared.Table

T.test("t[k], t[k] = v, nil deletes; get/set reach any key", function()
  local t = Table()
  T.eq(t.missing, nil)
  t.name = "tide"; t[1] = "one"; t[true] = "yes"; t[2.5] = "float"
  T.eq(t.name, "tide"); T.eq(t[1], "one"); T.eq(t[true], "yes"); T.eq(t[2.5], "float")
  T.eq(t[1.0], "one", "an integral float is the integer key")
  T.eq(t:len(), 4); T.eq(#t, 4)
  t.name = nil
  T.eq(t.name, nil); T.eq(t:len(), 3)
  t:set("get", "shadowed")
  T.eq(type(t.get), "function", "method names shadow keys under t.k")
  T.eq(t:get("get"), "shadowed")
  t:set("get", nil)
  T.eq(t:get("get"), nil)
end)

T.test("values of every transferable kind, including tide objects", function()
  local t = Table()
  local q = queue.Queue()
  local cyc = {}; cyc.me = cyc
  t.int = 42; t.float = 0.5; t.str = "a\0b"; t.bool = false
  t.nested = {1, {2, {3}}, k = "v"}
  t.cyc = cyc
  t.fn = function(x) return x * 2 end
  t.q = q
  T.eq(t.int, 42); T.eq(math.type(t.int), "integer"); T.eq(t.float, 0.5)
  T.eq(t.str, "a\0b"); T.eq(t.bool, false)
  T.same(t.nested, {1, {2, {3}}, k = "v"})
  local c = t.cyc; T.truthy(rawequal(c.me, c))
  T.eq(t.fn(21), 42)
  t.q:put("through the table"); T.eq(q:get(), "through the table")
end)

T.test("bad keys raise ArgumentError", function()
  local t = Table()
  T.raises("ArgumentError", "keys are", function() return t[{}] end)
  T.raises("ArgumentError", "keys are", function() t[{}] = 1 end)
  T.raises("ArgumentError", "keys are", t.get, t, print)
  T.raises("ArgumentError", "keys are", t.set, t, nil, 1)
  T.raises("ArgumentError", "NaN", t.set, t, 0/0, 1)
  T.raises("TransferError", "coroutine", t.set, t, "co", coroutine.create(print))
  T.eq(t:len(), 0)
end)

T.test("pairs is a snapshot; clear empties", function()
  local t = Table()
  for i = 1, 10 do t[i] = i * i end
  t.x = "y"
  local seen, n = {}, 0
  for k, v in t:pairs() do
    seen[k] = v; n = n + 1
    t[k] = nil  -- changing the table does not disturb the snapshot
  end
  T.eq(n, 11); T.eq(seen[3], 9); T.eq(seen.x, "y")
  T.eq(t:len(), 0)
  t.a = 1; t.b = 2
  local m = 0
  for _ in pairs(t) do m = m + 1 end
  T.eq(m, 2, "pairs(t) works too")
  t:clear()
  T.eq(t:len(), 0); T.eq(t.a, nil)
end)

T.test("update is an atomic read-modify-write across threads", function()
  local t = Table()
  local threads = {}
  for i = 1, 4 do
    threads[i] = thread.spawn(function(t)
      for _ = 1, 500 do t:update("count", function(old) return (old or 0) + 1 end) end
    end, t)
  end
  for _, th in ipairs(threads) do th:join() end
  T.eq(t.count, 2000)
  T.eq(t:update("count", function(old) return old * 2 end), 4000)
  T.eq(t:update("count", function() return nil end), nil)
  T.eq(t.count, nil, "returning nil deletes")
end)

T.test("update: fn may use the table; an error releases the lock", function()
  local t = Table()
  t.a = 1
  t:update("b", function(old)
    T.eq(old, nil)
    return t.a + 10  -- re-entrant: the same thread may read while updating
  end)
  T.eq(t.b, 11)
  local ok, e = pcall(t.update, t, "a", function() error("boom") end)
  T.eq(ok, false); T.match(tostring(e), "boom")
  T.eq(t.a, 1, "unchanged after the error")
  local other = thread.spawn(function(t) t.a = 2; return t.a end, t)
  T.eq(other:join(), 2, "the lock was released")
  T.raises("ArgumentError", t.update, t, "a", "not a function")
  T.raises("TransferError", t.update, t, "a", function() return coroutine.create(print) end)
  T.eq(t.a, 2)
  other = thread.spawn(function(t) t.a = 3 end, t)
  other:join()
  T.eq(t.a, 3)
end)

T.test("a table passed to a thread is the same table", function()
  local t = Table()
  t.seed = 7
  local th = thread.spawn(function(t) t.from_thread = "hi"; return t.seed end, t)
  T.eq(th:join(), 7)
  T.eq(t.from_thread, "hi")
  T.match(tostring(t), "^Table %(")
end)

T.done()
