-- tide.async: awaiting what other threads and processes make (futures,
-- threads, processes, queues, pipe connections) and descriptors, without
-- blocking the loop. Each wait registers with the loop's one native wait
-- (a Watcher on the future / queue / thread, or the descriptor in the poll
-- set) and suspends the task; see _asyncloop.lua.
-- Task slots (see _asyncloop.lua).
local STATE <const>, STOP <const>, GEN <const>, STARTED <const> = 2, 5, 6, 7

local tide = require "tide"
local native = require "tide._async"
local C = require "tide._asyncloop"
local X = require "tide._asyncwatch"

local is_error = tide.is_error
local monotonic = tide.monotonic
local classify = native.classify
local TIMEOUT, DONE = C.TIMEOUT, C.DONE
local POLLIN, POLLOUT = X.POLLIN, X.POLLOUT
local raise = C.raise

local W = {}

-- What x is to an await: "task", "future", "thread" or "process" (and the
-- object's identity for native ones), or nil.
function W.kind(x)
  local tx = type(x)
  if tx == "table" then
    local mt = getmetatable(x)
    if mt == C.Task or mt == C.FailedTask then return "task" end
    return nil
  end
  if tx ~= "userdata" then return nil end
  local k, id = classify(x)
  if k == "future" or k == "thread" or k == "process" then return k, id end
  return nil
end

-- The values of a finished task (marking its error retrieved), or its error.
function W.task_results(t)
  t.retrieved = true
  local o = t.outcome
  if o == "completed" then
    local r = t.results  -- {true, results...}: task_main's xpcall
    return table.unpack(r, 2, r.n)
  end
  error(t.err or C.cancelled_error(), 0)
end

function W.is_done(x, kind)
  if kind == "task" then return x[STATE] == DONE end
  if kind == "future" then return x:done() end
  if kind == "thread" then
    local s = x:status()
    return s ~= "running" and s ~= "new"
  end
  return not x:is_alive()
end

-- The results of a finished awaitable, or its error (as its own result /
-- join raises it).
function W.results(x, kind)
  if kind == "task" then return W.task_results(x) end
  if kind == "future" then return x:result(0) end
  return x:join(0)
end

local function remaining(deadline)
  if not deadline then return nil end
  local left = deadline - monotonic()
  return left > 0 and left or 0
end

-- ------------------------------------------------------------ descriptors

-- Suspends t until fd is ready for `events`; revents, or false at the
-- timeout.
local function wait_fd(loop, t, fd, events, timeout)
  if t[STOP] then error(C.cancelled_error(), 0) end
  local e = X.fd_entry(loop, fd)
  C.wl_push(events == POLLIN and e.r or e.w, t)
  t.release, t.release_arg = X.release_fd, e
  local v = C.suspend(loop, t, timeout)
  if v == TIMEOUT then return false end
  return v
end
W.wait_fd = wait_fd

local function fd_of(x, n, fname)
  if math.type(x) == "integer" then
    if x < 0 then C.arg_error(n, fname, "descriptor must not be negative") end
    return x
  end
  local ok, fd
  if type(x) == "userdata" or type(x) == "table" then
    -- (a light userdata, or a table whose __index raises, has no fields)
    local found, get = pcall(function() return x.fileno or x.getfd end)
    if found and get then ok, fd = pcall(get, x) end
  end
  if not ok or math.type(fd) ~= "integer" or fd < 0 then
    C.arg_error(n, fname, "a descriptor (integer) or an object with fileno() or getfd() expected, got " .. type(x))
  end
  return fd
end

-- Suspends t until tide.pipe connection `conn` has a message (or its end)
-- or `deadline` passes; true, or false at the deadline. A message in the
-- connection's shared-memory lane does not make its descriptor readable:
-- poll(0) looks there and arms the wake-up the descriptor then gets.
local function await_message(loop, t, conn, deadline)
  local fd = conn:fileno()
  repeat
    if conn:poll(0) then return true end
  until not wait_fd(loop, t, fd, POLLIN, remaining(deadline))
  return conn:poll(0)
end

local function ready_for(x, timeout, events, fname)
  local fd = fd_of(x, 1, fname)
  C.check_timeout(timeout, 2, fname)
  local loop, t = C.current(fname)
  if events == POLLIN and classify(x) == "connection" then
    return await_message(loop, t, x, timeout and monotonic() + timeout)
  end
  local r = wait_fd(loop, t, fd, events, timeout)
  if not r then return false end
  if r & 0x20 ~= 0 then raise("OSError", fname .. ": descriptor " .. fd .. " is not open") end
  return true
end

function W.readable(x, timeout) return ready_for(x, timeout, POLLIN, "async.readable") end
function W.writable(x, timeout) return ready_for(x, timeout, POLLOUT, "async.writable") end

-- A to-be-closed value closing a descriptor of ours (a pidfd).
local FdCloser = {__close = function(c) require("tide.os").close(c.fd) end}

-- Suspends t until process `pid` has exited (it is not reaped: whoever owns
-- it reaps it); true, or false at the timeout. OSError (ESRCH) when there is
-- no such process. What async.subprocess's Popen:wait will build on.
function W.wait_exit(loop, t, pid, timeout)
  local closer <close> = setmetatable({fd = native.pidfd_open(pid)}, FdCloser)
  return wait_fd(loop, t, closer.fd, POLLIN, timeout) ~= false
end

-- async.waitpid(pid, [timeout]): tide.os.waitpid(pid) without blocking the
-- loop: pid, status once the child exited (reaped here); Timeout at the
-- timeout (the child is left alone).
function W.waitpid(pid, timeout)
  if math.type(pid) ~= "integer" or pid <= 0 then C.arg_error(1, "async.waitpid", "a child's process id expected") end
  C.check_timeout(timeout, 2, "async.waitpid")
  local loop, t = C.current("async.waitpid")
  local os_ = require "tide.os"
  local deadline = timeout and monotonic() + timeout
  while true do
    local r, status = os_.waitpid(pid, os_.WNOHANG)
    if r == pid then return r, status end
    local left = remaining(deadline)
    if left == 0 or not W.wait_exit(loop, t, pid, left) then
      r, status = os_.waitpid(pid, os_.WNOHANG)
      if r == pid then return r, status end
      raise("Timeout", "async.waitpid: the child did not exit in time")
    end
  end
end

-- -------------------------------------------------- futures, threads, processes

-- Suspends t until x (of `kind`) is done: true, or false at the timeout.
-- Raises Cancelled when t is cancelled meanwhile (a task or a pending
-- future it awaits is cancelled too).
function W.wait_done(loop, t, x, kind, id, timeout)
  if t[STOP] then error(C.cancelled_error(), 0) end
  if W.is_done(x, kind) then return true end
  if kind == "task" then
    if x == t then raise("InvalidState", "a task cannot await itself") end
    if x.loop ~= loop then raise("InvalidState", "a task can only be awaited from its own loop") end
    local wl = x.waiters
    if not wl then
      wl = C.wl_init({})
      x.waiters = wl
    end
    C.wl_push(wl, t)
    t.awaiting = x
  elseif kind == "future" or kind == "thread" then
    if kind == "thread" and x:status() == "new" then raise("InvalidState", "cannot await a thread that was not started") end
    local e = X.entry_for(loop, x, id, false, true)
    C.wl_push(e, t)
    t.release, t.release_arg = X.release_entry, e
    if kind == "future" then t.awaiting = x end
  else  -- a process: its exit descriptor
    local deadline = timeout and monotonic() + timeout
    while x:is_alive() do
      local fd = native.exit_fd(x)
      if fd < 0 then break end
      if not wait_fd(loop, t, fd, POLLIN, remaining(deadline)) then return x:is_alive() == false end
    end
    return true
  end
  local ok, v = C.suspend_raw(loop, t, timeout)
  t.awaiting = nil
  if not ok then error(v, 0) end
  return v ~= TIMEOUT
end

-- Calls fn(arg) once x is done (x not done yet). Tasks, futures and threads
-- notify; a process is watched by a small internal task.
function W.subscribe(loop, x, kind, id, fn, arg)
  if kind == "task" then
    if not x.sub_fn then
      x.sub_fn, x.sub_arg = fn, arg
      return
    end
    local subs = x.subs
    if not subs then
      subs = {}
      x.subs = subs
    end
    subs[#subs + 1], subs[#subs + 2] = fn, arg
  elseif kind == "future" or kind == "thread" then
    local e = X.entry_for(loop, x, id, false, true)
    local subs = e.subs
    if not subs then
      subs = {}
      e.subs = subs
    end
    subs[#subs + 1], subs[#subs + 2] = fn, arg
  else
    C.spawn(loop, function()
      local _, t = C.current("subscribe")
      W.wait_done(loop, t, x, kind, id, nil)
      fn(arg)
    end)
  end
end

-- --------------------------------------------- tide.queue and tide.pipe

local function check_object(x, want, n, fname)
  local k, id = classify(x)
  if k ~= want then C.arg_error(n, fname, "a tide." .. want .. " object expected, got " .. type(x)) end
  return id
end

local function wait_queue(loop, t, q, id, room, timeout)
  if t[STOP] then error(C.cancelled_error(), 0) end
  local e = X.entry_for(loop, q, id, room, false)
  C.wl_push(e, t)
  t.release, t.release_arg = X.release_entry, e
  return C.suspend(loop, t, timeout) ~= TIMEOUT
end

-- async.get(q, [timeout]): an item of a tide.queue queue (any thread or
-- process may put it); Empty at the timeout, Closed once closed and drained.
function W.get(q, timeout)
  local id = check_object(q, "queue", 1, "async.get")
  C.check_timeout(timeout, 2, "async.get")
  local loop, t = C.current("async.get")
  local deadline = timeout and monotonic() + timeout
  while true do
    if t[STOP] then error(C.cancelled_error(), 0) end
    local ok, v = pcall(q.get_nowait, q)
    if ok then return v end
    if not is_error(v, "Empty") then error(v, 0) end
    local left = remaining(deadline)
    if left == 0 or not wait_queue(loop, t, q, id, false, left) then
      local ok2, v2 = pcall(q.get_nowait, q)  -- one last look at the deadline
      if ok2 then return v2 end
      error(v2, 0)
    end
  end
end

-- async.put(q, item, [timeout]): puts into a tide.queue queue, awaiting
-- room in a bounded one; Full at the timeout, Closed when closed.
function W.put(q, item, timeout)
  local id = check_object(q, "queue", 1, "async.put")
  C.check_timeout(timeout, 3, "async.put")
  local loop, t = C.current("async.put")
  local deadline = timeout and monotonic() + timeout
  while true do
    if t[STOP] then error(C.cancelled_error(), 0) end
    local ok, err = pcall(q.put_nowait, q, item)
    if ok then return end
    if not is_error(err, "Full") then error(err, 0) end
    local left = remaining(deadline)
    if left == 0 or not wait_queue(loop, t, q, id, true, left) then
      q:put_nowait(item)  -- one last try: raises Full
      return
    end
  end
end

-- async.recv(conn, [timeout]): the next message of a tide.pipe connection;
-- Closed at end of stream, Timeout at the timeout.
function W.recv(conn, timeout)
  check_object(conn, "connection", 1, "async.recv")
  C.check_timeout(timeout, 2, "async.recv")
  local loop, t = C.current("async.recv")
  local deadline = timeout and monotonic() + timeout
  while true do
    if t[STOP] then error(C.cancelled_error(), 0) end
    if not await_message(loop, t, conn, deadline) then raise("Timeout", "async.recv: no message in time") end
    local ok, v = pcall(conn.recv, conn, 0)
    if ok then return v end
    if not is_error(v, "Timeout") then error(v, 0) end  -- another reader took it: wait again
  end
end

return W
