-- tide.async (API.md §12): coroutines as tasks on an event loop that can
-- await everything tide makes (pool/thread/process futures, threads,
-- processes, queues, pipe connections, descriptors) without blocking the
-- other tasks, through the one native wait (host/async/waiter.hpp).
--
--   local async = require "tide.async"
--   async.run(function()
--     local t = async.spawn(function() async.sleep(0.1) return "hi" end)
--     print(async.await(t))
--   end)
--
-- Inside a task every async function and every method of an async object
-- suspends the task and returns its result directly; async.await is for
-- Tasks, Futures, Threads, Processes and lists of them. The loop itself is
-- _asyncloop.lua; the primitives are _asyncsync.lua; awaiting other
-- threads' and processes' objects is _asyncwait.lua.
-- Task slots (see _asyncloop.lua).
local STATE <const>, STOP <const>, GEN <const>, STARTED <const> = 2, 5, 6, 7

local tide = require "tide"
local C = require "tide._asyncloop"
local W = require "tide._asyncwait"
local S = require "tide._asyncsync"

local monotonic = tide.monotonic
local raise, arg_error, check_timeout = C.raise, C.arg_error, C.check_timeout
local current, suspend, suspend_raw = C.current, C.suspend, C.suspend_raw
local TIMEOUT, DONE, SUSPEND = C.TIMEOUT, C.DONE, C.SUSPEND
local yield = coroutine.yield
local pack, unpack = table.pack, table.unpack

local M = {}

local function check_function(fn, n, fname)
  if type(fn) ~= "function" then arg_error(n, fname, "function expected, got " .. type(fn)) end
end

-- ----------------------------------------------------------------- tasks

local Task, FailedTask = C.Task, C.FailedTask

function Task:done() return self[STATE] == DONE end
function Task:cancelled() return self.outcome == "cancelled" end

function Task:cancel(msg)
  if msg ~= nil and type(msg) ~= "string" then arg_error(1, "cancel", "message must be a string or nil") end
  return C.cancel(self.loop, self, msg)
end

-- Inside a task of the same loop, waits for self; elsewhere InvalidState.
local function wait_task(self, timeout, fname)
  local loop = C.running()
  local t = loop and loop.current
  if not t or loop ~= self.loop then raise("InvalidState", fname .. ": the task is not done") end
  if not W.wait_done(loop, t, self, "task", nil, timeout) then raise("Timeout", fname .. ": the task did not finish in time") end
end

function Task:result(timeout)
  check_timeout(timeout, 1, "result")
  if self[STATE] ~= DONE then wait_task(self, timeout, "result") end
  return W.task_results(self)
end

function Task:exception(timeout)
  check_timeout(timeout, 1, "exception")
  if self[STATE] ~= DONE then wait_task(self, timeout, "exception") end
  self.retrieved = true
  if self.outcome == "cancelled" then error(self.err or C.cancelled_error(), 0) end
  return self.err
end

-- fn(task) runs at the loop's next turn after the task is done.
function Task:add_done_callback(fn)
  check_function(fn, 1, "add_done_callback")
  if self[STATE] == DONE then
    C.soon(self.loop, fn, self)
    return
  end
  local cbs = self.callbacks
  if not cbs then
    cbs = {}
    self.callbacks = cbs
  end
  cbs[#cbs + 1] = fn
end

function Task:remove_done_callback(fn)
  local cbs, removed = self.callbacks, 0
  if not cbs then return 0 end
  for i = #cbs, 1, -1 do
    if cbs[i] == fn then
      table.remove(cbs, i)
      removed = removed + 1
    end
  end
  return removed
end

function Task:get_name() return self.name end
function Task:set_name(name) rawset(self, "name", tostring(name)) end

function Task:status()
  if self[STATE] ~= DONE then return self[STARTED] and "running" or "pending" end
  return self.outcome
end

Task.__tostring = function(self) return ("Task '%s' (%s)"):format(self.name, self:status()) end
Task.__name = "tide.async.Task"
-- task.name is made when first read (most tasks are never named).
local methods = {}
for k, v in pairs(Task) do
  if type(k) == "string" and k:sub(1, 2) ~= "__" then methods[k] = v end
end
local raw_get = rawget
Task.__index = function(t, k)  -- (methods is its first upvalue: the annotations spec reads it)
  local m = methods[k]
  if m ~= nil or k ~= "name" then return m end
  return "Task-" .. raw_get(t, "id")
end
for k, v in pairs(Task) do FailedTask[k] = v end

-- --------------------------------------------------------------- the loop

local Loop = C.Loop
Loop.__name = "tide.async.Loop"

-- A loop to run or to step from outside (a host's frame loop).
function M.new_loop() return C.new_loop() end

function Loop:spawn(fn, ...)
  check_function(fn, 1, "spawn")
  return C.spawn(self, fn, ...)
end

-- Runs fn(...) as the main task until it is done; returns its results.
function Loop:run(fn, ...)
  check_function(fn, 1, "run")
  if C.running() then raise("InvalidState", "async.run: a loop is already running in this Lua state (nested async.run)") end
  local main = C.spawn(self, fn, ...)
  C.run_main(self, main)
  return W.task_results(main)
end

-- One turn without blocking: waits at most max_seconds (default 0) for
-- something when no task is ready, then runs the ready tasks. True while
-- the loop has tasks not done (and how many tasks this step ran).
function Loop:step(max_seconds)
  check_timeout(max_seconds, 1, "step")
  return C.step(self, max_seconds)
end

function Loop:close() return C.close(self) end
Loop.__close = Loop.close

function Loop:tasks()
  local out = {}
  for i = 1, self.ntasks do out[i] = self.alive[i] end
  return out
end

function Loop:is_running() return C.running() == self end
function Loop:is_closed() return self.closed end
function Loop:time() return monotonic() end

Loop.__tostring = function(self)
  return ("async.Loop (%d task%s, %s)"):format(self.ntasks, self.ntasks == 1 and "" or "s",
    self.closed and "closed" or (C.running() == self and "running" or "idle"))
end

-- This Lua state's own loop, made on first use: the one an embedding host
-- steps in Host::pump() (host/tide.hpp), for tasks spawned from outside any
-- running loop with async.loop():spawn(fn).
M.loop = C.default_loop

function M.run(fn, ...)
  check_function(fn, 1, "async.run")
  if C.running() then raise("InvalidState", "async.run: a loop is already running in this Lua state (nested async.run)") end
  local loop <close> = C.new_loop()
  return loop:run(fn, ...)
end

function M.spawn(fn, ...)
  check_function(fn, 1, "async.spawn")
  local loop = C.running()
  if not loop then raise("InvalidState", "async.spawn needs a running loop (inside async.run); use loop:spawn") end
  return C.spawn(loop, fn, ...)
end
M.create_task = M.spawn

function M.current_task()
  local loop = C.running()
  return loop and loop.current
end

function M.get_loop() return C.running() end

-- ------------------------------------------------------------- awaiting

M.sleep = C.sleep

local gather_list

function M.await(x)
  local kind, id = W.kind(x)
  if not kind then
    if type(x) == "table" then return gather_list(x, nil, "async.await") end
    arg_error(1, "async.await", "a Task, Future, Thread, Process or a list of them expected, got " .. type(x))
  end
  local loop, t = current("async.await")
  W.wait_done(loop, t, x, kind, id, nil)
  return W.results(x, kind)
end

-- An awaitable from a gather / as_completed item: functions become tasks.
local function as_awaitable(loop, x, i, fname)
  local kind, id = W.kind(x)
  if kind then return x, kind, id end
  if type(x) == "function" then return C.spawn(loop, x), "task" end
  arg_error(1, fname, ("item %d is not awaitable (a Task, Future, Thread, Process or function), got %s"):format(i, type(x)))
end

-- The first result of a done awaitable: true, value | false, error.
local function first_result(x, kind)
  if kind == "task" then
    x.retrieved = true
    if x.outcome == "completed" then return true, x.results[2] end
    return false, x.err or C.cancelled_error()
  end
  local r = pack(pcall(W.results, x, kind))
  return r[1], r[2]
end

local Gather = {}
Gather.__index = Gather

-- Cancelling a gather cancels its children that are not done (tasks, and
-- futures still pending; threads and processes go on).
function Gather:cancel()
  for i = 1, self.n do
    local x, kind = self.items[i], self.kinds[i]
    if kind == "task" or kind == "future" then x:cancel() end
  end
  return true
end

function gather_list(list, opts, fname)
  local loop, t = current(fname)
  if opts ~= nil and type(opts) ~= "table" then arg_error(2, fname, "options table expected, got " .. type(opts)) end
  local rex = opts and opts.return_exceptions or false
  if t[STOP] then error(C.cancelled_error(), 0) end
  local n = list.n or #list
  local items, kinds, ids = {}, {}, {}
  local g = setmetatable({items = items, kinds = kinds, n = n, left = n, results = {n = n}, err = nil,
                          failed = false}, Gather)
  for i = 1, n do
    items[i], kinds[i], ids[i] = as_awaitable(loop, list[i], i, fname)
  end
  local results = g.results
  local waiting_gen
  -- One function for every child (called with the child's index), not a
  -- closure each: gathering 100,000 tasks stays cheap.
  local function settle(i)
    local ok, v = first_result(items[i], kinds[i])
    if ok or rex then
      results[i] = v
    elseif not g.failed then
      g.failed, g.err = true, v
    end
    local left = g.left - 1
    g.left = left
    if waiting_gen and (left == 0 or (g.failed and not rex)) then
      C.wake_if(loop, t, waiting_gen, true, nil)
    end
  end
  for i = 1, n do
    local x, kind = items[i], kinds[i]
    if W.is_done(x, kind) then
      settle(i)
    else
      W.subscribe(loop, x, kind, ids[i], settle, i)
    end
  end
  if g.left > 0 and not (g.failed and not rex) then
    waiting_gen = t[GEN]
    t.awaiting = g
    local ok, v = suspend_raw(loop, t, nil)
    t.awaiting = false
    waiting_gen = nil
    if not ok then error(v, 0) end
  end
  if g.failed and not rex then error(g.err, 0) end
  return results
end

-- gather(a, b, ...) or gather(list, [opts]): the first result of each, in
-- order (results.n = the count); {return_exceptions = true} puts errors in
-- the array instead of raising the first one.
function M.gather(...)
  local first = ...
  if type(first) == "table" and not W.kind(first) then return gather_list(first, (select(2, ...)), "async.gather") end
  return gather_list(pack(...), nil, "async.gather")
end

-- wait_for(x, timeout): x's results, or Timeout (x, a task or a function,
-- is cancelled and has finished unwinding by then; a pending future is
-- cancelled).
function M.wait_for(x, timeout)
  check_timeout(timeout, 2, "async.wait_for")
  local loop, t = current("async.wait_for")
  local kind, id
  x, kind, id = as_awaitable(loop, x, 1, "async.wait_for")
  if W.wait_done(loop, t, x, kind, id, timeout) then return W.results(x, kind) end
  if kind == "task" then
    x:cancel()
    W.wait_done(loop, t, x, kind, id, nil)
    x.retrieved = true
  elseif kind == "future" then
    x:cancel()
  end
  raise("Timeout", "async.wait_for: not done in time")
end

-- for x in async.as_completed(list, [timeout]) do ... end: the items (tasks
-- for functions) in the order they finish; Timeout at the deadline.
function M.as_completed(list, timeout)
  if type(list) ~= "table" then arg_error(1, "async.as_completed", "a list expected, got " .. type(list)) end
  check_timeout(timeout, 2, "async.as_completed")
  local loop, t = current("async.as_completed")
  local n = list.n or #list
  local done, head, tail = {}, 1, 0
  local yielded, waiter, waiter_gen = 0, nil, nil
  local function push(x)
    tail = tail + 1
    done[tail] = x
    if waiter then C.wake_if(loop, waiter, waiter_gen, true, nil) end
  end
  for i = 1, n do
    local x, kind, id = as_awaitable(loop, list[i], i, "async.as_completed")
    if W.is_done(x, kind) then
      push(x)
    else
      if kind ~= "task" then id = select(2, W.kind(x)) end
      W.subscribe(loop, x, kind, id, push, x)
    end
  end
  local deadline = timeout and monotonic() + timeout
  local _ = t
  return function()
    if yielded >= n then return nil end
    while head > tail do
      local l, cur = current("as_completed iterator")
      waiter, waiter_gen = cur, cur[GEN]
      local left = deadline and math.max(0, deadline - monotonic())
      local v = suspend(l, cur, left)
      waiter = nil
      if v == TIMEOUT and head > tail then raise("Timeout", "as_completed: items unfinished at the deadline") end
    end
    local x = done[head]
    done[head] = nil
    head = head + 1
    yielded = yielded + 1
    return x
  end
end

-- ---------------------------------------------------------------- timeout
-- local scope <close> = async.timeout(s): when s seconds pass, the task is
-- cancelled at its await point; leaving the scope turns that Cancelled into
-- Timeout (catchable), so the task goes on after the scope.

local Scope = {__name = "tide.async.Timeout"}
Scope.__index = Scope

local function scope_fire(loop, scope)
  if scope.closed then return end
  scope.expired_ = true
  C.cancel(loop, scope.task, "timeout", scope)
end

function Scope:expired() return self.expired_ == true end
function Scope:when() return self.at end

function Scope:reschedule(s)
  check_timeout(s, 1, "reschedule")
  if self.closed then raise("InvalidState", "the timeout scope is closed") end
  if self.expired_ then raise("InvalidState", "the timeout has already expired") end
  if self.timer then C.kill_timer(self.loop, self.timer) end
  self.timer, self.at = nil, nil
  if s then
    self.at = monotonic() + s
    self.timer = C.add_timer(self.loop, self.at, nil, scope_fire, self)
  end
end

Scope.__close = function(self, err)
  if self.closed then return end
  self.closed = true
  if self.timer then C.kill_timer(self.loop, self.timer) end
  local t = self.task
  if self.expired_ and t.cancel_origin == self then
    -- the cancellation was this scope's: the task goes on, with Timeout
    t[STOP], t.cancel_origin = false, nil
    require("tide._async").set_stopping(false)
    if err ~= nil and tide.is_error(err, "Cancelled") then raise("Timeout", "async.timeout: the time was up") end
  end
end

Scope.__tostring = function(self)
  return "async.timeout (" .. (self.expired_ and "expired" or (self.closed and "closed" or "active")) .. ")"
end

function M.timeout(s)
  check_timeout(s, 1, "async.timeout")
  local loop, t = current("async.timeout")
  local scope = setmetatable({loop = loop, task = t}, Scope)
  if s then
    scope.at = monotonic() + s
    scope.timer = C.add_timer(loop, scope.at, nil, scope_fire, scope)
  end
  return scope
end

-- --------------------------------------------------------- other threads

-- Runs fn(...) on the default thread pool (in that worker's own Lua state:
-- fn is copied as for any tide worker) and awaits its results.
function M.to_thread(fn, ...)
  check_function(fn, 1, "async.to_thread")
  current("async.to_thread")
  return M.await(require("tide.pool").default():submit(fn, ...))
end

M.get, M.put, M.recv = W.get, W.put, W.recv
M.readable, M.writable = W.readable, W.writable
M.waitpid = W.waitpid

-- ------------------------------------------------------------- generators
-- async.iter(fn, ...): an async generator. fn(...) runs in a coroutine of
-- its own, produces values with coroutine.yield(v) and may await anything
-- (tide's coroutine.resume passes an await through to the task);
-- `for v in async.iter(fn) do` reads it, it:next() gives one value (nil at
-- the end), breaking out of the loop closes it (to-be-closed variables in
-- fn run).

local Iter = {__name = "tide.async.Iter"}
Iter.__index = Iter

local function iter_after(self, ok, ...)
  if not ok then
    self.finished = true
    error((...), 0)
  end
  if coroutine.status(self.co) == "dead" then
    self.finished = true
    return nil
  end
  return ...
end

function Iter:next()
  if self.finished then return nil end
  local args = self.args
  if args then
    self.args = nil
    return iter_after(self, coroutine.resume(self.co, unpack(args, 1, args.n)))
  end
  return iter_after(self, coroutine.resume(self.co))
end

function Iter:close()
  if not self.finished then
    self.finished = true
    local ok, err = coroutine.close(self.co)
    if not ok then error(err, 0) end
  end
end

Iter.__call = Iter.next
Iter.__close = Iter.close

function M.iter(fn, ...)
  check_function(fn, 1, "async.iter")
  local it = setmetatable({co = coroutine.create(fn), args = pack(...), finished = false}, Iter)
  return it, nil, nil, it
end

-- ------------------------------------------------------------- primitives

M.Queue, M.Event, M.Lock = S.Queue, S.Event, S.Lock
M.Semaphore, M.BoundedSemaphore, M.Condition = S.Semaphore, S.BoundedSemaphore, S.Condition

return M
