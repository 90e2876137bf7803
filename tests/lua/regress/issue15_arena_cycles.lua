-- Issue 15, defect 6: reference cycles through shared memory were never
-- freed (a queue put into itself, two shared Tables holding each other:
-- 20,000 such queues left 313 MB resident). The shared arena's cycle
-- collector (host/shm/cycles.hpp) frees a group once no handle in any
-- process reaches it, and never before. Watched through the arena's bytes
-- in use (the internal tide._pool._arena_in_use).
local T = require "harness"
local queue = require "tide.queue"
local shared = require "tide.shared"
local sync = require "tide.sync"
local process = require "tide.process"
local future = require "tide.future"
local native = require "tide._pool"

local function in_use()
  collectgarbage()
  collectgarbage()
  return native._arena_in_use()
end

-- Rings, table buckets and the like are allocated on first use and cached
-- by size class; warm everything up once so the baseline is stable.
do
  local q = queue.Queue() q:put(q)
  local t = shared.Table() t.self = t
  for _, method in ipairs{"fork", "spawn"} do
    local p = process.Process{start_method = method, target = function() end}
    p:start()
    p:join()
  end
end
local base = in_use()

T.test("20,000 queues put into themselves are freed", function()
  for _ = 1, 20000 do
    local q = queue.Queue()
    q:put(q)
  end
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("pairs of shared Tables holding each other are freed", function()
  for _ = 1, 5000 do
    local a, b = shared.Table(), shared.Table()
    a.other = b
    b.other = a
    a.data = string.rep("x", 100)
  end
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("a cycle through a queue and a table, and a longer ring of queues, are freed", function()
  for _ = 1, 2000 do
    local q, t = queue.LifoQueue(), shared.Table()
    q:put({t = t, n = 1})
    t.q = q
    local p1, p2, p3 = queue.Queue(), queue.PriorityQueue(), queue.SimpleQueue()
    p1:put(p2)
    p2:put({1, p3})
    p3:put(p1)
  end
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("a future whose result holds a queue holding the future is freed", function()
  for _ = 1, 2000 do
    local f, q = future.new(), queue.Queue()
    q:put(f)
    f:set_result(q, "more")
  end
  local f, q = future.new(), queue.Queue()
  q:put(f)
  f:set_result(q)
  q = nil
  collectgarbage()
  collectgarbage()
  T.eq(f:result():get(), f, "kept while the future's handle lives")
  f = nil
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("what a garbage cycle holds goes with it, unless a handle still holds it", function()
  local kept = shared.Table()
  kept.x = 42
  do
    local q = queue.Queue()
    q:put(q)
    q:put(kept)
    q:put(shared.Table())  -- held by the cycle only
  end
  collectgarbage()
  collectgarbage()
  T.eq(kept.x, 42)
  kept = nil
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("a cycle still reachable from a live handle survives, and its contents with it", function()
  local a = queue.Queue()
  do
    local b = shared.Table()
    b.back = a
    b.payload = "alive"
    a:put(b)
    local c = queue.Queue()
    c:put(c)
    b.self_cycle = c  -- a cycle hanging off a live one
  end
  for _ = 1, 3 do
    collectgarbage()
    collectgarbage()
    local b = a:get()
    T.eq(b.payload, "alive")
    T.eq(b.back, a)
    local c = b.self_cycle
    local c2 = c:get()
    T.eq(c2, c)
    c:put(c2)
    a:put(b)
  end
  a = nil
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("one member held by a live handle keeps the whole cycle", function()
  local a, b = shared.Table(), shared.Table()
  a.b = b
  b.a = a
  b.v = "b's value"
  b = nil
  collectgarbage()
  collectgarbage()
  T.eq(a.b.v, "b's value")
  T.eq(a.b.a, a)
  a = nil
  T.eq(in_use(), base, "arena bytes in use")
end)

T.test("a long chain of tables with back links, built one node at a time, is freed", function()
  -- Each node holds the next and the next holds it back: every handle
  -- dropped while building leaves a cycle reaching the whole chain, which
  -- is walked only now and then (the cost stays linear), so what is put off
  -- is collected at the latest on _collect_cycles (or the thread's end).
  local head = shared.Table()
  for i = 1, 3000 do
    local t = shared.Table()
    t.next, head.prev, t.n = head, t, i
    head = t
  end
  local n, node = 0, head
  while node do n, node = n + 1, node.next end
  T.eq(n, 3001)
  head, node = nil, nil
  collectgarbage()
  collectgarbage()
  native._collect_cycles()
  T.eq(in_use(), base, "arena bytes in use")
end)

for _, method in ipairs{"fork", "spawn"} do
  T.test("a cycle shared with a " .. method .. " child lives while the child holds it, and is freed after", function()
    local go, ready = sync.Event(), sync.Event()
    local a, b = queue.Queue(), shared.Table()
    a:put(b)
    b.a = a
    b.v = "from the parent"
    local p = process.Process{
      start_method = method,
      args = {b, go, ready},
      target = function(t, go_, ready_)
        ready_:set()
        go_:wait()
        -- Still whole although the parent let go of it.
        local q = t.a
        local t2 = q:get()
        q:put(t2)
        assert(t2.v == "from the parent")
        q:put(q)  -- one more cycle, made in the child
      end,
    }
    p:start()
    ready:wait()
    a, b = nil, nil
    collectgarbage()
    collectgarbage()
    go:set()
    p:join()  -- raises if the child found the group gone
    T.eq(p.exitcode, 0)
    p, go, ready = nil, nil, nil
    T.eq(in_use(), base, "arena bytes in use")
  end)
end

T.done()
