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
local R = require "tide._asyncrun"
local W = require "tide._asyncwait"
local S = require "tide._asyncsync"
local G = require "tide._asyncgather"
local Q = require "tide._asyncqueue"

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

-- A method called with '.' or on something else: ArgumentError.
local function check_task(self, fname)
  local mt = getmetatable(self)
  if mt ~= Task and mt ~= FailedTask then arg_error(1, fname, "tide.async.Task expected, got " .. type(self)) end
end

function Task:done()
  check_task(self, "done")
  return self[STATE] == DONE
end

function Task:cancelled()
  check_task(self, "cancelled")
  return self.outcome == "cancelled"
end

function Task:cancel(msg)
  check_task(self, "cancel")
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
  check_task(self, "result")
  check_timeout(timeout, 1, "result")
  if self[STATE] ~= DONE then wait_task(self, timeout, "result") end
  return W.task_results(self)
end

function Task:exception(timeout)
  check_task(self, "exception")
  check_timeout(timeout, 1, "exception")
  if self[STATE] ~= DONE then wait_task(self, timeout, "exception") end
  self.retrieved = true
  if self.outcome == "cancelled" then error(self.err or C.cancelled_error(), 0) end
  return self.err
end

-- fn(task) runs at the loop's next turn after the task is done.
function Task:add_done_callback(fn)
  check_task(self, "add_done_callback")
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
  check_task(self, "remove_done_callback")
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

function Task:get_name()
  check_task(self, "get_name")
  return self.name
end

function Task:set_name(name)
  check_task(self, "set_name")
  if type(name) ~= "string" and type(name) ~= "number" then arg_error(2, "set_name", "string expected, got " .. type(name)) end
  rawset(self, "name", tostring(name))
end

function Task:status()
  check_task(self, "status")
  if self[STATE] ~= DONE then return self[STARTED] and "running" or "pending" end
  return self.outcome
end

Task.__tostring = function(self)
  check_task(self, "__tostring")
  return ("Task '%s' (%s)"):format(self.name, self:status())
end
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
  if type(t) ~= "table" then arg_error(1, "__index", "tide.async.Task expected, got " .. type(t)) end
  return "Task-" .. raw_get(t, "id")
end
for k, v in pairs(Task) do FailedTask[k] = v end

-- --------------------------------------------------------------- the loop

local Loop = C.Loop
Loop.__name = "tide.async.Loop"

local function check_loop(self, fname)
  if getmetatable(self) ~= Loop then arg_error(1, fname, "tide.async.Loop expected, got " .. type(self)) end
end

-- A loop to run or to step from outside (a host's frame loop).
function M.new_loop() return C.new_loop() end

function Loop:spawn(fn, ...)
  check_loop(self, "spawn")
  check_function(fn, 1, "spawn")
  return C.spawn(self, fn, ...)
end

-- Runs fn(...) as the main task until it is done; returns its results.
function Loop:run(fn, ...)
  check_loop(self, "run")
  check_function(fn, 1, "run")
  if C.running() then raise("InvalidState", "async.run: a loop is already running in this Lua state (nested async.run)") end
  local main = C.spawn(self, fn, ...)
  R.run_main(self, main)
  return W.task_results(main)
end

-- One turn without blocking: waits at most max_seconds (default 0) for
-- something when no task is ready, then runs the ready tasks. True while
-- the loop has tasks not done (and how many tasks this step ran).
function Loop:step(max_seconds)
  check_loop(self, "step")
  check_timeout(max_seconds, 1, "step")
  return R.step(self, max_seconds)
end

function Loop:close()
  check_loop(self, "close")
  return R.close(self)
end
Loop.__close = Loop.close

function Loop:tasks()
  check_loop(self, "tasks")
  local out = {}
  for i = 1, self.ntasks do out[i] = self.alive[i] end
  return out
end

function Loop:is_running()
  check_loop(self, "is_running")
  return C.running() == self
end

function Loop:is_closed()
  check_loop(self, "is_closed")
  return self.closed
end

function Loop:time()
  check_loop(self, "time")
  return monotonic()
end

Loop.__tostring = function(self)
  check_loop(self, "__tostring")
  return ("async.Loop (%d task%s, %s)"):format(self.ntasks, self.ntasks == 1 and "" or "s",
    self.closed and "closed" or (C.running() == self and "running" or "idle"))
end

-- This Lua state's own loop, made on first use: the one an embedding host
-- steps in Host::pump() (host/tide.hpp), for tasks spawned from outside any
-- running loop with async.loop():spawn(fn).
M.loop = R.default_loop

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

function M.await(x)
  local kind, id = W.kind(x)
  if not kind then
    if type(x) == "table" then return G.gather_list(x, nil, "async.await") end
    arg_error(1, "async.await", "a Task, Future, Thread, Process or a list of them expected, got " .. type(x))
  end
  local loop, t = current("async.await")
  W.wait_done(loop, t, x, kind, id, nil)
  return W.results(x, kind)
end

-- An awaitable from a gather / as_completed item: functions become tasks.
-- --------------------------------------------------------- other threads

-- Runs fn(...) on the default thread pool (in that worker's own Lua state:
-- fn is copied as for any tide worker) and awaits its results.
function M.to_thread(fn, ...)
  check_function(fn, 1, "async.to_thread")
  current("async.to_thread")
  return M.await(require("tide.pool").default():submit(fn, ...))
end

M.gather, M.wait_for, M.as_completed, M.timeout = G.gather, G.wait_for, G.as_completed, G.timeout

M.get, M.put, M.recv = W.get, W.put, W.recv
M.readable, M.writable = W.readable, W.writable
M.waitpid = W.waitpid

-- async.subprocess.run / check_output / Popen: tide.subprocess awaited.
M.subprocess = require "tide.async.subprocess"

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

local function check_iter(self, fname)
  if getmetatable(self) ~= Iter then arg_error(1, fname, "tide.async.Iter expected, got " .. type(self)) end
end

function Iter:next()
  check_iter(self, "next")
  if self.finished then return nil end
  local args = self.args
  if args then
    self.args = nil
    return iter_after(self, coroutine.resume(self.co, unpack(args, 1, args.n)))
  end
  return iter_after(self, coroutine.resume(self.co))
end

function Iter:close()
  check_iter(self, "close")
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

M.Queue, M.Event, M.Lock = Q.Queue, S.Event, S.Lock
M.Semaphore, M.BoundedSemaphore, M.Condition = S.Semaphore, S.BoundedSemaphore, S.Condition

return M
