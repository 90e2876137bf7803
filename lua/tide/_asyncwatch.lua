-- tide.async's one wait (see _asyncloop.lua): what a loop turn collects
-- from the native Waiter (tide._async, host/async/waiter.hpp): futures,
-- queues and threads it watches for its tasks, descriptors they await, the
-- earliest timer, and a cancellation of the OS thread.
local tide = require "tide"
local native = require "tide._async"
local C = require "tide._asyncloop"

local monotonic = tide.monotonic
local raise, wake = C.raise, C.wake
local wl_init, wl_compact, wl_take = C.wl_init, C.wl_compact, C.wl_take
local TIMEOUT = C.TIMEOUT
local STATE <const>, GEN <const> = 2, 6
local SUSPENDED = C.SUSPENDED

local X = {}

local function get_waiter(loop)
  local w = loop.waiter
  if not w then
    w = native.Waiter()
    loop.waiter = w
  end
  return w
end

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

function X.entry_for(loop, obj, id, room, once)
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
function X.release_entry(loop, _, e)
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
X.POLLIN, X.POLLOUT = POLLIN, POLLOUT

function X.fd_entry(loop, fd)
  local e = loop.fds[fd]
  if not e then
    e = {fd = fd, r = wl_init({}), w = wl_init({})}
    loop.fds[fd] = e
    loop.nfds = loop.nfds + 1
  end
  loop.fd_dirty = true
  return e
end

function X.release_fd(loop, _, e)
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
X.THREAD_CANCELLED = THREAD_CANCELLED

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
    local e = C.heap_pop(loop)
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
X.wait_phase = wait_phase


return X
