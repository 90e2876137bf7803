-- tide.async awaiting what other threads and processes make, without
-- blocking the loop: pool futures, futures completed by a forked process,
-- threads, processes, tide.queue queues (async.get / async.put), pipe
-- connections (async.recv), descriptors (async.readable / writable), and
-- several of them at once (futex sources and descriptors together). The
-- other side is ordered with tide.sync Events, never with sleeps.
local T = require "harness"
local tide = require "tide"
local async = require "tide.async"
local future = require "tide.future"
local pool = require "tide.pool"
local thread = require "tide.thread"
local sync = require "tide.sync"
local queue = require "tide.queue"
local pipe = require "tide.pipe"
local os_ = require "tide.os"
local process = require "tide.process"

-- A task that counts loop turns: proof the loop kept running meanwhile.
local function ticker()
  local state = {n = 0, stop = false}
  state.task = async.spawn(function()
    while not state.stop do state.n = state.n + 1; async.sleep(0.001) end
  end)
  return state
end

T.test("await a pool future: its results; RemoteError when the task failed; Cancelled when cancelled", function()
  local p <close> = pool.ThreadPool{workers = 2}
  async.run(function()
    local gate = sync.Event()
    local tick = ticker()
    local f = p:submit(function(g) g:wait() return 6 * 7, "pool" end, gate)
    local opener = async.spawn(function()
      while tick.n < 3 do async.sleep(0) end
      gate:set()   -- only after the loop ticked: the await does not block it
    end)
    local a, b = async.await(f)
    T.eq(a, 42); T.eq(b, "pool")
    tick.stop = true
    async.gather(opener, tick.task)
    local ok, err = pcall(async.await, p:submit(function() error("task failed") end))
    T.falsy(ok); T.eq(err.kind, "RemoteError")
    local pending = future.new()
    pending:cancel()
    T.raises("Cancelled", async.await, pending)
  end)
end)

T.test("awaiting many pool futures: as_completed, gather, wait_for on futures", function()
  local p <close> = pool.ThreadPool{workers = 2}
  async.run(function()
    local fs = {}
    for i = 1, 50 do fs[i] = p:submit(function(x) return x * x end, i) end
    local r = async.gather(fs)
    T.eq(r.n, 50); T.eq(r[50], 2500)
    local seen = 0
    for f in async.as_completed(fs) do seen = seen + 1; T.truthy(f:done()) end
    T.eq(seen, 50)
    local never = future.new()
    T.raises("Timeout", async.wait_for, never, 0.01)
    T.truthy(never:cancelled())  -- wait_for cancels a pending future at its timeout
    local loop = async.get_loop()
    T.eq(loop.nwatch, 0)
  end)
end)

T.test("a task awaits a future completed by a forked process while another task runs", function()
  async.run(function()
    local f = future.new()
    local go = sync.Event()
    local pid = os_.fork()
    if pid == 0 then
      go:wait(30)
      f:set_result("from the child", os_.getpid())
      os_._exit(0)
    end
    local tick = ticker()
    async.spawn(function() while tick.n < 3 do async.sleep(0) end go:set() end)
    local v, child = async.await(f)
    T.eq(v, "from the child"); T.eq(child, pid)
    tick.stop = true
    async.await(tick.task)
    local _, status = os_.waitpid(pid)
    T.eq(os_.waitstatus_to_exitcode(status), 0)
  end)
end)

T.test("future done callbacks run at loop turns", function()
  async.run(function()
    local f = future.new()
    local called = async.Event()
    f:add_done_callback(function() called:set() end)
    local th = thread.spawn(function(f) f:set_result(1) end, f)
    async.await(f)
    async.await(th)
    T.truthy(called:wait(5))
  end)
end)

T.test("await a thread: its results, RemoteError when it failed; an unstarted one is InvalidState", function()
  async.run(function()
    local gate = sync.Event()
    local th = thread.spawn(function(g) g:wait() return "thread", 2 end, gate)
    local tick = ticker()
    async.spawn(function() while tick.n < 3 do async.sleep(0) end gate:set() end)
    local a, b = async.await(th)
    T.eq(a, "thread"); T.eq(b, 2)
    tick.stop = true
    local bad = thread.spawn(function() error("thread failed") end)
    local ok, err = pcall(async.await, bad)
    T.falsy(ok); T.eq(err.kind, "RemoteError")
    T.raises("InvalidState", async.await, thread.Thread{target = function() end})
    async.await(tick.task)
  end)
end)

T.test("await a process: its results once it exits", function()
  async.run(function()
    local gate = sync.Event()
    local p = process.Process{target = function(g) g:wait(30) return "child", 7 end, args = {gate}}
    p:start()
    local tick = ticker()
    async.spawn(function() while tick.n < 3 do async.sleep(0) end gate:set() end)
    local a, b = async.await(p)
    T.eq(a, "child"); T.eq(b, 7)
    T.eq(p.exitcode, 0)
    tick.stop = true
    async.await(tick.task)
    local r = async.gather(process.spawn(function() return 1 end), process.spawn(function() return 2 end))
    T.same(r, {1, 2, n = 2})
  end)
end)

T.test("async.get takes items another thread puts into a tide.queue; Empty at its timeout; Closed", function()
  async.run(function()
    local q = queue.Queue()
    local producer = thread.spawn(function(q)
      for i = 1, 100 do q:put(i) end
      q:close()
    end, q)
    local sum = 0
    while true do
      local ok, v = pcall(async.get, q)
      if not ok then
        T.eq(v.kind, "Closed")
        break
      end
      sum = sum + v
    end
    T.eq(sum, 5050)
    async.await(producer)
    T.raises("Empty", async.get, queue.Queue(), 0.01)
    T.raises("Empty", async.get, queue.Queue(), 0)
    T.raises("ArgumentError", async.get, async.Queue())
  end)
end)

T.test("async.get from a queue fed by a process; several tasks share a queue", function()
  async.run(function()
    local q = queue.Queue()
    local p = process.spawn(function(q) for i = 1, 20 do q:put(i) end end, q)
    local got = {}
    local function consumer()
      for _ = 1, 10 do
        local v = async.get(q)  -- (not got[#got + 1] = ...: # is read before the await)
        got[#got + 1] = v
      end
    end
    async.gather(consumer, consumer)
    table.sort(got)
    T.eq(#got, 20); T.eq(got[1], 1); T.eq(got[20], 20)
    async.await(p)
  end)
end)

T.test("async.put waits for room in a bounded tide.queue emptied by another thread", function()
  async.run(function()
    local q = queue.Queue(1)
    local consumer = thread.spawn(function(q)
      local s = 0
      for _ = 1, 10 do s = s + q:get() end
      return s
    end, q)
    for i = 1, 10 do async.put(q, i) end
    T.eq(async.await(consumer), 55)
    async.put(q, "x")
    T.raises("Full", async.put, q, "y", 0.01)
    q:close()
    T.raises("Closed", async.put, q, "z")
  end)
end)

T.test("async.recv reads messages a thread sends; Timeout; Closed at end of stream", function()
  async.run(function()
    local a, b = pipe.Pipe()
    local sender = thread.spawn(function(conn)
      for i = 1, 5 do conn:send({i = i}) end
      conn:send(string.rep("x", 200000))  -- arrives in several reads
      conn:close()
    end, b)
    local sum = 0
    for _ = 1, 5 do sum = sum + async.recv(a).i end
    T.eq(sum, 15)
    T.eq(#async.recv(a), 200000)
    async.await(sender)
    b:close()
    T.raises("Closed", async.recv, a)
    -- Both ends held: an end left to the collector is closed by its __gc,
    -- and c would then see end of stream instead of waiting.
    local c, d = pipe.Pipe()
    T.raises("Timeout", async.recv, c, 0.01)
    d:close()
  end)
end)

T.test("async.readable / writable on descriptors; objects with fileno(); bad arguments", function()
  async.run(function()
    local r, w = os_.pipe()
    T.falsy(async.readable(r, 0.01))
    T.truthy(async.writable(w))
    local writer = thread.spawn(function(fd) require("tide.os").write(fd, "hi") end, w)
    T.truthy(async.readable(r))
    T.eq(os_.read(r, 10), "hi")
    async.await(writer)
    local a = pipe.Pipe()
    T.truthy(async.writable(a))  -- a connection: its fileno()
    T.raises("ArgumentError", async.readable, "nope")
    T.raises("ArgumentError", async.readable, -1)
    os_.close(r); os_.close(w)
  end)
end)

T.test("descriptors and futures awaited at once: each completes (one wait watches both)", function()
  local p <close> = pool.ThreadPool{workers = 1}
  async.run(function()
    local r, w = os_.pipe()
    local gate_fd, gate_fut = sync.Event(), sync.Event()
    local fd_task = async.spawn(function() return async.readable(r) end)
    local f = p:submit(function(g) g:wait(30) return "future" end, gate_fut)
    local fut_task = async.spawn(function() return async.await(f) end)
    local writer = thread.spawn(function(g, fd) g:wait(30) require("tide.os").write(fd, "x") end, gate_fd, w)
    async.sleep(0)
    gate_fut:set()   -- the future first, while the loop also polls the descriptor
    T.eq(async.await(fut_task), "future")
    gate_fd:set()    -- then the descriptor, while nothing else is awaited
    T.truthy(async.await(fd_task))
    async.await(writer)
    os_.close(r); os_.close(w)
  end)
end)

T.test("async.waitpid awaits a forked child's exit while another task runs; Timeout; bad pid", function()
  async.run(function()
    local go = sync.Event()
    local pid = os_.fork()
    if pid == 0 then
      go:wait(30)
      os_._exit(3)
    end
    local tick = ticker()
    async.spawn(function() while tick.n < 3 do async.sleep(0) end go:set() end)
    local r, status = async.waitpid(pid)
    T.eq(r, pid)
    T.eq(os_.waitstatus_to_exitcode(status), 3)
    tick.stop = true
    async.await(tick.task)
    local stay = sync.Event()
    local pid2 = os_.fork()
    if pid2 == 0 then stay:wait(30) os_._exit(0) end
    T.raises("Timeout", async.waitpid, pid2, 0.01)
    stay:set()
    T.eq(async.waitpid(pid2), pid2)
    T.raises("ArgumentError", async.waitpid, 0)
    T.raises("OSError", async.waitpid, pid2)  -- reaped already: no such child
  end)
end)

T.test("blocking tide calls inside a task still work (they block the loop meanwhile)", function()
  local p <close> = pool.ThreadPool{workers = 1}
  async.run(function()
    local q = queue.Queue()
    local th = thread.spawn(function(q) q:put("blocking get") end, q)
    T.eq(q:get(), "blocking get")           -- a tide.queue get, not async.get
    T.eq(p:submit(function() return 5 end):result(), 5)  -- a future's result()
    tide.sleep(0.001)
    T.eq(th:join(), nil)
    local other = async.spawn(function() return "still scheduled" end)
    T.eq(async.await(other), "still scheduled")
  end)
end)

T.test("a loop inside a worker thread awaits futures and queues like the main one", function()
  local q = queue.Queue()
  local th = thread.spawn(function(q)
    local async = require "tide.async"
    return async.run(function()
      local f = require("tide.pool").default():submit(function() return 20 end)
      return async.await(f) + async.get(q)
    end)
  end, q)
  q:put(22)
  T.eq(th:join(), 42)
end)

T.done()
