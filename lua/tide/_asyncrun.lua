-- Running a tide.async loop (see _asyncloop.lua): async.run's main loop,
-- stepping from outside, closing, and the state's default loop that
-- tide::Host::pump steps (runtime/async_task.hpp).
local tide = require "tide"
local native = require "tide._async"
local C = require "tide._asyncloop"
local X = require "tide._asyncwatch"

local raise, is_error, log_unretrieved = C.raise, tide.is_error, C.log_unretrieved
local run_phase, wait_phase, drain = C.run_phase, X.wait_phase, C.drain
local THREAD_CANCELLED = X.THREAD_CANCELLED
local STATE <const> = 2
local DONE = C.DONE

local R = {}

-- ------------------------------------------------------- running the loop

local function enter(loop, what)
  if loop.closed then raise("InvalidState", "the event loop is closed") end
  if C.running() == loop then
    raise("InvalidState", what .. ": this loop is already running (called from one of its tasks)")
  elseif C.running() then
    raise("InvalidState", what .. ": a loop is already running in this Lua state (nested async.run)")
  end
  C.set_running(loop)
end

-- Leaves `running` right whichever way a run ends (a to-be-closed value:
-- even a cancellation of the OS thread, which no pcall stops, passes it).
local RESET = setmetatable({}, {__close = function() C.set_running(nil) end})
local Leave = {__close = function(l)
  local loop = l.loop
  if C.running() ~= loop then return end
  local reset <close> = RESET  -- even if unwinding raises (a cancelled thread's pcall)
  native.hold_cancel()  -- a cancelled thread's hook would cut the unwinding short
  if l.unwind then  -- an error left the loop mid-run: let every task unwind
    pcall(C.cancel_all, loop)
    pcall(drain, loop)
  end
end}

function R.run_main(loop, main)
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
  C.set_running(nil)
  if interrupted then error(interrupted, 0) end
  return main
end

function R.step(loop, max_wait)
  enter(loop, "loop:step")
  local leave <close> = setmetatable({loop = loop}, Leave)
  local ok, err = pcall(function()
    if wait_phase(loop, max_wait or 0) == THREAD_CANCELLED then
      error(tide.error("Cancelled", "the thread was cancelled"), 0)
    end
    return run_phase(loop)
  end)
  C.set_running(nil)
  if not ok then error(err, 0) end
  local stop = loop.interrupted
  if stop then
    loop.interrupted = nil
    error(stop, 0)
  end
  return loop.ntasks > 0, err
end

function R.close(loop)
  if loop.closed then return end
  if C.running() == loop then raise("InvalidState", "a running loop cannot be closed from one of its tasks") end
  if C.running() then raise("InvalidState", "a loop cannot be closed while another loop runs in this Lua state") end
  if loop.ntasks > 0 then
    C.set_running(loop)
    local leave <close> = setmetatable({loop = loop}, Leave)
    C.cancel_all(loop)
    pcall(drain, loop)
    C.set_running(nil)
  end
  for t in pairs(loop.failed) do log_unretrieved(t) end
  loop.closed = true
  if loop.waiter then loop.waiter:close() end
  loop.watches, loop.by_id, loop.by_id_room, loop.idle = {}, {}, {}, {}
  loop.nwatch = 0
end


-- This state's default loop (async.loop()), made on first use.
local default_loop
function R.default_loop()
  if not default_loop or default_loop.closed then default_loop = C.new_loop() end
  return default_loop
end

-- tide::Host::pump's turn of the default loop (runtime::pump_async_loop):
-- runs what is ready, never waits. Returns how many tasks ran (0 without a
-- default loop, or when a loop runs in this state: pump called from a task).
function R.pump()
  local loop = default_loop
  if not loop or loop.closed or C.running() then return 0 end
  local _, ran = R.step(loop, 0)
  return ran or 0
end


return R
