-- tide.queue: API.md §4 and the queue issue's bad-input list.
local T = require "harness"
local tide = require "tide"
local queue = require "tide.queue"
local thread = require "tide.thread"

local function drain(q)
  local out = {}
  while not q:empty() do out[#out + 1] = q:get() end
  return out
end

T.test("Queue is FIFO; qsize, empty, full", function()
  local q = queue.Queue(3)
  T.truthy(q:empty()); T.falsy(q:full()); T.eq(q:qsize(), 0)
  q:put(1); q:put("two"); q:put_nowait(3.5)
  T.eq(q:qsize(), 3); T.truthy(q:full()); T.falsy(q:empty())
  T.eq(q:get(), 1); T.eq(q:get_nowait(), "two"); T.eq(q:get(0), 3.5)
  T.truthy(q:empty())
  T.falsy(queue.Queue():full(), "unbounded is never full")
  T.falsy(queue.Queue(0):full(), "maxsize 0 is unbounded")
end)

T.test("LifoQueue is LIFO", function()
  local q = queue.LifoQueue()
  for i = 1, 5 do q:put(i) end
  T.same(drain(q), {5, 4, 3, 2, 1})
end)

T.test("SimpleQueue has Python's methods only", function()
  local q = queue.SimpleQueue()
  q:put("a"); q:put_nowait("b")
  T.eq(q:qsize(), 2)
  T.eq(q:get(), "a"); T.eq(q:get_nowait(), "b"); T.truthy(q:empty())
  T.eq(q.task_done, nil); T.eq(q.join, nil); T.eq(q.full, nil)
  T.raises("Empty", q.get_nowait, q)
end)

T.test("PriorityQueue orders numbers and strings naturally, lowest first", function()
  local q = queue.PriorityQueue()
  for _, v in ipairs{5, 1.5, -3, 2, 10, 1} do q:put(v) end
  T.same(drain(q), {-3, 1, 1.5, 2, 5, 10})
  for _, v in ipairs{"pear", "apple", "fig", "Apple", ""} do q:put(v) end
  T.same(drain(q), {"", "Apple", "apple", "fig", "pear"})
end)

T.test("PriorityQueue orders {priority, data} like Python tuples, stable for ties", function()
  local q = queue.PriorityQueue()
  q:put({2, "b", {payload = 1}})
  q:put({1, {name = "first"}})
  q:put({2, "a"})
  q:put({1, {name = "second"}})   -- tie on 1, then a table: insertion order decides
  q:put({1})                      -- shorter tuple first
  q:put({0.5, "half"})
  q:put({3, {9}, "x"})
  local out = drain(q)
  T.eq(out[1][1], 0.5)
  T.eq(#out[2], 1); T.eq(out[2][1], 1)
  T.eq(out[3][2].name, "first"); T.eq(out[4][2].name, "second")
  T.eq(out[5][2], "a"); T.eq(out[6][2], "b"); T.eq(out[6][3].payload, 1)
  T.eq(out[7][1], 3)
  for i = 1, 50 do q:put({i % 3, i}) end
  local last_p, last_i = -1, 0
  for _ = 1, 50 do
    local it = q:get()
    T.truthy(it[1] > last_p or (it[1] == last_p and it[2] > last_i), "stable order")
    last_p, last_i = it[1], it[2]
  end
end)

T.test("PriorityQueue refuses items it cannot order, and stays usable", function()
  local q = queue.PriorityQueue()
  q:put(1)
  T.raises("ArgumentError", "cannot order", q.put, q, "text")
  T.raises("ArgumentError", "non%-array", q.put, q, {priority = 1})
  T.raises("ArgumentError", "boolean", q.put, q, true)
  local p = queue.PriorityQueue()
  p:put({1, "a"})
  T.raises("ArgumentError", "cannot order", p.put, p, {1, 2})
  T.raises("ArgumentError", "cannot order", p.put, p, {"x"})
  T.eq(q:get(), 1); T.eq(p:get()[2], "a")
end)

T.test("Full and Empty with timeout 0 and a small timeout", function()
  local q = queue.Queue(1)
  T.raises("Empty", "empty", q.get, q, 0)
  T.raises("Empty", q.get, q, 0.01)
  T.raises("Empty", q.get_nowait, q)
  q:put("x")
  T.raises("Full", "full", q.put, q, "y", 0)
  T.raises("Full", q.put, q, "y", 0.01)
  T.raises("Full", q.put_nowait, q, "y")
  T.eq(q:qsize(), 1)
end)

T.test("close: put raises Closed; get drains, then raises Closed; iter ends", function()
  local q = queue.Queue()
  for i = 1, 5 do q:put(i) end
  q:close(); q:close()
  T.truthy(q:is_closed())
  T.raises("Closed", q.put, q, 6)
  local got = {}
  for item in q:iter() do got[#got + 1] = item end
  T.same(got, {1, 2, 3, 4, 5})
  T.raises("Closed", q.get, q)
  T.raises("Closed", q.get_nowait, q)
end)

T.test("a consumer thread iterates until the producer closes", function()
  local q = queue.Queue(4)
  local consumer = thread.spawn(function(q)
    local sum, n = 0, 0
    for item in q:iter() do sum = sum + item; n = n + 1 end
    return sum, n
  end, q)
  for i = 1, 1000 do q:put(i) end
  q:close()
  local sum, n = consumer:join()
  T.eq(n, 1000); T.eq(sum, 500500)
end)

T.test("close wakes a getter blocked in another thread", function()
  local q = queue.Queue()
  local started = queue.Queue()
  local t = thread.spawn(function(q, started)
    started:put(true)
    local ok, err = pcall(q.get, q)
    return ok, err
  end, q, started)
  started:get()
  q:close()
  local ok, err = t:join()
  T.eq(ok, false); T.truthy(tide.is_error(err, "Closed"))
end)

T.test("close wakes a putter blocked on a full queue", function()
  local q, started = queue.Queue(1), queue.Queue()
  q:put("full")
  local t = thread.spawn(function(q, started)
    started:put(true)
    local ok, err = pcall(q.put, q, "blocked")
    return ok, err
  end, q, started)
  started:get()
  q:close()
  local ok, err = t:join()
  T.eq(ok, false); T.truthy(tide.is_error(err, "Closed"))
  T.eq(q:get(), "full")
end)

T.test("task_done and join", function()
  local q = queue.Queue()
  q:join()  -- nothing unfinished
  for i = 1, 10 do q:put(i) end
  T.raises("Timeout", q.join, q, 0)
  local worker = thread.spawn(function(q)
    for _ = 1, 10 do q:get(); q:task_done() end
  end, q)
  q:join()
  worker:join()
  T.raises("InvalidState", "more times", q.task_done, q)
end)

T.test("a thread blocked in get is cancellable", function()
  local q = queue.Queue()
  local started = queue.Queue()
  local t = thread.spawn(function(q, started) started:put(1); return q:get() end, q, started)
  started:get()
  t:cancel()
  T.raises("Cancelled", t.join, t)
  q:put("still works"); T.eq(q:get(), "still works")
end)

T.test("select returns the first queue in the list that has an item", function()
  local a, b, c = queue.Queue(), queue.LifoQueue(), queue.SimpleQueue()
  c:put("from c"); b:put("from b")
  local q, item = queue.select({a, b, c})
  T.truthy(rawequal(q, b), "the object from the list"); T.eq(item, "from b")
  q, item = queue.select({a, b, c}, 0)
  T.truthy(rawequal(q, c)); T.eq(item, "from c")
  T.raises("Timeout", queue.select, {a, b, c}, 0)
  T.raises("Timeout", queue.select, {a, b, c}, 0.01)
end)

T.test("select blocks until another thread puts", function()
  local a, b = queue.Queue(), queue.Queue()
  local go = queue.Queue()
  local t = thread.spawn(function(b, go) go:get(); b:put("late") end, b, go)
  go:put(1)
  local q, item = queue.select({a, b})
  T.truthy(rawequal(q, b)); T.eq(item, "late")
  t:join()
  a:close(); b:close()
  T.raises("Closed", queue.select, {a, b})
end)

T.test("select: bad input", function()
  local q = queue.Queue()
  T.raises("ArgumentError", "empty", queue.select, {})
  T.raises("ArgumentError", "not a queue", queue.select, {q, 42})
  T.raises("ArgumentError", "not a queue", queue.select, {q, {}})
  T.raises("ArgumentError", queue.select, q)
  T.raises("ArgumentError", queue.select, nil)
  T.raises("ArgumentError", queue.select, {q}, -1)
end)

T.test("items of every transferable kind survive the trip", function()
  local q = queue.Queue()
  local cyc = {name = "cyc"}; cyc.self = cyc
  local shared = {1, 2}
  local up = 10
  local inner = queue.Queue()
  inner:put("inside")
  local values = {
    false, true, 0, -7, math.maxinteger, math.mininteger, 1.25, -0.0, 1/0,
    "", "with\0zero", string.rep("long", 1000),
    {1, 2, {3, {4, {5}}}, k = "v", [true] = 1, [2.5] = "f"},
    cyc, {a = shared, b = shared},
    function(x) return x + up end,
    inner,
    {q = inner, list = {inner}},
    tide.error("Timeout", "as a value"),
  }
  for _, v in ipairs(values) do q:put(v) end
  local got = {}
  for i = 1, #values do got[i] = q:get() end
  for i = 1, 12 do T.eq(got[i], values[i], "value " .. i) end
  T.eq(math.type(got[3]), "integer"); T.eq(math.type(got[7]), "float")
  T.eq(1 / got[8], -1 / 0, "negative zero")
  T.same(got[13], values[13])
  T.truthy(rawequal(got[14].self, got[14]), "cycle kept")
  T.truthy(rawequal(got[15].a, got[15].b), "shared sub-table kept")
  T.eq(got[16](5), 15)
  T.eq(got[17]:get(), "inside"); got[17]:put("back")
  T.eq(inner:get(), "back", "a queue inside an item is the same queue")
  T.truthy(rawequal(got[18].q, got[18].list[1]))
  T.truthy(tide.is_error(got[19], "Timeout"))
end)

T.test("bad items: nil, and values that cannot cross", function()
  local q = queue.Queue()
  T.raises("ArgumentError", "nil", q.put, q, nil)
  T.raises("ArgumentError", "nil", q.put, q)
  T.raises("ArgumentError", "nil", q.put_nowait, q, nil)
  local err = T.raises("TransferError", "coroutine", q.put, q, {co = coroutine.create(print)})
  T.match(err.message, "item")
  T.raises("TransferError", q.put, q, io.stdout)
  T.truthy(q:empty(), "nothing half-put")
end)

T.test("bad constructor and timeout arguments", function()
  T.raises("ArgumentError", "negative", queue.Queue, -1)
  T.raises("ArgumentError", "negative", queue.PriorityQueue, -5)
  T.raises("ArgumentError", queue.Queue, 1.5)
  T.raises("ArgumentError", queue.LifoQueue, "ten")
  local q = queue.Queue()
  T.raises("ArgumentError", "non%-negative", q.get, q, -1)
  T.raises("ArgumentError", q.get, q, "soon")
  T.raises("ArgumentError", q.put, q, 1, {})
  T.raises("ArgumentError", "tide.Queue expected", q.get, {})
  T.raises("ArgumentError", q.qsize, queue.LifoQueue())
end)

T.test("several producer and consumer threads: every item exactly once", function()
  local q = queue.Queue(16)
  local P, C, N = 4, 4, 2000
  local consumers = {}
  for c = 1, C do
    consumers[c] = thread.spawn(function(q)
      local seen = {}
      for item in q:iter() do seen[#seen + 1] = item end
      return seen
    end, q)
  end
  local producers = {}
  for p = 1, P do
    producers[p] = thread.spawn(function(q, p, n)
      for i = 1, n do q:put(p * 1000000 + i) end
    end, q, p, N)
  end
  for _, t in ipairs(producers) do t:join() end
  q:close()
  local count, total = {}, 0
  for _, t in ipairs(consumers) do
    for _, item in ipairs(t:join()) do
      count[item] = (count[item] or 0) + 1
      total = total + 1
    end
  end
  T.eq(total, P * N)
  for p = 1, P do
    for i = 1, N do
      if count[p * 1000000 + i] ~= 1 then T.eq(count[p * 1000000 + i], 1, "item " .. p .. "/" .. i) end
    end
  end
end)

T.test("a queue captured as an upvalue is shared, not copied", function()
  local q = queue.SimpleQueue()
  local t = thread.spawn(function() for i = 1, 3 do q:put(i) end end)
  t:join()
  T.same(drain(q), {1, 2, 3})
end)

T.test("put_many and get_many (extension)", function()
  local q = queue.Queue(5)
  q:put_many({1, 2, 3})
  T.same(q:get_many(2), {1, 2})
  T.same(q:get_many(10), {3})
  T.raises("Empty", q.get_many, q, 1, 0)
  local err = T.raises("Full", q.put_many, q, {1, 2, 3, 4, 5, 6, 7}, 0)
  T.match(err.message, "5 of 7")
  T.eq(q:qsize(), 5)
  q:get_many(5)
  T.raises("ArgumentError", "nil", q.put_many, q, {1, nil, 3})
  T.eq(q:qsize(), 0, "nothing put when an item is bad")
  T.raises("ArgumentError", q.get_many, q, 0)
  local p = queue.PriorityQueue()
  p:put_many({3, 1, 2})
  T.same(p:get_many(3), {1, 2, 3})
end)

T.test("tostring and equality", function()
  local q = queue.PriorityQueue()
  q:put(1)
  T.match(tostring(q), "^PriorityQueue %(1 items%)")
  local t = thread.spawn(function(a) return a end, q)
  local back = t:join()
  T.truthy(back == q, "the same queue compares equal")
end)

T.done()
