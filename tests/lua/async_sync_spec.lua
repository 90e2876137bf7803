-- tide.async's primitives: Queue, Event, Lock, Semaphore, BoundedSemaphore,
-- Condition, with tide.queue / tide.sync method names; inside a task their
-- waiting methods suspend the task and return the result directly. Ordering
-- uses the primitives themselves and the loop's turns.
local T = require "harness"
local async = require "tide.async"

local function run(fn) return async.run(fn) end

-- ---- Queue -------------------------------------------------------------------

T.test("Queue: FIFO; qsize, empty, full; put/get suspend and resume each other", function()
  run(function()
    local q = async.Queue(2)
    T.truthy(q:empty()); T.falsy(q:full())
    local got = {}
    local consumer = async.spawn(function()
      for _ = 1, 5 do got[#got + 1] = q:get() end
    end)
    for i = 1, 5 do q:put(i) end  -- suspends while full
    async.await(consumer)
    T.same(got, {1, 2, 3, 4, 5})
    T.eq(q:qsize(), 0)
    T.match(tostring(q), "0 items")
  end)
end)

T.test("Queue: nowait forms raise Full and Empty; timeouts raise them too; nil is not an item", function()
  run(function()
    local q = async.Queue(1)
    q:put_nowait("a")
    T.truthy(q:full())
    T.raises("Full", q.put_nowait, q, "b")
    T.raises("Full", q.put, q, "b", 0)
    T.raises("Full", q.put, q, "b", 0.01)
    T.eq(q:get_nowait(), "a")
    T.raises("Empty", q.get_nowait, q)
    T.raises("Empty", q.get, q, 0)
    T.raises("Empty", q.get, q, 0.01)
    T.raises("ArgumentError", q.put, q, nil)
    T.raises("ArgumentError", async.Queue, -1)
    T.raises("ArgumentError", async.Queue, 1.5)
    T.raises("ArgumentError", q.get, q, -1)
  end)
end)

T.test("Queue: nowait methods work outside a task, waiting ones need one", function()
  local q = async.Queue()
  q:put_nowait(1)
  q:put(2)  -- never waits: unbounded
  T.eq(q:get_nowait(), 1)
  T.eq(q:get(), 2)
  T.raises("InvalidState", q.get, q)
end)

T.test("Queue: task_done and join", function()
  run(function()
    local q = async.Queue()
    local done = {}
    local worker = async.spawn(function()
      for item in q:iter() do done[#done + 1] = item; q:task_done() end
    end)
    for i = 1, 3 do q:put(i) end
    T.truthy(q:join())
    T.same(done, {1, 2, 3})
    T.raises("InvalidState", q.task_done, q)
    q:close()
    async.await(worker)
    local idle = async.Queue()
    idle:put(1)  -- nobody takes it
    T.falsy(idle:join(0))
    T.falsy(idle:join(0.01))
  end)
end)

T.test("Queue: close wakes getters and putters; get drains then raises Closed; iter ends", function()
  run(function()
    local q = async.Queue(1)
    q:put("last")
    local putter = async.spawn(function() return pcall(q.put, q, "more") end)
    async.sleep(0)
    q:close()
    local ok, err = async.await(putter)
    T.falsy(ok); T.eq(err.kind, "Closed")
    T.truthy(q:is_closed())
    T.eq(q:get(), "last")
    T.raises("Closed", q.get, q)
    T.raises("Closed", q.put, q, 1)
    local getter_q = async.Queue()
    local getter = async.spawn(function() return pcall(getter_q.get, getter_q) end)
    async.sleep(0)
    getter_q:close()
    local ok2, err2 = async.await(getter)
    T.falsy(ok2); T.eq(err2.kind, "Closed")
  end)
end)

T.test("Queue: waiting getters are served in order", function()
  run(function()
    local q = async.Queue()
    local order = {}
    local ts = {}
    for i = 1, 3 do
      ts[i] = async.spawn(function()
        local v = q:get()
        order[#order + 1] = i .. ":" .. v
      end)
    end
    async.sleep(0)
    for _, v in ipairs{"a", "b", "c"} do q:put(v) end
    async.gather(ts)
    T.same(order, {"1:a", "2:b", "3:c"})
  end)
end)

-- ---- Event ---------------------------------------------------------------

T.test("Event: wait suspends until set; set wakes every waiter; clear; wait(timeout) -> false", function()
  run(function()
    local ev = async.Event()
    local woken = 0
    local ts = {}
    for i = 1, 3 do ts[i] = async.spawn(function() T.truthy(ev:wait()); woken = woken + 1 end) end
    async.sleep(0)
    T.eq(woken, 0)
    ev:set()
    T.truthy(ev:is_set())
    async.gather(ts)
    T.eq(woken, 3)
    T.truthy(ev:wait())
    ev:clear()
    T.falsy(ev:is_set())
    T.falsy(ev:wait(0))
    T.falsy(ev:wait(0.01))
    T.match(tostring(ev), "clear")
  end)
end)

-- ---- Lock ---------------------------------------------------------------------

T.test("Lock: one holder at a time, waiters served in order; release of an unlocked lock is InvalidState", function()
  run(function()
    local lock = async.Lock()
    local log = {}
    local function worker(name)
      lock:acquire()
      log[#log + 1] = name .. "+"
      async.sleep(0)
      log[#log + 1] = name .. "-"
      lock:release()
    end
    async.gather(function() worker("a") end, function() worker("b") end, function() worker("c") end)
    T.eq(table.concat(log, " "), "a+ a- b+ b- c+ c-")
    T.falsy(lock:locked())
    T.raises("InvalidState", lock.release, lock)
  end)
end)

T.test("Lock: acquire(0) does not wait; acquire(timeout) gives false; with and guard release on error too", function()
  run(function()
    local lock = async.Lock()
    T.truthy(lock:acquire(0))
    T.falsy(lock:acquire(0))
    T.falsy(lock:acquire(0.01))
    lock:release()
    T.eq(lock:with(function(a, b) T.truthy(lock:locked()) return a + b end, 1, 2), 3)
    T.falsy(lock:locked())
    T.falsy(pcall(lock.with, lock, function() error("x") end))
    T.falsy(lock:locked())
    do
      local g <close> = lock:guard()
      T.truthy(lock:locked())
    end
    T.falsy(lock:locked())
    T.raises("ArgumentError", lock.with, lock, 5)
  end)
end)

-- ---- Semaphore ----------------------------------------------------------------

T.test("Semaphore: at most n holders; release(n); acquire(timeout) false", function()
  run(function()
    local sem = async.Semaphore(2)
    local inside, most = 0, 0
    local function worker()
      sem:with(function()
        inside = inside + 1
        most = math.max(most, inside)
        async.sleep(0)
        inside = inside - 1
      end)
    end
    local ts = {}
    for i = 1, 6 do ts[i] = async.spawn(worker) end
    async.gather(ts)
    T.eq(most, 2)
    T.truthy(sem:acquire()); T.truthy(sem:acquire())
    T.truthy(sem:locked())
    T.falsy(sem:acquire(0.01))
    sem:release(2)
    T.falsy(sem:locked())
    T.raises("ArgumentError", async.Semaphore, -1)
  end)
end)

T.test("BoundedSemaphore: releasing more than acquired is InvalidState", function()
  run(function()
    local b = async.BoundedSemaphore(1)
    T.raises("InvalidState", b.release, b)
    b:acquire()
    b:release()
    T.raises("InvalidState", b.release, b)
    local unbounded = async.Semaphore(0)
    unbounded:release()  -- fine
    T.truthy(unbounded:acquire(0))
  end)
end)

-- ---- Condition ----------------------------------------------------------------

T.test("Condition: wait releases the lock and takes it back; notify(n) and notify_all", function()
  run(function()
    local c = async.Condition()
    local items, woken = {}, 0
    local function consumer()
      c:with(function()
        while #items == 0 do c:wait() end
        T.truthy(c:locked())
        table.remove(items)
        woken = woken + 1
      end)
    end
    local ts = {}
    for i = 1, 3 do ts[i] = async.spawn(consumer) end
    async.sleep(0)
    c:with(function()
      items[1] = "x"
      c:notify()
    end)
    async.sleep(0) async.sleep(0)
    T.eq(woken, 1)
    c:with(function()
      items = {"y", "z"}
      c:notify_all()
    end)
    async.gather(ts)
    T.eq(woken, 3)
  end)
end)

T.test("Condition: wait_for(pred, timeout) returns the predicate's last value; misuse is InvalidState", function()
  run(function()
    local c = async.Condition(async.Lock())
    local ready = false
    local setter = async.spawn(function()
      c:with(function() ready = "yes" c:notify_all() end)
    end)
    c:acquire()
    T.eq(c:wait_for(function() return ready end), "yes")
    T.eq(c:wait_for(function() return false end, 0.01), false)
    T.falsy(c:wait(0.01))
    c:release()
    async.await(setter)
    T.raises("InvalidState", c.wait, c)
    T.raises("InvalidState", c.notify, c)
    T.raises("InvalidState", c.notify_all, c)
    T.raises("ArgumentError", async.Condition, 5)
  end)
end)

T.test("methods called with '.' instead of ':' raise ArgumentError", function()
  local q, ev, l = async.Queue(), async.Event(), async.Lock()
  T.raises("ArgumentError", q.put_nowait, 1)
  T.raises("ArgumentError", ev.set)
  T.raises("ArgumentError", l.release, {})
end)

T.done()
