-- API.md §0 "one object model": every tide object passed to a child process
-- as an argument or captured as an upvalue works there, under each start
-- method. Parent and child are ordered with the objects under test.
local T = require "harness"
local process = require "tide.process"
local sync = require "tide.sync"
local queue = require "tide.queue"
local shared = require "tide.shared"
local future = require "tide.future"

for _, m in ipairs(process.get_all_start_methods()) do
  T.test(m .. ": Lock, Event, Condition, Barrier, Semaphore as arguments; Queue, Value, Array, Table, Future as upvalues", function()
    local lock, ev, cond, bar, sem = sync.Lock(), sync.Event(), sync.Condition(), sync.Barrier(2), sync.Semaphore(0)
    local q, v, a, t, f = queue.Queue(), shared.Value("int", 0), shared.Array("int", 3), shared.Table(), future.new()
    local rl = sync.RLock()
    local function child(lock, ev, cond, bar, sem, rl)
      bar:wait()                       -- Barrier: rendezvous with the parent
      ev:wait()                        -- Event: the parent sets it after the barrier
      for _ = 1, 100 do lock:with(function() v.value = v.value + 1 end) end
      rl:with(function() rl:with(function() a[2] = 7 end) end)
      t.from_child = {x = 1}
      q:put({42, nil, "hello"})
      f:set_result("done", 5)
      sem:release()
      cond:with(function()
        while not t.go do cond:wait() end
      end)
      return "child finished"
    end
    local p = process.Process{target = child, args = {lock, ev, cond, bar, sem, rl}, start_method = m}
    p:start()
    T.eq(bar:wait(30) >= 0, true)
    ev:set()
    for _ = 1, 100 do lock:with(function() v.value = v.value + 1 end) end
    T.eq(sem:acquire(30), true)
    local item = q:get(30)
    T.eq(item[1], 42); T.eq(item[2], nil); T.eq(item[3], "hello")
    local r1, r2 = f:result(30)
    T.eq(r1, "done"); T.eq(r2, 5)
    cond:with(function()
      t.go = true
      cond:notify_all()
    end)
    T.eq(p:join(30), "child finished")
    T.eq(v.value, 200)
    T.eq(a[2], 7)
    T.eq(t.from_child.x, 1)
  end)

  T.test(m .. ": a Lock held by a killed child -> AbandonedLock in the parent", function()
    local l, taken = sync.Lock(), sync.Event()
    local p = process.Process{target = function(l, taken)
      l:acquire(); taken:set(); require("tide.sync").Event():wait()
    end, args = {l, taken}, start_method = m}
    p:start()
    taken:wait()
    p:kill()
    T.raises("WorkerDied", "SIGKILL", p.join, p, 30)
    T.raises("AbandonedLock", l.acquire, l)
    l:release()
  end)
end

for _, m in ipairs(process.get_all_start_methods()) do
  T.test(m .. ": pipe connections as argument and upvalue (duplex hello, father / son)", function()
    local pipe = require "tide.pipe"
    local parent_end, child_end = pipe.Pipe()
    local r, w = pipe.Pipe(false)
    local p = process.Process{start_method = m, args = {child_end}, target = function(conn)
      conn:send("hello, father")
      local got = conn:recv(30)
      w:send({echo = got})        -- an upvalue connection
      return got
    end}
    p:start()
    T.eq(parent_end:recv(30), "hello, father")
    parent_end:send("hello, son")
    T.same(r:recv(30), {echo = "hello, son"})
    T.eq(p:join(30), "hello, son")
    T.eq(p.exitcode, 0)
  end)
end

T.test("forty pipe connections reach a child under every start method", function()
  local pipe = require "tide.pipe"
  for _, m in ipairs(process.get_all_start_methods()) do
    local mine, theirs = {}, {}
    for i = 1, 40 do mine[i], theirs[i] = pipe.Pipe() end
    local p = process.Process{start_method = m, args = {theirs}, target = function(conns)
      for i, c in ipairs(conns) do c:send(i) end
    end}
    p:start()
    for i = 1, 40 do T.eq(mine[i]:recv(30), i, m) end
    p:join(30)
  end
end)

T.done()
