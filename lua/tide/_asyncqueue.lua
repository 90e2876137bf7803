-- tide.async's Queue (API.md §12): a FIFO between the tasks of one Lua
-- state, with tide.queue's method names (see _asyncsync.lua for how waking
-- works). put and get keep their common case inline: a producer and a
-- consumer task exchange millions of items through them.
local tide = require "tide"
local C = require "tide._asyncloop"
local S = require "tide._asyncsync"

local monotonic = tide.monotonic
local raise, arg_error, check_timeout = C.raise, C.arg_error, C.check_timeout
local wl_init = C.wl_init
local current = C.current
local TIMEOUT = C.TIMEOUT
local remaining, wait_on, wake_one, wake_all, check_self = S.remaining, S.wait_on, S.wake_one, S.wake_all, S.check_self

local Q = {}

local Queue = {__name = "tide.async.Queue"}
Queue.__index = Queue

function Q.Queue(maxsize)
  if maxsize == nil then maxsize = 0 end
  if math.type(maxsize) ~= "integer" or maxsize < 0 then
    arg_error(1, "async.Queue", "maxsize must be a non-negative integer or nil")
  end
  return setmetatable({
    items = {}, head = 1, tail = 0, maxsize = maxsize, unfinished = 0, closed = false,
    getters = wl_init({}), putters = wl_init({}), joiners = wl_init({}),
  }, Queue)
end

function Queue:qsize()
  check_self(self, Queue, "qsize")
  return self.tail - self.head + 1
end
function Queue:empty()
  check_self(self, Queue, "empty")
  return self.tail < self.head
end
local function is_full(self) return self.maxsize > 0 and self.tail - self.head + 1 >= self.maxsize end
function Queue:full()
  check_self(self, Queue, "full")
  return is_full(self)
end
function Queue:is_closed()
  check_self(self, Queue, "is_closed")
  return self.closed
end

local function append(self, item)
  local tail = self.tail + 1
  self.items[tail] = item
  self.tail = tail
  self.unfinished = self.unfinished + 1
  if self.getters.n >= self.getters.h then wake_one(self.getters) end
end

local function take(self)
  local head = self.head
  local item = self.items[head]
  self.items[head] = nil
  if head == self.tail then
    self.head, self.tail = 1, 0
  else
    self.head = head + 1
  end
  if self.putters.n >= self.putters.h then wake_one(self.putters) end
  return item
end

function Queue:put_nowait(item)
  check_self(self, Queue, "put_nowait")
  if item == nil then arg_error(1, "put_nowait", "nil is not a queue item") end
  if self.closed then raise("Closed", "put to a closed queue") end
  if is_full(self) then raise("Full", "the queue is full") end
  append(self, item)
end

-- put and get keep their common case (room / an item there) inline: a
-- producer and a consumer task exchange millions of items through them.
local function put_wait(self, timeout)
  if timeout == 0 then raise("Full", "the queue is full") end
  local loop, t = current("async.Queue:put")
  local deadline = timeout and monotonic() + timeout
  repeat
    local ok, v = wait_on(loop, t, self.putters, remaining(deadline))
    if not ok then
      if not is_full(self) then wake_one(self.putters) end  -- pass the room on
      error(v, 0)
    end
    if self.closed then raise("Closed", "put to a closed queue") end
    if v == TIMEOUT and is_full(self) then raise("Full", "the queue is full") end
  until not is_full(self)
end

function Queue:put(item, timeout)
  if getmetatable(self) ~= Queue then check_self(self, Queue, "put") end
  if item == nil then arg_error(1, "put", "nil is not a queue item") end
  if timeout ~= nil then check_timeout(timeout, 2, "put") end
  if self.closed then raise("Closed", "put to a closed queue") end
  local max = self.maxsize
  if max > 0 and self.tail - self.head + 1 >= max then put_wait(self, timeout) end
  local tail = self.tail + 1
  self.items[tail] = item
  self.tail = tail
  self.unfinished = self.unfinished + 1
  local g = self.getters
  if g.n >= g.h then wake_one(g) end
end

function Queue:get_nowait()
  check_self(self, Queue, "get_nowait")
  if self.tail < self.head then
    if self.closed then raise("Closed", "get from a closed queue") end
    raise("Empty", "the queue is empty")
  end
  return take(self)
end

local function get_wait(self, timeout)
  if self.closed then raise("Closed", "get from a closed queue") end
  if timeout == 0 then raise("Empty", "the queue is empty") end
  local loop, t = current("async.Queue:get")
  local deadline = timeout and monotonic() + timeout
  repeat
    if self.closed then raise("Closed", "get from a closed queue") end
    local ok, v = wait_on(loop, t, self.getters, remaining(deadline))
    if not ok then
      if self.tail >= self.head then wake_one(self.getters) end  -- pass the item on
      error(v, 0)
    end
    if v == TIMEOUT and self.tail < self.head then raise("Empty", "the queue is empty") end
  until self.tail >= self.head
end

function Queue:get(timeout)
  if getmetatable(self) ~= Queue then check_self(self, Queue, "get") end
  if timeout ~= nil then check_timeout(timeout, 1, "get") end
  local head = self.head
  if self.tail < head then
    get_wait(self, timeout)
    head = self.head
  end
  local items = self.items
  local item = items[head]
  items[head] = nil
  if head == self.tail then
    self.head, self.tail = 1, 0
  else
    self.head = head + 1
  end
  local p = self.putters
  if p.n >= p.h then wake_one(p) end
  return item
end

function Queue:task_done()
  check_self(self, Queue, "task_done")
  if self.unfinished <= 0 then raise("InvalidState", "task_done() called more times than there were items") end
  self.unfinished = self.unfinished - 1
  if self.unfinished == 0 then wake_all(self.joiners) end
end

function Queue:join(timeout)
  check_self(self, Queue, "join")
  check_timeout(timeout, 1, "join")
  if self.unfinished == 0 then return true end
  if timeout == 0 then return false end
  local loop, t = current("async.Queue:join")
  local deadline = timeout and monotonic() + timeout
  while self.unfinished > 0 do
    local ok, v = wait_on(loop, t, self.joiners, remaining(deadline))
    if not ok then error(v, 0) end
    if v == TIMEOUT and self.unfinished > 0 then return false end
  end
  return true
end

function Queue:close()
  check_self(self, Queue, "close")
  self.closed = true
  wake_all(self.getters)
  wake_all(self.putters)
end

-- for item in q:iter() do ... end: ends once the queue is closed and drained.
function Queue:iter()
  check_self(self, Queue, "iter")
  return function()
    if self.tail < self.head and self.closed then return nil end
    local ok, v = pcall(self.get, self)
    if ok then return v end
    if tide.is_error(v, "Closed") then return nil end
    error(v, 0)
  end
end

Queue.__tostring = function(self)
  check_self(self, Queue, "__tostring")
  local n = self.tail - self.head + 1
  return ("async.Queue (%d item%s%s)"):format(n, n == 1 and "" or "s",
                                              self.closed and ", closed" or "")
end

return Q
