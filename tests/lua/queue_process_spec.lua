-- tide.queue between processes (tide.os.fork): the same queues in a parent
-- and its fork children. Ordered with queues and waitpid, never with sleeps.
local T = require "harness"
local queue = require "tide.queue"
local thread = require "tide.thread"
local os_ = require "tide.os"

T.test("processes: a child puts records, functions and a queue; the parent gets them", function()
  local q, inner = queue.Queue(), queue.SimpleQueue()
  local pid = T.fork(function()
    for i = 1, 200 do q:put({id = i, name = "item" .. i, tags = {"a", "b"}, score = i * 0.5}) end
    local k = 3
    q:put(function(x) return x * k end)
    inner:put("from the child")
    q:put({inner = inner})
    return 0
  end)
  for i = 1, 200 do
    local r = q:get()
    T.eq(r.id, i); T.eq(r.name, "item" .. i); T.eq(r.tags[2], "b")
  end
  T.eq(q:get()(5), 15)
  local got = q:get().inner
  T.eq(got:get(), "from the child")
  T.truthy(got == inner)
  T.eq(T.exit_code(pid), 0)
end)

T.test("processes: 2 child producers + 1 thread, a child and a thread consuming: exactly once", function()
  local q, results = queue.Queue(8), queue.Queue()
  local N = 3000
  local function produce(base) for i = 1, N do q:put(base + i) end end
  local consumer_pid = T.fork(function()
    local seen = {}
    for item in q:iter() do seen[#seen + 1] = item end
    results:put(seen)
    return 0
  end)
  local p1 = T.fork(function() produce(100000); return 0 end)
  local p2 = T.fork(function() produce(200000); return 0 end)
  local t = thread.spawn(produce, 300000)
  local c = thread.spawn(function(q)
    local seen = {}
    for item in q:iter() do seen[#seen + 1] = item end
    return seen
  end, q)
  t:join()
  T.eq(T.exit_code(p1), 0); T.eq(T.exit_code(p2), 0)
  q:close()
  local count, total = {}, 0
  for _, list in ipairs{c:join(), results:get()} do
    for _, item in ipairs(list) do count[item] = (count[item] or 0) + 1; total = total + 1 end
  end
  T.eq(T.exit_code(consumer_pid), 0)
  T.eq(total, 3 * N)
  for base = 100000, 300000, 100000 do
    for i = 1, N do
      if count[base + i] ~= 1 then T.eq(count[base + i], 1, "item " .. (base + i)) end
    end
  end
end)

T.test("processes: a child killed while blocked in get leaves the queue working", function()
  local q, ready = queue.Queue(), queue.Queue()
  local pid = T.fork(function() ready:put(true); q:get(); return 5 end)
  ready:get()
  os_.kill(pid, 9)
  T.eq(T.exit_code(pid), -9)
  q:put("after"); T.eq(q:get(0), "after")
  local t = thread.spawn(function(q) return q:get() end, q)
  q:put("to a thread")
  T.eq(t:join(), "to a thread")
end)

T.test("processes: select, task_done and join across a fork", function()
  local a, b = queue.Queue(), queue.Queue()
  local pid = T.fork(function()
    local item = b:get()
    b:task_done()
    a:put(item .. " back")
    return 0
  end)
  b:put("ping")
  b:join()  -- the child called task_done
  local q, item = queue.select({b, a})
  T.truthy(rawequal(q, a)); T.eq(item, "ping back")
  T.eq(T.exit_code(pid), 0)
end)

-- The process state from /proc ("S" while blocked in the kernel).
local function proc_state(pid)
  local f = io.open("/proc/" .. pid .. "/stat")
  if not f then return nil end
  local line = f:read("a")
  f:close()
  return line:match("%) (%a)")
end

T.test("processes: SIGINT interrupts a get blocked in the main state", function()
  local q = queue.Queue()
  local r, w = os_.pipe()
  local pid = T.fork(function()
    local ok, err = pcall(function()
      os_.write(w, "r")
      return q:get()
    end)
    return (not ok and err.kind == "Interrupted") and 42 or 1
  end)
  T.eq(os_.read(r, 1), "r")
  -- After its write the child's only way to sleep is the get: wait for it
  -- to be asleep there, so the signal meets a blocked get.
  while proc_state(pid) ~= "S" do thread.yield() end
  os_.kill(pid, 2)
  T.eq(T.exit_code(pid), 42)
  os_.close(r); os_.close(w)
end)

T.done()
