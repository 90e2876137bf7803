-- tide.actor (API.md §16): actors on thread and process workers (every
-- start method), their mailbox order, errors, death and restart, refs as
-- transferable values, and their futures with tide.future.
-- Orderings come from events, queues and futures, never from sleeps.
local T = require "harness"
local tide = require "tide"
local actor = require "tide.actor"
local future = require "tide.future"
local queue = require "tide.queue"
local sync = require "tide.sync"
local thread = require "tide.thread"
local process = require "tide.process"
local pool = require "tide.pool"
local pipe = require "tide.pipe"

local METHODS = process.get_all_start_methods()

-- A counter with every hook; `log` (a queue, optional) records the hooks.
local Counter = {}
function Counter:__init(start, log)
  self.n, self.log = start or 0, log
  if log then log:put("init " .. self.n) end
end
function Counter:__post_create()
  self.created = true
  if self.log then self.log:put("post_create") end
end
function Counter:__pre_destroy()
  if self.log then self.log:put("pre_destroy " .. self.n) end
end
function Counter:inc(k) self.n = self.n + (k or 1) return self.n end
function Counter:get() return self.n, self.created end
function Counter:pair(a, b) return b, a, nil, "x" end
function Counter:boom(msg) error(msg or "boom") end
function Counter:pid() return require("tide.os").getpid() end
-- Blocks the mailbox until `ev` is set, so calls queue up behind it.
function Counter:hold(ev) ev:wait() return "held" end
function Counter:exit(code) os.exit(code) end

local function kinds()
  local w = {{where = "thread"}}
  for _, m in ipairs(METHODS) do w[#w + 1] = {where = "process", start_method = m} end
  return w
end

local function label(o) return o.where .. (o.start_method and ("/" .. o.start_method) or "") end

for _, o in ipairs(kinds()) do
  T.test(label(o) .. ": __init with args, then __post_create; calls keep state; sugar; multiple results", function()
    local log = queue.Queue()
    local c = actor.spawn(Counter, {10, log}, {where = o.where, start_method = o.start_method, name = "ctr"})
    T.eq(log:get(), "init 10")
    T.eq(log:get(), "post_create")
    T.eq(c.name, "ctr")
    T.eq(c.where, o.where)
    T.truthy(c:is_alive())
    T.eq(c:call("inc", 5):result(), 15)
    T.eq(c:inc(2):result(), 17)
    local n, created = c:get():result()
    T.eq(n, 17) T.eq(created, true)
    local r = table.pack(c:call("pair", 1, 2):result())
    T.eq(r.n, 4) T.eq(r[1], 2) T.eq(r[2], 1) T.eq(r[3], nil) T.eq(r[4], "x")
    if o.where == "process" then
      T.truthy(c:pid():result() ~= require("tide.os").getpid(), "a process actor runs in another process")
    else
      T.eq(c:pid():result(), require("tide.os").getpid())
    end
    actor.destroy(c)
    T.eq(log:get(), "pre_destroy 17")
    T.falsy(c:is_alive())
  end)

  T.test(label(o) .. ": a raising method fails its own call with RemoteError; the actor keeps its state", function()
    local c = actor.spawn(Counter, {1}, {where = o.where, start_method = o.start_method})
    c:inc()
    local f = c:boom("bad thing")
    local e = T.raises("RemoteError", "bad thing", f.result, f)
    T.match(tostring(e.cause), "bad thing")
    T.truthy(e.traceback ~= "")
    -- An unknown method is the call's error too.
    e = T.raises("RemoteError", "no method 'nope'", function() return c:call("nope"):result() end)
    T.truthy(tide.is_error(e.cause, "ArgumentError"))
    c:tell("boom")  -- fire and forget: its error is its own
    T.eq(c:get():result(), 2)
    T.truthy(c:is_alive())
    actor.destroy(c)
  end)

  T.test(label(o) .. ": calls run one at a time in arrival order", function()
    local Log = {}
    function Log:__init() self.items = {} end
    function Log:add(x) self.items[#self.items + 1] = x return #self.items end
    function Log:all() return self.items end
    local a = actor.spawn(Log, nil, {where = o.where, start_method = o.start_method})
    local futs = {}
    for i = 1, 50 do
      if i % 2 == 0 then a:tell("add", i) else futs[#futs + 1] = a:add(i) end
    end
    for k, f in ipairs(futs) do T.eq(f:result(), 2 * k - 1) end
    local all = a:all():result()
    T.eq(#all, 50)
    for i = 1, 50 do T.eq(all[i], i) end
    actor.destroy(a)
  end)

  T.test(label(o) .. ": __init that raises makes spawn raise RemoteError with its error as cause", function()
    local Bad = {__init = function(_, why) error({why = why}) end}
    local e = T.raises("RemoteError", "creating it raised", actor.spawn, Bad, {"nope"}, {where = o.where, start_method = o.start_method})
    T.eq(type(e.cause), "table")
    T.eq(e.cause.why, "nope")
    local PostBad = {__post_create = function() error("post!") end}
    T.raises("RemoteError", "post!", actor.spawn, PostBad, nil, {where = o.where, start_method = o.start_method})
  end)
end

T.test("destroy: queued calls finish first, then __pre_destroy; later calls raise WorkerDied; destroy twice is fine", function()
  for _, o in ipairs{{where = "thread"}, {where = "process"}} do
    local log = queue.Queue()
    local ev = sync.Event()
    local c = actor.spawn(Counter, {0, log}, o)
    log:get() log:get()
    local held = c:hold(ev)
    local queued = {}
    for i = 1, 5 do queued[i] = c:inc() end
    local d = thread.spawn(function(a) require("tide.actor").destroy(a) return "destroyed" end, c)
    ev:set()
    T.eq(held:result(), "held")
    for i = 1, 5 do T.eq(queued[i]:result(), i) end
    T.eq(d:join(), "destroyed")
    T.eq(log:get(), "pre_destroy 5")
    T.falsy(c:is_alive())
    T.match(tostring(c), "destroyed")
    T.raises("WorkerDied", "destroyed", c.call, c, "get")
    T.raises("WorkerDied", "destroyed", c.tell, c, "get")
    actor.destroy(c)
  end
end)

for _, m in ipairs(METHODS) do
  T.test("process/" .. m .. ": a dead actor fails its running and pending calls with WorkerDied, later calls at once", function()
    local ev = sync.Event()
    local c = actor.spawn(Counter, {0}, {where = "process", start_method = m, name = "mortal"})
    local held = c:hold(ev)
    local dying = c:exit(3)
    local pending = {c:inc(), c:inc(), c:get()}
    ev:set()
    T.eq(held:result(), "held")
    local e = T.raises("WorkerDied", "exited with code 3", dying.result, dying)
    for _, f in ipairs(pending) do T.raises("WorkerDied", "actor 'mortal' is dead", f.result, f) end
    T.falsy(c:is_alive())
    T.match(tostring(c), "dead")
    e = T.raises("WorkerDied", "exited with code 3", c.call, c, "get")
    T.eq(e.exitcode, 3)
    actor.destroy(c)
  end)

  T.test("process/" .. m .. ": restart=true starts it again from __init with its arguments", function()
    local log = queue.Queue()
    local ev = sync.Event()
    local c = actor.spawn(Counter, {100, log}, {where = "process", start_method = m, restart = true})
    T.eq(log:get(), "init 100") T.eq(log:get(), "post_create")
    T.eq(c:inc(5):result(), 105)
    local pid1 = c:pid():result()
    local held = c:hold(ev)
    local dying = c:exit(0)
    local after = c:inc()
    ev:set()
    held:result()
    T.raises("WorkerDied", dying.result, dying)
    T.eq(after:result(), 101, "served by the restarted actor, from __init")
    T.eq(log:get(), "init 100") T.eq(log:get(), "post_create")
    T.truthy(c:pid():result() ~= pid1)
    T.truthy(c:is_alive())
    actor.destroy(c)
    T.eq(log:get(), "pre_destroy 101")
  end)
end

T.test("an actor method may wait on futures and call other actors (A calls B, B replies; B calls C)", function()
  local C = {}
  function C:twice(x) return 2 * x end
  local B = {}
  function B:__init(c) self.c = c end
  function B:via(x) return self.c:twice(x):result() + 1 end
  local A = {}
  function A:__init(b) self.b = b end
  function A:ask(x)
    local p = require("tide.pool").default()
    local f = p:submit(function(y) return y * 10 end, x)
    return self.b:via(f:result()):result()
  end
  for _, where in ipairs{"thread", "process"} do
    local c = actor.spawn(C, nil, {where = where})
    local b = actor.spawn(B, {c}, {where = where})
    local a = actor.spawn(A, {b}, {where = where})
    T.eq(a:ask(3):result(), 61)
    local futs = {}
    for i = 1, 10 do futs[i] = a:ask(i) end
    for i = 1, 10 do T.eq(futs[i]:result(), 20 * i + 1) end
    for _, r in ipairs{a, b, c} do actor.destroy(r) end
  end
end)

T.test("ActorRefs cross to threads, pool tasks, queues and pipes, and stay the same actor", function()
  for _, where in ipairs{"thread", "process"} do
    local c = actor.spawn(Counter, {0}, {where = where})
    T.eq(thread.spawn(function(r) return r:inc(1):result() end, c):join(), 1)
    local tp <close> = pool.ThreadPool{workers = 2}
    T.eq(tp:submit(function(r) return r:inc(1):result() end, c):result(), 2)
    local pp <close> = pool.ProcessPool{workers = 1}
    T.eq(pp:submit(function(r) return r:inc(1):result() end, c):result(), 3)
    local q = queue.Queue()
    q:put(c)
    local got = q:get()
    T.truthy(got == c, "one actor, one value")
    T.eq(got:inc(1):result(), 4)
    local a, b = pipe.Pipe()
    a:send({ref = c})
    T.eq(b:recv().ref:inc(1):result(), 5)
    a:close() b:close()
    T.eq(got.name, c.name)
    actor.destroy(c)
    T.falsy(got:is_alive())
  end
end)

for _, m in ipairs(METHODS) do
  T.test("ActorRefs cross to processes (" .. m .. "): thread and process actors, called from the child", function()
    for _, where in ipairs{"thread", "process"} do
      local c = actor.spawn(Counter, {0}, {where = where})
      local p = process.Process{target = function(r, n)
        local last
        for _ = 1, n do last = r:inc(1):result() end
        r:tell("inc", 100)
        return last, r.name, r:is_alive()
      end, args = {c, 3}, start_method = m}
      p:start()
      local last, name, alive = p:join()
      T.eq(last, 3) T.eq(name, c.name) T.eq(alive, true)
      T.eq(c:get():result(), 103, "the child's tell came before this call")
      -- A destroy from another process stops the actor too.
      local q = process.Process{target = function(r) require("tide.actor").destroy(r) end, args = {c}, start_method = m}
      q:start() q:join()
      T.raises("WorkerDied", c.call, c, "get")
      T.falsy(c:is_alive())
      actor.destroy(c)
    end
  end)
end

T.test("a thread actor's ref works in a forked child (its calls reach the parent's worker thread)", function()
  local c = actor.spawn(Counter, {0})
  local pid = T.fork(function()
    local n = c:inc(7):result()
    return n == 7 and 0 or 1
  end)
  T.eq(T.exit_code(pid), 0)
  T.eq(c:get():result(), 7)
  actor.destroy(c)
end)

T.test("calls are ordinary futures: as_completed, wait, gather, done callbacks", function()
  local c = actor.spawn(Counter, {0}, {where = "process"})
  local t = actor.spawn(Counter, {0})
  local futs = {c:inc(1), t:inc(10), c:inc(1), t:inc(10)}
  local seen = 0
  for f in future.as_completed(futs, 30) do
    T.truthy(f:done())
    seen = seen + 1
  end
  T.eq(seen, 4)
  local done, not_done = future.wait({c:get(), t:get()}, {timeout = 30})
  T.eq(#done, 2) T.eq(#not_done, 0)
  T.same(future.gather({c:get(), t:get()}), {2, 20})
  -- Done callbacks run in the state that added them, at its next wait.
  local got
  local f = c:inc(1)
  f:add_done_callback(function(done) got = done:result() end)
  f:result()
  future.poll()
  T.eq(got, 3)
  actor.destroy(c) actor.destroy(t)
end)

T.test("bad input: typed errors", function()
  T.raises("ArgumentError", actor.spawn)
  T.raises("ArgumentError", actor.spawn, "x")
  T.raises("ArgumentError", actor.spawn, {}, 5)
  T.raises("ArgumentError", "colour", actor.spawn, {}, nil, {colour = 1})
  T.raises("ArgumentError", "where", actor.spawn, {}, nil, {where = "moon"})
  T.raises("ArgumentError", "start_method", actor.spawn, {}, nil, {where = "thread", start_method = "fork"})
  T.raises("ArgumentError", "start_method", actor.spawn, {}, nil, {where = "process", start_method = "teleport"})
  T.raises("ArgumentError", "restart", actor.spawn, {}, nil, {restart = "yes"})
  T.raises("ArgumentError", "name", actor.spawn, {}, nil, {name = 5})
  T.raises("ArgumentError", "__init", actor.spawn, {__init = 5})
  T.raises("TransferError", "argument 1", actor.spawn, {f = coroutine.create(print)})
  T.raises("TransferError", "argument 2", actor.spawn, {}, {coroutine.create(print)})
  T.raises("TransferError", actor.spawn, {}, {thread.current()}, {where = "process"})
  local c = actor.spawn(Counter, {0})
  T.raises("ArgumentError", c.call, c)
  T.raises("ArgumentError", c.call, c, 5)
  T.raises("ArgumentError", "lifecycle", c.call, c, "__init")
  T.raises("ArgumentError", c.call, {}, "get")
  T.raises("ArgumentError", c.inc, {}, 1)
  T.raises("TransferError", "argument 3", c.call, c, "inc", coroutine.create(print))
  -- The sugar names the argument as its caller counts it (self is 1).
  T.raises("TransferError", "argument 2:", c.inc, c, coroutine.create(print))
  T.raises("ArgumentError", actor.destroy, {})
  T.eq(c._private, nil)
  actor.destroy(c)
end)

T.test("__pre_destroy runs at exit for actors not destroyed (thread and process)", function()
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
    local actor = require "tide.actor"
    local A = {}
    function A:__init(tag) self.tag = tag end
    function A:__pre_destroy() io.write("bye ", self.tag, "\n") io.flush() end
    function A:hi() return "hi " .. self.tag end
    local t = actor.spawn(A, {"thread"})
    local p = actor.spawn(A, {"process"}, {where = "process"})
    print(t:hi():result()) print(p:hi():result())
    io.flush()
  ]])
  f:close()
  local code, out = T.run_tide(script)
  os.remove(script)
  T.eq(code, 0)
  T.match(out, "^hi thread\nhi process\n")
  T.match(out, "bye thread\n")
  T.match(out, "bye process\n")
end)

T.test("calls of thread and process actors are awaited by tide.async tasks", function()
  local async = require "tide.async"
  for _, where in ipairs{"thread", "process"} do
    local r = actor.spawn(Counter, {10}, {where = where})
    local a, b, c = async.run(function()
      local first = async.await(r:call("inc", 1))
      local both = async.gather(r:inc(2), r:inc(3))  -- the mailbox keeps their order
      return first, both[1], both[2]
    end)
    T.eq(a, 11, where)
    T.eq(b, 13, where)
    T.eq(c, 16, where)
    actor.destroy(r)
  end
end)

T.done()
