-- tide.async's primitives (API.md §12): Event, Lock, Semaphore,
-- BoundedSemaphore, Condition (and Queue, in _asyncqueue.lua), with the
-- method names of tide.queue and tide.sync. They belong to the tasks of one Lua state (like asyncio's, they
-- are not for other threads: use tide.queue / tide.sync and async.get there):
-- inside a task a method that has to wait suspends the task and returns the
-- result directly; *_nowait methods, set, release, notify, close... never
-- wait and work from anywhere in the state (a host between loop steps).
--
-- Waking follows asyncio: a Queue or Event wakes waiters, which then look
-- again (an item taken meanwhile makes a getter wait again); a Lock or
-- Semaphore hands itself to the first waiter. A waiter cancelled after it
-- was woken passes the wake-up (or the lock) on, so nothing is lost.
-- Task slots (see _asyncloop.lua).
local STATE <const>, STOP <const>, GEN <const>, STARTED <const> = 2, 5, 6, 7

local tide = require "tide"
local C = require "tide._asyncloop"

local monotonic = tide.monotonic
local raise, arg_error, check_timeout = C.raise, C.arg_error, C.check_timeout
local wl_init, wl_push, wl_pop, wl_take = C.wl_init, C.wl_push, C.wl_pop, C.wl_take
local wake, suspend_raw, current = C.wake, C.suspend_raw, C.current
local TIMEOUT = C.TIMEOUT
local GRANTED = setmetatable({}, {__name = "tide.async.GRANTED"})

local S = {}

-- Shared with _asyncqueue.lua.
local function remaining(deadline)
  if not deadline then return nil end
  local left = deadline - monotonic()
  return left > 0 and left or 0
end

-- Registers the running task t on wait list wl and suspends it.
local function wait_on(loop, t, wl, timeout)
  if t[STOP] then error(C.cancelled_error(), 0) end
  wl_push(wl, t)
  return suspend_raw(loop, t, timeout)
end

local function wake_one(wl)
  local t = wl_pop(wl)
  if t then wake(t.loop, t, true, nil) end
  return t
end

local function wake_all(wl)
  local ts, k = wl_take(wl)
  for i = 1, k do wake(ts[i].loop, ts[i], true, nil) end
end

local function check_self(self, mt, fname)
  if getmetatable(self) ~= mt then arg_error(1, fname, mt.__name .. " expected (called with '.' instead of ':'?)") end
end
S.remaining, S.wait_on, S.wake_one, S.wake_all, S.check_self = remaining, wait_on, wake_one, wake_all, check_self

-- The classes with acquire/release (with() and guard() check self against
-- them); filled in below.
local lockable = {}

-- A to-be-closed value releasing `obj` (guard(), with()).
local Releaser = {__name = "tide.async.Releaser"}
Releaser.__close = function(r)
  if getmetatable(r) ~= Releaser then arg_error(1, "__close", "a guard expected") end
  r.obj:release()
end
local function releaser(obj)
  local r = obj._releaser
  if not r then
    r = setmetatable({obj = obj}, Releaser)
    obj._releaser = r
  end
  return r
end

local function with(self, fn, ...)
  if not lockable[getmetatable(self)] then arg_error(1, "with", "an async Lock, Semaphore or Condition expected") end
  if type(fn) ~= "function" then arg_error(2, "with", "function expected, got " .. type(fn)) end
  self:acquire()
  local r <close> = releaser(self)
  return fn(...)
end

local function guard(self)
  if not lockable[getmetatable(self)] then arg_error(1, "guard", "an async Lock, Semaphore or Condition expected") end
  self:acquire()
  return releaser(self)
end

-- ------------------------------------------------------------------ Event

local Event = {__name = "tide.async.Event"}
Event.__index = Event

function S.Event()
  return setmetatable({flag = false, waiters = wl_init({})}, Event)
end

function Event:is_set()
  check_self(self, Event, "is_set")
  return self.flag
end

function Event:set()
  check_self(self, Event, "set")
  if self.flag then return end
  self.flag = true
  wake_all(self.waiters)
end

function Event:clear()
  check_self(self, Event, "clear")
  self.flag = false
end

function Event:wait(timeout)
  check_self(self, Event, "wait")
  check_timeout(timeout, 1, "wait")
  if self.flag then return true end
  if timeout == 0 then return false end
  local loop, t = current("async.Event:wait")
  local ok, v = wait_on(loop, t, self.waiters, timeout)
  if not ok then error(v, 0) end
  return v ~= TIMEOUT
end

Event.__tostring = function(self)
  check_self(self, Event, "__tostring")
  return "async.Event (" .. (self.flag and "set" or "clear") .. ")" end

-- ------------------------------------------------------------------- Lock

local Lock = {__name = "tide.async.Lock"}
Lock.__index = Lock

function S.Lock()
  return setmetatable({held = false, handed = nil, waiters = wl_init({})}, Lock)
end

function Lock:locked()
  check_self(self, Lock, "locked")
  return self.held
end

function Lock:acquire(timeout)
  check_self(self, Lock, "acquire")
  check_timeout(timeout, 1, "acquire")
  if not self.held then
    self.held = true
    return true
  end
  if timeout == 0 then return false end
  local loop, t = current("async.Lock:acquire")
  local ok, v = wait_on(loop, t, self.waiters, timeout)
  if ok then
    if v == TIMEOUT then return false end
    self.handed = nil
    return true
  end
  if self.handed == t then  -- it was handed over, then the task was cancelled
    self.handed = nil
    self:release()
  end
  error(v, 0)
end

function Lock:release()
  check_self(self, Lock, "release")
  if not self.held then raise("InvalidState", "release of an unlocked lock") end
  local t = wl_pop(self.waiters)
  if t then
    self.handed = t  -- still held: by t now
    wake(t.loop, t, true, GRANTED)
  else
    self.held = false
  end
end

Lock.with, Lock.guard = with, guard
Lock.__tostring = function(self)
  check_self(self, Lock, "__tostring")
  return "async.Lock (" .. (self.held and "locked" or "unlocked") .. ")" end

-- -------------------------------------------------------------- Semaphore

local Semaphore = {__name = "tide.async.Semaphore"}
Semaphore.__index = Semaphore
local BoundedSemaphore = {__name = "tide.async.BoundedSemaphore"}  -- Semaphore's methods, copied below
BoundedSemaphore.__index = BoundedSemaphore

local function new_semaphore(mt, n, fname)
  if n == nil then n = 1 end
  if math.type(n) ~= "integer" or n < 0 then arg_error(1, fname, "the initial value must be a non-negative integer") end
  return setmetatable({value = n, initial = n, taken = 0, handed = {}, waiters = wl_init({})}, mt)
end

function S.Semaphore(n) return new_semaphore(Semaphore, n, "async.Semaphore") end
function S.BoundedSemaphore(n) return new_semaphore(BoundedSemaphore, n, "async.BoundedSemaphore") end

local function check_sem(self, fname)
  local mt = getmetatable(self)
  if mt ~= Semaphore and mt ~= BoundedSemaphore then arg_error(1, fname, "async.Semaphore expected") end
end

function Semaphore:locked()
  check_sem(self, "locked")
  return self.value == 0
end

function Semaphore:acquire(timeout)
  check_sem(self, "acquire")
  check_timeout(timeout, 1, "acquire")
  if self.value > 0 then
    self.value = self.value - 1
    self.taken = self.taken + 1
    return true
  end
  if timeout == 0 then return false end
  local loop, t = current("async.Semaphore:acquire")
  local ok, v = wait_on(loop, t, self.waiters, timeout)
  if ok then
    if v == TIMEOUT then return false end
    self.handed[t] = nil
    return true
  end
  if self.handed[t] then  -- a permit was handed over, then the task was cancelled
    self.handed[t] = nil
    self:release()
  end
  error(v, 0)
end

function Semaphore:release(n)
  check_sem(self, "release")
  if n == nil then n = 1 end
  if math.type(n) ~= "integer" or n < 1 then arg_error(1, "release", "n must be a positive integer") end
  if getmetatable(self) == BoundedSemaphore and n > self.taken then
    raise("InvalidState", "BoundedSemaphore released too many times")
  end
  self.taken = math.max(0, self.taken - n)
  for _ = 1, n do
    local t = wl_pop(self.waiters)
    if t then
      self.handed[t] = true
      self.taken = self.taken + 1
      wake(t.loop, t, true, GRANTED)
    else
      self.value = self.value + 1
    end
  end
end

Semaphore.with, Semaphore.guard = with, guard
Semaphore.__tostring = function(self)
  check_sem(self, "__tostring")
  return ("async.Semaphore (value %d)"):format(self.value) end
for k, v in pairs(Semaphore) do
  if k ~= "__name" and k ~= "__index" then BoundedSemaphore[k] = v end
end

-- -------------------------------------------------------------- Condition

local Condition = {__name = "tide.async.Condition"}
Condition.__index = Condition

function S.Condition(lock)
  if lock == nil then
    lock = S.Lock()
  elseif getmetatable(lock) ~= Lock then
    arg_error(1, "async.Condition", "an async.Lock or nil expected")
  end
  return setmetatable({lock = lock, waiters = wl_init({})}, Condition)
end

function Condition:acquire(timeout)
  check_self(self, Condition, "acquire")
  return self.lock:acquire(timeout)
end
function Condition:release()
  check_self(self, Condition, "release")
  return self.lock:release()
end
function Condition:locked()
  check_self(self, Condition, "locked")
  return self.lock.held
end
Condition.with, Condition.guard = with, guard

-- Takes the lock back after a wait, whatever happens (asyncio does the
-- same): a cancellation meanwhile is raised once the lock is held again.
local function reacquire(lock, loop, t)
  local err
  while true do
    if not lock.held then
      lock.held = true
      break
    end
    wl_push(lock.waiters, t)
    local ok, v = suspend_raw(loop, t, nil, true)
    if ok or lock.handed == t then
      lock.handed = nil
      break
    end
    err = v
  end
  return err
end

function Condition:wait(timeout)
  check_self(self, Condition, "wait")
  check_timeout(timeout, 1, "wait")
  if not self.lock.held then raise("InvalidState", "cannot wait on an un-acquired condition") end
  local loop, t = current("async.Condition:wait")
  if t[STOP] then error(C.cancelled_error(), 0) end
  self.lock:release()
  wl_push(self.waiters, t)
  local ok, v = suspend_raw(loop, t, timeout)
  local err = reacquire(self.lock, loop, t)
  if not ok then error(v, 0) end
  if err then error(err, 0) end
  return v ~= TIMEOUT
end

function Condition:wait_for(pred, timeout)
  check_self(self, Condition, "wait_for")
  if type(pred) ~= "function" then arg_error(1, "wait_for", "function expected, got " .. type(pred)) end
  check_timeout(timeout, 2, "wait_for")
  local deadline = timeout and monotonic() + timeout
  local result = pred()
  while not result do
    local left = remaining(deadline)
    if left == 0 then break end
    self:wait(left)
    result = pred()
  end
  return result
end

function Condition:notify(n)
  check_self(self, Condition, "notify")
  if n == nil then n = 1 end
  if math.type(n) ~= "integer" or n < 0 then arg_error(1, "notify", "n must be a non-negative integer") end
  if not self.lock.held then raise("InvalidState", "cannot notify on an un-acquired condition") end
  for _ = 1, n do
    if not wake_one(self.waiters) then break end
  end
end

function Condition:notify_all()
  check_self(self, Condition, "notify_all")
  if not self.lock.held then raise("InvalidState", "cannot notify on an un-acquired condition") end
  wake_all(self.waiters)
end

Condition.__tostring = function(self)
  check_self(self, Condition, "__tostring")
  return "async.Condition (" .. (self.lock.held and "locked" or "unlocked") .. ")"
end

lockable[Lock], lockable[Semaphore], lockable[BoundedSemaphore], lockable[Condition] = true, true, true, true

return S
