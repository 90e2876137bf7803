-- The core of tide.async (API.md §12): the event loop, tasks, timers and the
-- suspend/wake protocol every awaitable is built on. Public names are in
-- async.lua; the primitives (_asyncsync.lua) and the awaitables of other
-- threads and processes (_asyncwait.lua) use what this returns.
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

-- ------------------------------------------------------------- wait lists
-- A FIFO of (task, gen) registrations, stored in the array part of any
-- table with fields h (first pair) and n (last pair): tasks at odd slots,
-- gens at even ones. Stale entries (the task was woken by something else)
-- are skipped when popping and dropped by an amortised compaction, so a
-- list nobody pops (an Event never set, waited on with timeouts) stays small.

local function wl_init(l)
  l.h, l.n, l.lim = 1, 0, 16
  return l
end
C.wl_init = wl_init

local function live(t, g)
  return t[STATE] == SUSPENDED and t[GEN] == g
end

local function wl_compact(l)
  local h, n, j = l.h, l.n, 0
  for i = h, n do
    local t, g = l[2 * i - 1], l[2 * i]
    l[2 * i - 1], l[2 * i] = nil, nil
    if live(t, g) then
      j = j + 1
      l[2 * j - 1], l[2 * j] = t, g
    end
  end
  l.h, l.n = 1, j
  l.lim = j * 2 > 16 and j * 2 or 16
  return j
end
C.wl_compact = wl_compact

local function wl_push(l, t)
  local n = l.n + 1
  if n - l.h + 1 > l.lim then
    wl_compact(l)
    n = l.n + 1
  end
  l[2 * n - 1], l[2 * n] = t, t[GEN]
  l.n = n
end
C.wl_push = wl_push

-- The first live registration (removed), or nil.
local function wl_pop(l)
  local h, n = l.h, l.n
  while h <= n do
    local t, g = l[2 * h - 1], l[2 * h]
    l[2 * h - 1], l[2 * h] = nil, nil
    h = h + 1
    if live(t, g) then
      l.h = h
      return t
    end
  end
  l.h, l.n = 1, 0
  return nil
end
C.wl_pop = wl_pop

-- Removes every registration; returns the live tasks as an array (or nil).
local function wl_take(l)
  local out, k = nil, 0
  for i = l.h, l.n do
    local t, g = l[2 * i - 1], l[2 * i]
    l[2 * i - 1], l[2 * i] = nil, nil
    if live(t, g) then
      k = k + 1
      out = out or {}
      out[k] = t
    end
  end
  l.h, l.n = 1, 0
  return out, k
end
C.wl_take = wl_take

-- ------------------------------------------------------------------ timers
-- A binary heap of entries {at, seq, task, gen} (wake the task with
-- TIMEOUT) or {at, seq, fn, arg} (call fn(loop, arg)). Entries whose task
-- was woken otherwise are marked dead and skipped; the heap is rebuilt when
-- the dead outnumber the living.

local function before(a, b)
  return a.at < b.at or (a.at == b.at and a.seq < b.seq)
end

local function heap_up(h, i)
  local e = h[i]
  while i > 1 do
    local p = i // 2
    if not before(e, h[p]) then break end
    h[i] = h[p]
    i = p
  end
  h[i] = e
end

local function heap_down(h, i, n)
  local e = h[i]
  while true do
    local c = 2 * i
    if c > n then break end
    if c < n and before(h[c + 1], h[c]) then c = c + 1 end
    if not before(h[c], e) then break end
    h[i] = h[c]
    i = c
  end
  h[i] = e
end

local function heap_pop(loop)
  local h, n = loop.timers, loop.ntimers
  local top = h[1]
  h[1] = h[n]
  h[n] = nil
  n = n - 1
  loop.ntimers = n
  if n > 1 then heap_down(h, 1, n) end
  return top
end

local function add_timer(loop, at, task, fn, arg)
  local seq = loop.timer_seq + 1
  loop.timer_seq = seq
  local e = {at = at, seq = seq, task = task, gen = task and task[GEN], fn = fn, arg = arg}
  local n = loop.ntimers + 1
  loop.ntimers = n
  loop.timers[n] = e
  heap_up(loop.timers, n)
  return e
end
C.add_timer = add_timer

local function kill_timer(loop, e)
  if not e.dead and not e.fired then
    e.dead = true
    local dead = loop.dead_timers + 1
    loop.dead_timers = dead
    if dead > 64 and dead * 2 > loop.ntimers then  -- rebuild without the dead
      local h, k = loop.timers, 0
      for i = 1, loop.ntimers do
        local x = h[i]
        h[i] = nil
        if not x.dead then
          k = k + 1
          h[k] = x
        end
      end
      loop.ntimers, loop.dead_timers = k, 0
      for i = k // 2, 1, -1 do heap_down(h, i, k) end
    end
  end
end
C.kill_timer = kill_timer

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

local function get_waiter(loop)
  local w = loop.waiter
  if not w then
    w = native.Waiter()
    loop.waiter = w
  end
  return w
end

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
    if is_error(err, "Interrupted") then loop.interrupted = loop.interrupted or err end
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

-- ------------------------------------------------------- native watches
-- One entry per watched object (and per queue side) and loop, shared by
-- every task awaiting it: {token, obj, id, room, once, subs} plus a wait list.
-- A future or thread entry fires once and goes; a queue entry stays while
-- tasks await the queue and is dropped when it was left without waiters at
-- the end of a turn (so a consumer that keeps awaiting does not re-register
-- for every item).

local function drop_entry(loop, e)
  if e.dropped then return end
  e.dropped = true
  loop.waiter:unwatch(e.token)
  loop.watches[e.token] = nil
  local map = e.room and loop.by_id_room or loop.by_id
  if map[e.id] == e then map[e.id] = nil end
  loop.nwatch = loop.nwatch - 1
end

function C.entry_for(loop, obj, id, room, once)
  local map = room and loop.by_id_room or loop.by_id
  local e = map[id]
  if e then return e end
  local token = get_waiter(loop):watch(obj, room)
  e = wl_init({token = token, obj = obj, id = id, room = room, once = once})
  loop.watches[token] = e
  map[id] = e
  loop.nwatch = loop.nwatch + 1
  return e
end

-- A task's release hook for a native entry (its wait ended otherwise).
function C.release_entry(loop, _, e)
  if e.dropped then return end
  if wl_compact(e) == 0 and not e.subs then
    if e.once then  -- nobody awaits this future or thread any more
      drop_entry(loop, e)
    else            -- a queue: kept to the end of the turn (see above)
      loop.idle[e] = true
    end
  end
end

local function fire_entry(loop, e)
  if e.once then drop_entry(loop, e) end
  local woken, k = wl_take(e)
  for i = 1, k do wake(loop, woken[i], true, nil) end
  local subs = e.subs
  if subs and e.once then
    e.subs = nil
    for i = 1, #subs, 2 do subs[i](subs[i + 1]) end
  end
  if not e.once and not e.subs then loop.idle[e] = true end
end

local function sweep_idle(loop)
  for e in pairs(loop.idle) do
    loop.idle[e] = nil
    if not e.dropped and not e.subs and wl_compact(e) == 0 then drop_entry(loop, e) end
  end
end

-- ---------------------------------------------------------- descriptors
-- fd -> {fd, readers, writers} (wait lists of tasks and gens); the poll
-- list is rebuilt when the set of awaited descriptors changed.

local POLLIN, POLLOUT = native.POLLIN, native.POLLOUT
C.POLLIN, C.POLLOUT = POLLIN, POLLOUT

function C.fd_entry(loop, fd)
  local e = loop.fds[fd]
  if not e then
    e = {fd = fd, r = wl_init({}), w = wl_init({})}
    loop.fds[fd] = e
    loop.nfds = loop.nfds + 1
  end
  loop.fd_dirty = true
  return e
end

function C.release_fd(loop, _, e)
  loop.fd_dirty = true
  if wl_compact(e.r) == 0 and wl_compact(e.w) == 0 and loop.fds[e.fd] == e then
    loop.fds[e.fd] = nil
    loop.nfds = loop.nfds - 1
  end
end

local function rebuild_fds(loop)
  local spec, order, k = loop.fdspec, loop.fdorder, 0
  for i = 1, 2 * loop.nfdspec do spec[i] = nil end
  for i = 1, loop.nfdspec do order[i] = nil end
  for fd, e in pairs(loop.fds) do
    local ev = 0
    if wl_compact(e.r) > 0 then ev = ev | POLLIN end
    if wl_compact(e.w) > 0 then ev = ev | POLLOUT end
    if ev == 0 then
      loop.fds[fd] = nil
      loop.nfds = loop.nfds - 1
    else
      k = k + 1
      spec[2 * k - 1], spec[2 * k] = fd, ev
      order[k] = e
    end
  end
  loop.nfdspec = k
  loop.fd_dirty = false
end

local READ_DONE = POLLIN | 0x8 | 0x10 | 0x20   -- POLLERR, POLLHUP, POLLNVAL
local WRITE_DONE = POLLOUT | 0x8 | 0x10 | 0x20

local function fire_fd(loop, e, revents)
  if revents & READ_DONE ~= 0 then
    local woken, k = wl_take(e.r)
    for i = 1, k do wake(loop, woken[i], true, revents) end
  end
  if revents & WRITE_DONE ~= 0 then
    local woken, k = wl_take(e.w)
    for i = 1, k do wake(loop, woken[i], true, revents) end
  end
  loop.fd_dirty = true
end

-- ------------------------------------------------------------ waiting

-- What wait_phase returns when the OS thread running the loop was cancelled
-- (the native wait reports it instead of raising, so the loop can still
-- unwind its tasks: see tide._async's hold_cancel).
local THREAD_CANCELLED = {}

-- Waits (at most `timeout` seconds; nil = until something happens) for
-- native sources and descriptors, and handles what fired.
local function collect(loop, timeout)
  local w = get_waiter(loop)
  if next(loop.idle) then sweep_idle(loop) end
  if loop.fd_dirty then rebuild_fds(loop) end
  local fired, revents = loop.fired, loop.revents
  local n, nready = w:wait(timeout, loop.fdspec, loop.nfdspec, fired, revents)
  if n < 0 then return THREAD_CANCELLED end
  local watches = loop.watches
  for i = 1, n do
    local e = watches[fired[i]]
    fired[i] = nil
    if e then fire_entry(loop, e) end
  end
  if nready > 0 then
    local order = loop.fdorder
    for i = 1, loop.nfdspec do
      local r = revents[i]
      if r ~= 0 then fire_fd(loop, order[i], r) end
    end
  end
end

local function fire_timers(loop)
  local h = loop.timers
  if loop.ntimers == 0 then return end
  local now = monotonic()
  while loop.ntimers > 0 and h[1].at <= now do
    local e = heap_pop(loop)
    if e.dead then
      loop.dead_timers = loop.dead_timers - 1
    else
      e.fired = true
      if e.fn then
        e.fn(loop, e.arg)
      else
        local t = e.task
        if t[STATE] == SUSPENDED and t[GEN] == e.gen then
          t.timer = nil
          wake(loop, t, true, TIMEOUT)
        end
      end
    end
  end
end

-- Waits at most `max_wait` seconds (nil: as long as needed) for something
-- to make tasks ready, then makes them ready. `blocking` false never
-- raises the deadlock error (a stepped loop just returns).
local function wait_phase(loop, max_wait)
  local timeout
  if loop.nready > 0 or loop.nsoon > 0 then
    timeout = 0
  elseif loop.ntimers > 0 then
    timeout = loop.timers[1].at - monotonic()
    if timeout < 0 then timeout = 0 end
  end
  if max_wait and (timeout == nil or timeout > max_wait) then timeout = max_wait end
  local cancelled
  if loop.nwatch > 0 or loop.nfds > 0 or next(loop.idle) then
    cancelled = collect(loop, timeout)
  elseif timeout == nil then
    -- Nothing can ever wake a task: every task awaits another task or a
    -- loop-local object, and no timer, native source or descriptor is left.
    raise("InvalidState", "deadlock: every task is waiting and nothing can wake one (no timer, future, queue, "
      .. "thread or descriptor is awaited)")
  elseif timeout > 0 then
    cancelled = collect(loop, timeout)  -- sleep until the timer, still cancellable and interruptible
  elseif native.hold_cancel() then  -- tasks only switching: still notice a cancelled thread
    cancelled = THREAD_CANCELLED
  end
  if cancelled then return cancelled end
  native.run_callbacks()
  fire_timers(loop)
end
C.wait_phase = wait_phase

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
  t[STOP] = true
  t.cancel_origin = origin
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
local function drain(loop)
  for _ = 1, 1000 do
    if loop.nready == 0 and loop.nsoon == 0 then return end
    run_phase(loop)
  end
end

-- ------------------------------------------------------- running the loop

local function enter(loop, what)
  if loop.closed then raise("InvalidState", "the event loop is closed") end
  if running == loop then
    raise("InvalidState", what .. ": this loop is already running (called from one of its tasks)")
  elseif running then
    raise("InvalidState", what .. ": a loop is already running in this Lua state (nested async.run)")
  end
  running = loop
end

-- Leaves `running` right whichever way a run ends (a to-be-closed value:
-- even a cancellation of the OS thread, which no pcall stops, passes it).
local RESET = setmetatable({}, {__close = function() running = nil end})
local Leave = {__close = function(l)
  local loop = l.loop
  if running ~= loop then return end
  local reset <close> = RESET  -- even if unwinding raises (a cancelled thread's pcall)
  native.hold_cancel()  -- a cancelled thread's hook would cut the unwinding short
  if l.unwind then  -- an error left the loop mid-run: let every task unwind
    pcall(C.cancel_all, loop)
    pcall(drain, loop)
  end
end}

function C.run_main(loop, main)
  enter(loop, "async.run")
  local leave <close> = setmetatable({loop = loop, unwind = true}, Leave)
  local interrupted
  while main[STATE] ~= DONE do
    local ok, err = pcall(function()
      run_phase(loop)
      if main[STATE] ~= DONE then return wait_phase(loop, nil) end
    end)
    if ok and err == THREAD_CANCELLED then
      -- The OS thread was cancelled: every task unwinds, then the run
      -- raises Cancelled (no more waiting: every wait would raise now).
      C.cancel_all(loop, "the thread was cancelled")
      drain(loop)
      error(tide.error("Cancelled", "the thread was cancelled"), 0)
    end
    local stop = loop.interrupted
    if not ok then
      if interrupted or not (is_error(err, "Interrupted") or is_error(err, "Cancelled")) then error(err, 0) end
      stop = err
    end
    if stop and not interrupted then
      -- Ctrl-C (or this thread's cancellation): cancel everything and let
      -- it unwind, then report it.
      interrupted = stop
      loop.interrupted = nil
      C.cancel_all(loop, "interrupted")
    end
  end
  -- asyncio.run: what the main task left running is cancelled.
  C.cancel_all(loop)
  drain(loop)
  leave.unwind = false
  running = nil
  if interrupted then error(interrupted, 0) end
  return main
end

function C.step(loop, max_wait)
  enter(loop, "loop:step")
  local leave <close> = setmetatable({loop = loop}, Leave)
  local ok, err = pcall(function()
    if wait_phase(loop, max_wait or 0) == THREAD_CANCELLED then
      error(tide.error("Cancelled", "the thread was cancelled"), 0)
    end
    return run_phase(loop)
  end)
  running = nil
  if not ok then error(err, 0) end
  local stop = loop.interrupted
  if stop then
    loop.interrupted = nil
    error(stop, 0)
  end
  return loop.ntasks > 0, err
end

function C.close(loop)
  if loop.closed then return end
  if running == loop then raise("InvalidState", "a running loop cannot be closed from one of its tasks") end
  if running then raise("InvalidState", "a loop cannot be closed while another loop runs in this Lua state") end
  if loop.ntasks > 0 then
    running = loop
    local leave <close> = setmetatable({loop = loop}, Leave)
    C.cancel_all(loop)
    pcall(drain, loop)
    running = nil
  end
  for t in pairs(loop.failed) do log_unretrieved(t) end
  loop.closed = true
  if loop.waiter then loop.waiter:close() end
  loop.watches, loop.by_id, loop.by_id_room, loop.idle = {}, {}, {}, {}
  loop.nwatch = 0
end

C.Leave = Leave

-- This state's default loop (async.loop()), made on first use.
local default_loop
function C.default_loop()
  if not default_loop or default_loop.closed then default_loop = C.new_loop() end
  return default_loop
end

-- tide::Host::pump's turn of the default loop (runtime::pump_async_loop):
-- runs what is ready, never waits. Returns how many tasks ran (0 without a
-- default loop, or when a loop runs in this state: pump called from a task).
function C.pump()
  local loop = default_loop
  if not loop or loop.closed or running then return 0 end
  local _, ran = C.step(loop, 0)
  return ran or 0
end

return C
