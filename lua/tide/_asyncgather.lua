-- tide.async: waiting for several things (API.md §12): gather, wait_for,
-- as_completed, and timeout scopes. See _asyncloop.lua for the protocol.
local tide = require "tide"
local C = require "tide._asyncloop"
local W = require "tide._asyncwait"

-- Task slots (see _asyncloop.lua).
local STOP <const>, GEN <const> = 5, 6

local monotonic = tide.monotonic
local raise, arg_error, check_timeout = C.raise, C.arg_error, C.check_timeout
local current, suspend, suspend_raw = C.current, C.suspend, C.suspend_raw
local TIMEOUT = C.TIMEOUT
local pack = table.pack

local G = {}

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

function G.gather_list(list, opts, fname)
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
function G.gather(...)
  local first = ...
  if type(first) == "table" and not W.kind(first) then return G.gather_list(first, (select(2, ...)), "async.gather") end
  return G.gather_list(pack(...), nil, "async.gather")
end

-- wait_for(x, timeout): x's results, or Timeout (x, a task or a function,
-- is cancelled and has finished unwinding by then; a pending future is
-- cancelled).
function G.wait_for(x, timeout)
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
function G.as_completed(list, timeout)
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
    require("tide._async").clear_stopping()
    if err ~= nil and tide.is_error(err, "Cancelled") then raise("Timeout", "async.timeout: the time was up") end
  end
end

Scope.__tostring = function(self)
  return "async.timeout (" .. (self.expired_ and "expired" or (self.closed and "closed" or "active")) .. ")"
end

function G.timeout(s)
  check_timeout(s, 1, "async.timeout")
  local loop, t = current("async.timeout")
  local scope = setmetatable({loop = loop, task = t}, Scope)
  if s then
    scope.at = monotonic() + s
    scope.timer = C.add_timer(loop, scope.at, nil, scope_fire, scope)
  end
  return scope
end


return G
