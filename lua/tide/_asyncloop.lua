-- The core of tide.async (API.md §12): tasks, the ready queue and the
-- suspend/wake protocol every awaitable is built on. Public names are in
-- async.lua. The other parts: _asyncwl.lua (wait lists, the timer heap),
-- _asyncwatch.lua (the one native wait of a loop turn), _asyncrun.lua
-- (running, stepping and closing a loop), _asyncsync.lua and
-- _asyncqueue.lua (the primitives), _asyncwait.lua (awaiting other
-- threads' and processes' objects), _asyncgather.lua (gather, wait_for,
-- as_completed, timeout scopes).
--
-- A task is a coroutine. Every await yields SUSPEND to the loop after
-- registering what will wake the task (a timer, a wait list, a native watch
-- on a future, queue or thread, a descriptor); the loop resumes it with
-- (ok, value): (true, v) when what it waited for happened, (true, TIMEOUT)
-- when its timer ran out first, (false, err) to raise err at the await
-- point (cancellation). A wake bumps the task's `gen`, so every other
-- registration of that suspension is stale and ignored; registrations that
-- hold something (a native watch, a timer) are released by the wake.
--
-- One loop turn: run every task that is ready (those made ready meanwhile
-- run next turn), then wait once for what can make tasks ready: the earliest
-- timer, a native source firing, a descriptor (tide._async's Waiter, the one
-- wait path: cancellation and Ctrl-C end it too). A turn with tasks still
-- ready and nothing native to collect makes no system call.
--
-- Cancellation: cancel(t) marks the task stopping and wakes it with
-- Cancelled at its await point (or, when it runs, at its next await). While
-- a stopping task runs, tide's pcall/xpcall/coroutine.resume re-raise what
-- they catch (runtime/async_task.hpp), and every further await raises
-- Cancelled at once. A timeout scope that cancelled the task turns the
-- Cancelled into Timeout when it closes, and the task goes on.
local tide = require "tide"
local native = require "tide._async"

local resume, yield = native.resume, coroutine.yield
local monotonic = tide.monotonic
local is_error = tide.is_error
local pack, unpack = table.pack, table.unpack
local SUSPEND = native.SUSPEND

local C = {}
C.SUSPEND = SUSPEND
C.TIMEOUT = setmetatable({}, {__name = "tide.async.TIMEOUT"})
local TIMEOUT = C.TIMEOUT

-- A task is a table whose hot fields (read and written at every switch)
-- live in its array part, at these slots; the others are named fields:
--   fn, args, loop, id, name   what to run, where, and what to call it
--   slot                       its index in loop.alive
--   outcome, results, err, tb  how it ended ("completed"/"failed"/"cancelled")
--   timer, release, release_arg, awaiting   what its current wait holds
--   waiters, sub_fn/sub_arg, subs, callbacks   who is told when it is done
--   cancel_origin, retrieved, logged
-- Other files repeat the slot numbers as <const> locals.
local CO <const>, STATE <const>, ROK <const>, RV <const> = 1, 2, 3, 4
local STOP <const>, GEN <const>, STARTED <const> = 5, 6, 7
C.CO, C.STATE, C.ROK, C.RV, C.STOP, C.GEN, C.STARTED = CO, STATE, ROK, RV, STOP, GEN, STARTED

-- Task states.
local READY, RUNNING, SUSPENDED, DONE = "ready", "running", "suspended", "done"
C.READY, C.RUNNING, C.SUSPENDED, C.DONE = READY, RUNNING, SUSPENDED, DONE

-- ---------------------------------------------------------------- errors

local function raise(kind, msg)
  error(tide.error(kind, msg), 0)
end
C.raise = raise

function C.arg_error(n, fname, msg)
  raise("ArgumentError", ("bad argument #%d to '%s' (%s)"):format(n, fname, msg))
end

function C.check_timeout(v, n, fname)
  if v == nil then return nil end
  if type(v) ~= "number" or v ~= v or v < 0 then
    C.arg_error(n, fname, "timeout must be a non-negative number or nil, got " .. tostring(v))
  end
  return v
end

local function cancelled_error(msg)
  return tide.error("Cancelled", msg or "the task was cancelled")
end
C.cancelled_error = cancelled_error

-- Text for any error value (tide errors have __tostring).
local function describe(e)
  local mt = getmetatable(e)
  if type(e) == "string" or type(e) == "number" or (mt and mt.__tostring) then return tostring(e) end
  return "(error object is a " .. type(e) .. " value)"
end
C.describe = describe


local WL = require "tide._asyncwl"
for k, v in pairs(WL) do C[k] = v end
local wl_init, wl_compact, wl_push, wl_take = WL.wl_init, WL.wl_compact, WL.wl_push, WL.wl_take
local add_timer, kill_timer = WL.add_timer, WL.kill_timer

-- ------------------------------------------------------------ task basics

local Task = {}
Task.__index = Task
C.Task = Task
-- A failed task gets this metatable (methods plus __gc), so only failed
-- tasks pay for a finalizer: one nobody retrieved is logged when collected.
local FailedTask = {}
C.FailedTask = FailedTask

local function push_ready(loop, t)
  local n = loop.nready + 1
  loop.ready[n] = t
  loop.nready = n
end
C.push_ready = push_ready

-- Ends the task's current suspension: it runs next turn with (ok, v).
local function wake(loop, t, ok, v)
  t[STATE] = READY
  t[GEN] = t[GEN] + 1
  t[ROK], t[RV] = ok, v
  push_ready(loop, t)
  local tm = t.timer
  if tm then
    t.timer = nil
    kill_timer(loop, tm)
  end
  local release = t.release
  if release then
    t.release = nil
    local arg = t.release_arg
    t.release_arg = nil
    release(loop, t, arg)
  end
end
C.wake = wake

-- Wakes t if its registration (made at `gen`) is still current.
function C.wake_if(loop, t, gen, ok, v)
  if t[STATE] == SUSPENDED and t[GEN] == gen then
    wake(loop, t, ok, v)
    return true
  end
  return false
end

local running = nil  -- the loop running in this state (one at a time)

function C.running() return running end
-- For _asyncrun.lua, which enters and leaves loops.
function C.set_running(loop) running = loop end

-- The running loop and task, or InvalidState naming the caller.
local function current(fname)
  local loop = running
  local t = loop and loop.current
  if not t then
    raise("InvalidState", fname .. " must be called from a task (inside async.run or a loop's step)")
  end
  return loop, t
end
C.current = current

-- Suspends the running task t until something wakes it; `timeout`
-- (seconds, or nil) adds a timer that wakes it with TIMEOUT. Returns the
-- (ok, value) it was woken with. Raises Cancelled at once if the task is
-- stopping (unless `anyway`: a Condition re-taking its lock).
local function suspend_raw(loop, t, timeout, anyway)
  if t[STOP] and not anyway then
    -- What was registered for this suspension must never wake the task.
    t[GEN] = t[GEN] + 1
    local release = t.release
    if release then
      t.release = nil
      local arg = t.release_arg
      t.release_arg = nil
      release(loop, t, arg)
    end
    t.awaiting = nil
    error(cancelled_error(), 0)
  end
  if timeout then t.timer = add_timer(loop, monotonic() + timeout, t) end
  t[STATE] = SUSPENDED
  return yield(SUSPEND)
end
C.suspend_raw = suspend_raw

-- The same, raising the error it was woken with; returns the value (TIMEOUT
-- on timeout).
function C.suspend(loop, t, timeout)
  local ok, v = suspend_raw(loop, t, timeout)
  if not ok then error(v, 0) end
  return v
end

-- async.sleep: here, next to `running`, because sleep(0) is the switch
-- every busy task makes.
function C.sleep(s)
  local loop = running
  local t = loop and loop.current
  if not t then current("async.sleep") end
  if s == nil or s == 0 then  -- one turn: let the other ready tasks run
    if t[STOP] then error(cancelled_error(), 0) end
    t[STATE] = READY
    t[ROK] = true
    local n = loop.nready + 1
    loop.ready[n] = t
    loop.nready = n
    local ok, v = yield(SUSPEND)
    if not ok then error(v, 0) end
    return
  end
  C.check_timeout(s, 1, "async.sleep")
  local ok, v = suspend_raw(loop, t, s)
  if not ok then error(v, 0) end
end

-- ---------------------------------------------------------------- the loop

local Loop = {}
Loop.__index = Loop
C.Loop = Loop

function C.new_loop()
  return setmetatable({
    ready = {}, nready = 0, spare = {},
    soon = {}, nsoon = 0,                  -- callbacks (fn, arg pairs) for the next turn
    timers = {}, ntimers = 0, timer_seq = 0, dead_timers = 0,
    waiter = nil,                          -- tide._async Waiter, made on first need
    watches = {}, nwatch = 0,              -- token -> native watch entry
    by_id = {}, by_id_room = {},           -- object id -> entry
    idle = {},                             -- entries that may have no waiter left
    fds = {}, nfds = 0, fd_dirty = false,  -- fd -> descriptor entry
    fdspec = {}, nfdspec = 0, fdorder = {}, fired = {}, revents = {},
    alive = {}, ntasks = 0,                -- tasks not done: alive[t.slot] == t
    failed = setmetatable({}, {__mode = "k"}),  -- failed tasks, maybe never retrieved
    task_count = 0,
    current = nil,
    closed = false,
  }, Loop)
end

local function soon(loop, fn, arg)
  local n = loop.nsoon + 2
  loop.soon[n - 1], loop.soon[n] = fn, arg
  loop.nsoon = n
end
C.soon = soon

-- ----------------------------------------------------------- task running

local function log_unretrieved(t)
  if t.outcome ~= "failed" or t.retrieved or t.logged then return end
  t.logged = true
  local log = require "tide.log"
  log.error("Task exception was never retrieved: task '%s': %s%s", t.name, describe(t.err),
            t.tb and ("\n" .. t.tb) or "")
end
C.log_unretrieved = log_unretrieved
FailedTask.__gc = log_unretrieved

-- The task is over: record how, wake whoever awaits it, schedule its done
-- callbacks.
local function finish(loop, t, outcome, results, err)
  t[STATE] = DONE
  t.outcome = outcome
  t.results = results
  t.err = err
  t[CO] = nil
  t.fn, t.args = nil, nil
  local alive, n, slot = loop.alive, loop.ntasks, t.slot  -- swap-remove
  local last = alive[n]
  alive[slot], last.slot = last, slot
  alive[n] = nil
  loop.ntasks = n - 1
  if outcome == "failed" then
    setmetatable(t, FailedTask)
    loop.failed[t] = true
    if is_error(err, "Interrupted") then  -- Ctrl-C: the loop reports it (run raises it), not the task
      loop.interrupted = loop.interrupted or err
      t.retrieved = true
    end
  end
  local waiters = t.waiters
  if waiters then
    local woken, k = wl_take(waiters)
    for i = 1, k do wake(loop, woken[i], true, nil) end
  end
  local f = t.sub_fn
  if f then
    t.sub_fn = false
    f(t.sub_arg)
  end
  local subs = t.subs
  if subs then
    t.subs = nil
    for i = 1, #subs, 2 do subs[i](subs[i + 1]) end
  end
  local cbs = t.callbacks
  if cbs then
    t.callbacks = nil
    for i = 1, #cbs do soon(loop, cbs[i], t) end
  end
end

local function fail(loop, t, err)
  if is_error(err, "Cancelled") then return finish(loop, t, "cancelled", nil, err) end
  return finish(loop, t, "failed", nil, err)
end

-- Records the traceback of an error leaving a task (xpcall's handler).
local function on_error(e)
  local loop = running
  local t = loop and loop.current
  if t and not is_error(e, "Cancelled") then t.tb = debug.traceback(describe(e), 2) end
  return e
end

local function task_main(fn, ...)
  return xpcall(fn, on_error, ...)
end

local BAD_YIELD = "a task yielded outside tide.async (coroutine.yield in a task; await with the async functions)"

-- After a resume: code 0, a = the first yielded value; 1, a = task_main's
-- results packed ({true, results...} or {false, err}); 2, a = an error the
-- stopping pcall raised on.
local function after_resume(loop, t, code, a)
  if code == 0 then
    -- A stray coroutine.yield: nothing can be raised at that point (Lua
    -- cannot throw into a coroutine), so the task fails there, its
    -- coroutine closed (its pending <close> variables run).
    if a ~= SUSPEND then
      local co = t[CO]
      fail(loop, t, tide.error("InvalidState", BAD_YIELD))
      coroutine.close(co)
    end
  elseif code == 1 then
    if a[1] then
      finish(loop, t, "completed", a)  -- results from a[2]
    else
      fail(loop, t, a[2])
    end
  else
    fail(loop, t, a)
  end
end

local function first_run(loop, t)
  t[STARTED] = true
  if t[STOP] then  -- cancelled before it ever ran
    return finish(loop, t, "cancelled", nil, t[RV] or cancelled_error())
  end
  local args = t.args
  t.args = false
  loop.current = t
  t[STATE] = RUNNING
  local code, a
  if args then
    code, a = resume(t[CO], false, t.fn, unpack(args, 1, args.n))
  else
    code, a = resume(t[CO], false, t.fn)
  end
  loop.current = nil
  return after_resume(loop, t, code, a)
end

local function run_soon(loop)
  local list, n = loop.soon, loop.nsoon
  loop.soon, loop.nsoon = {}, 0
  for i = 1, n, 2 do
    local ok, err = pcall(list[i], list[i + 1])
    if not ok then
      local log = require "tide.log"
      log.error("error in a tide.async callback: %s", describe(err))
    end
  end
end

-- Runs what is ready now; what becomes ready meanwhile runs next time.
-- Returns how many tasks it ran.
local function run_phase(loop)
  if loop.nsoon > 0 then run_soon(loop) end
  local n = loop.nready
  if n == 0 then return 0 end
  local ready = loop.ready
  loop.ready, loop.nready = loop.spare, 0
  for i = 1, n do
    local t = ready[i]
    ready[i] = nil
    if t[STATE] == READY then
      if t[STARTED] then  -- the hot path, inlined: resume with what woke it
        loop.current = t
        t[STATE] = RUNNING
        local v = t[RV]
        t[RV] = nil
        local code, a = resume(t[CO], t[STOP], t[ROK], v)
        loop.current = nil
        if code ~= 0 or a ~= SUSPEND then after_resume(loop, t, code, a) end
      else
        first_run(loop, t)
      end
    end
  end
  loop.spare = ready
  return n
end
C.run_phase = run_phase

-- ---------------------------------------------------------------- tasks

-- Every field a task will have is made here (false for "none"), so
-- setting them later never grows the table; the name is made when asked for.
local function new_task(loop, fn, args)
  local id = loop.task_count + 1
  loop.task_count = id
  local t = setmetatable({
    coroutine.create(task_main), READY, true, false, false, 0, false,  -- CO .. STARTED
    fn = fn, args = args or false, loop = loop, id = id,
    timer = false, release = false, release_arg = false, awaiting = false, sub_fn = false, sub_arg = false,
    slot = 0,
  }, Task)
  local n = loop.ntasks + 1
  loop.alive[n], t.slot = t, n
  loop.ntasks = n
  push_ready(loop, t)
  return t
end

function C.spawn(loop, fn, ...)
  if loop.closed then raise("InvalidState", "the event loop is closed") end
  local n = select("#", ...)
  return new_task(loop, fn, n > 0 and pack(...) or nil)
end

-- Cancels whatever t awaits that a cancellation should reach (a task, a
-- gather, a pending future): asyncio's rule that cancelling a task cancels
-- what it awaits.
local function cancel_awaited(aw)
  local ok, err = pcall(aw.cancel, aw)
  if not ok then
    local log = require "tide.log"
    log.warn("tide.async: cancelling an awaited object failed: %s", describe(err))
  end
end

-- Requests t's cancellation; `origin` names a timeout scope that did it.
local function cancel(loop, t, msg, origin)
  if t[STATE] == DONE then return false end
  -- The first cancellation names the origin: a timeout scope firing while
  -- the task already unwinds another cancellation must not claim it.
  if not t[STOP] then t.cancel_origin = origin end
  t[STOP] = true
  local err = cancelled_error(msg)
  local st = t[STATE]
  if st == SUSPENDED then
    local aw = t.awaiting
    t.awaiting = nil
    wake(loop, t, false, err)
    if aw then cancel_awaited(aw) end
  elseif st == READY then
    t[ROK], t[RV] = false, err
  end  -- RUNNING: its next await raises
  return true
end
C.cancel = cancel

function C.cancel_all(loop, msg)
  local alive = loop.alive
  for i = loop.ntasks, 1, -1 do
    local t = alive[i]
    if t then cancel(loop, t, msg) end
  end
end

-- Runs cancelled tasks until none is ready (they unwind in Lua: their
-- awaits raise at once). Used when a loop ends with tasks left.
function C.drain(loop)
  for _ = 1, 1000 do
    if loop.nready == 0 and loop.nsoon == 0 then return end
    run_phase(loop)
  end
end


return C
