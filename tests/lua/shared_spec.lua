-- tide.shared Value and Array: API.md §9 and the object-model issue's
-- bad-input list. Threads are ordered with Events and joins, never sleeps.
local T = require "harness"
local tide = require "tide"
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

-- ---- Value -----------------------------------------------------------------

T.test("Value: every type and Python alias, with defaults", function()
  for _, ty in ipairs{"int", "i", "l", "q"} do
    local v = shared.Value(ty)
    T.eq(v.value, 0, ty); T.eq(math.type(v.value), "integer", ty); T.eq(v.type, "int")
  end
  for _, ty in ipairs{"double", "d", "f"} do
    local v = shared.Value(ty, 1.5)
    T.eq(v.value, 1.5, ty); T.eq(v.type, "double")
  end
  T.eq(math.type(shared.Value("d").value), "float")
  T.eq(shared.Value("bool").value, false)
  T.eq(shared.Value("bool", true).value, true)
  T.eq(shared.Value("char").value, "\0")
  T.eq(shared.Value("c", "x").value, "x")
  T.eq(shared.Value("int", 3.0).value, 3, "an integral float is an int")
end)

T.test("Value: unknown types raise ArgumentError", function()
  T.raises("ArgumentError", "unknown type 'long double'", shared.Value, "long double")
  T.raises("ArgumentError", shared.Value, "")
  T.raises("ArgumentError", shared.Value, 42)
  T.raises("ArgumentError", shared.Value)
end)

T.test("Value: assigning the wrong type raises ArgumentError and keeps the value", function()
  local v = shared.Value("int", 7)
  T.raises("ArgumentError", "int integer expected, got string", function() v.value = "eight" end)
  T.raises("ArgumentError", "integer representation", function() v.value = 7.5 end)
  T.raises("ArgumentError", function() v.value = true end)
  T.raises("ArgumentError", shared.Value, "int", "3")
  T.eq(v.value, 7)
  local b = shared.Value("bool")
  T.raises("ArgumentError", function() b.value = 1 end)
  local c = shared.Value("char")
  T.raises("ArgumentError", function() c.value = "ab" end)
  T.raises("ArgumentError", function() c.value = "" end)
  local d = shared.Value("double")
  T.raises("ArgumentError", function() d.value = "1.0" end)
  d.value = 2   -- an integer is a number
  T.eq(d.value, 2.0); T.eq(math.type(d.value), "float")
  T.raises("ArgumentError", "only 'value'", function() v.other = 1 end)
  T.eq(v.other, nil)
end)

T.test("Value: add and cas, int and double; add on other types raises ArgumentError", function()
  local v = shared.Value("int", 10)
  T.eq(v:add(5), 15)
  T.eq(v:add(-20), -5)
  T.eq(v.value, -5)
  T.eq(v:cas(-5, 1), true)
  T.eq(v:cas(-5, 2), false)
  T.eq(v.value, 1)
  T.raises("ArgumentError", v.add, v, 0.5)
  T.raises("ArgumentError", v.cas, v, "1", 2)
  v.value = math.maxinteger
  T.eq(v:add(1), math.mininteger, "int64 wraps around")
  local d = shared.Value("double", 0.5)
  T.eq(d:add(0.25), 0.75)
  T.eq(d:cas(0.75, 3), true)
  T.eq(d.value, 3.0)
  T.raises("ArgumentError", "int or double", shared.Value("bool").add, shared.Value("bool"), 1)
  local c = shared.Value("char", "a")
  T.eq(c:cas("a", "b"), true)
  T.eq(c.value, "b")
end)

T.test("Value: get_lock returns its RLock; lock=false has none; lock=<Lock> shares it", function()
  local v = shared.Value("int", 0)
  local l = v:get_lock()
  T.match(tostring(l), "^RLock")
  T.truthy(l == v:get_lock(), "the same lock each time")
  l:with(function() v.value = v.value + 1 end)
  T.eq(v.value, 1)
  local raw = shared.Value("int", 0, {lock = false})
  T.raises("InvalidState", "lock=false", raw.get_lock, raw)
  local mine = sync.Lock()
  local w = shared.Value("double", 0, {lock = mine})
  T.truthy(w:get_lock() == mine, "the given lock")
  T.raises("ArgumentError", shared.Value, "int", 0, {lock = "yes"})
  T.raises("ArgumentError", shared.Value, "int", 0, {lock = sync.Event()})
  T.raises("ArgumentError", shared.Value, "int", 0, "opts")
end)

T.test("Value: __tostring shows type and value", function()
  T.eq(tostring(shared.Value("int", 42)), "Value (int: 42)")
  T.eq(tostring(shared.Value("bool", true)), "Value (bool: true)")
end)

T.test("Value: shared with threads as argument and upvalue, locked increments exact", function()
  local v = shared.Value("int", 0)
  local go = sync.Event()
  local function work(val, n)
    go:wait()
    local lock = val:get_lock()
    for _ = 1, n do lock:with(function() val.value = val.value + 1 end) end
  end
  local a = thread.spawn(work, v, 1000)
  local b = thread.spawn(function() work(v, 1000) end)  -- v as an upvalue
  go:set()
  a:join(); b:join()
  T.eq(v.value, 2000)
end)

T.test("Value: atomic add from two threads without a lock", function()
  local v = shared.Value("int", 0, {lock = false})
  local go = sync.Event()
  local function work(step) go:wait(); for _ = 1, 5000 do v:add(step) end end
  local a, b = thread.spawn(work, 1), thread.spawn(work, -1)
  go:set()
  a:join(); b:join()
  T.eq(v.value, 0)
end)

T.test("Value:update(fn): fn(old) -> new under the Value's lock; exact counts from two threads", function()
  local v = shared.Value("int", 0)
  T.eq(v:update(function(x) return x + 5 end), 5)
  T.eq(v.value, 5)
  local d = shared.Value("double", 1.5)
  T.eq(d:update(function(x) return x * 2 end), 3.0)
  local seen_held
  v:update(function(x) seen_held = v:get_lock():locked(); return x end)
  T.truthy(seen_held, "the lock is held while fn runs")
  T.falsy(v:get_lock():locked(), "and released after")
  -- The read-modify-write is one critical section: no update is lost.
  v.value = 0
  local go = sync.Event()
  local inc = function(x) return x + 1 end
  local function work(val, n) go:wait(); for _ = 1, n do val:update(inc) end end
  local a, b = thread.spawn(work, v, 5000), thread.spawn(work, v, 5000)
  go:set()
  a:join(); b:join()
  T.eq(v.value, 10000)
end)

T.test("Value:update: the lock it shares, re-entry, and lock=false", function()
  local lock = sync.Lock()
  local v = shared.Value("int", 1, {lock = lock})
  T.eq(v:update(function(x) T.truthy(lock:locked()); return x + 1 end), 2)
  T.falsy(lock:locked())
  local r = shared.Value("int", 1)
  -- An RLock is re-entrant: update inside a held lock, and inside update.
  r:get_lock():with(function()
    T.eq(r:update(function(x) return r:update(function(y) return y + 1 end) + 1 end), 3)
  end)
  T.falsy(r:get_lock():locked())
  local raw = shared.Value("int", 0, {lock = false})
  T.raises("InvalidState", "lock=false", raw.update, raw, function(x) return x end)
end)

T.test("Value:update: an error in fn releases the lock and propagates; wrong types raise ArgumentError", function()
  local v = shared.Value("int", 7)
  local ok, err = pcall(v.update, v, function() error({code = 42}) end)
  T.falsy(ok); T.eq(err.code, 42, "fn's own error value propagates")
  T.falsy(v:get_lock():locked(), "released after an error")
  T.eq(v.value, 7, "unchanged")
  T.raises("ArgumentError", "integer", v.update, v, function() return "x" end)
  T.raises("ArgumentError", "integer", v.update, v, function() return 0.5 end)
  T.raises("ArgumentError", "integer", v.update, v, function() end)
  T.falsy(v:get_lock():locked(), "released after a bad result")
  T.eq(v.value, 7)
  T.raises("ArgumentError", v.update, v)
  T.raises("ArgumentError", v.update, v, 1)
  T.raises("ArgumentError", v.update, sync.Lock(), function(x) return x end)
  T.eq(shared.Value("bool", false):update(function(b) return not b end), true)
  T.eq(shared.Value("char", "a"):update(function(c) return c:upper() end), "A")
end)

T.test("Value:update: fn may yield (a coroutine finishes the update later)", function()
  local v = shared.Value("int", 1)
  local co = coroutine.wrap(function()
    return v:update(function(x) local y = coroutine.yield("paused"); return x + y end)
  end)
  T.eq(co(), "paused")
  T.truthy(v:get_lock():locked(), "held while fn is suspended")
  T.eq(co(10), 11)
  T.falsy(v:get_lock():locked())
  T.eq(v.value, 11)
end)

-- ---- Array -----------------------------------------------------------------

T.test("Array: from a size or a list; a[i], #a, totable, pairs", function()
  local a = shared.Array("int", 4)
  T.eq(#a, 4)
  T.same(a:totable(), {0, 0, 0, 0})
  a[1] = 10; a[4] = 40
  T.eq(a[1], 10); T.eq(a[4], 40)
  local d = shared.Array("d", {1, 2.5, 3})
  T.eq(#d, 3); T.eq(d[2], 2.5); T.eq(math.type(d[1]), "float")
  local seen = {}
  for i, x in pairs(d) do seen[i] = x end
  T.same(seen, {1.0, 2.5, 3.0})
  T.same(shared.Array("bool", {true, false}):totable(), {true, false})
  T.same(shared.Array("c", {"a", "b"}):totable(), {"a", "b"})
  T.eq(#shared.Array("int", {}), 0)
  T.eq(a.type, "int")
  T.eq(tostring(d), "Array (double[3])")
end)

T.test("Array: an index out of range or not an integer raises ArgumentError", function()
  local a = shared.Array("int", 3)
  T.raises("ArgumentError", "out of range", function() return a[0] end)
  T.raises("ArgumentError", "out of range", function() return a[4] end)
  T.raises("ArgumentError", "out of range", function() a[4] = 1 end)
  T.raises("ArgumentError", "out of range", function() return a[-1] end)
  T.raises("ArgumentError", "integer", function() return a[1.5] end)
  T.raises("ArgumentError", "integer", function() return a.nosuchfield end)
  T.raises("ArgumentError", "integer", function() a[true] = 1 end)
  T.eq(a[2.0], 0, "an integral float is an index")
end)

T.test("Array: wrong element types raise ArgumentError", function()
  local a = shared.Array("int", 2)
  T.raises("ArgumentError", function() a[1] = "x" end)
  T.raises("ArgumentError", function() a[1] = 0.5 end)
  T.raises("ArgumentError", "bad element 2", shared.Array, "int", {1, "two", 3})
  T.raises("ArgumentError", shared.Array, "int", -1)
  T.raises("ArgumentError", shared.Array, "int", 1.5)
  T.raises("ArgumentError", shared.Array, "int", "3")
  T.raises("ArgumentError", shared.Array, "nope", 3)
  T.same(a:totable(), {0, 0})
end)

T.test("Array: get_lock; lock=false; threads update disjoint and shared slots", function()
  local a = shared.Array("int", 8)
  T.match(tostring(a:get_lock()), "^RLock")
  local raw = shared.Array("int", 1, {lock = false})
  T.raises("InvalidState", raw.get_lock, raw)
  local ts = {}
  for w = 1, 4 do
    ts[w] = thread.spawn(function(arr, me)
      for _ = 1, 100 do
        arr[me] = arr[me] + 1
        arr:get_lock():with(function() arr[8] = arr[8] + 1 end)
      end
    end, a, w)
  end
  for w = 1, 4 do ts[w]:join() end
  T.same(a:totable(), {100, 100, 100, 100, 0, 0, 0, 400})
end)

T.test("Value and Array travel inside tables to threads and back", function()
  local box = {v = shared.Value("double", 1.5), a = shared.Array("char", {"x"})}
  local t = thread.spawn(function(b) b.v.value = b.v.value * 2; b.a[1] = "y"; return b end, box)
  local back = t:join()
  T.eq(box.v.value, 3.0)
  T.eq(box.a[1], "y")
  T.truthy(back.v == box.v, "the same shared object")
end)

T.test("handles of closed objects: getmetatable tricks cannot crash", function()
  local v = shared.Value("int", 1)
  local mt = getmetatable(v)
  T.raises("ArgumentError", mt.__index, {}, "value")
  T.raises("ArgumentError", mt.__index, io.stdout, "value")
  -- Another class's handle and a userdata of a handle's size are left alone.
  local other = sync.Lock()
  mt.__gc(other)
  T.truthy(other:acquire()); other:release()
  mt.__gc(io.stdout)
  T.truthy(io.stdout:write(""))
  mt.__gc(v)  -- drops the handle's reference by hand
  T.raises("InvalidState", function() return v.value end)
  local l = sync.Lock()
  getmetatable(l).__gc(l)
  T.raises("InvalidState", l.acquire, l)
  T.eq(tostring(l), "Lock (released)")
end)

T.done()
