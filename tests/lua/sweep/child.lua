-- A sweep child (tests/lua/sweep_spec.lua runs it as a `tide` command in a
-- scratch directory):
--   tide sweep/child.lua FIFO plan PLANFILE          discover, write the plan
--   tide sweep/child.lua FIFO run PLANFILE MODE FIRST   make calls FIRST.. of the plan
-- It reports to the parent over the FIFO (a tide.pipe connection), as
-- strings: "H pid" once, then "S i target prev label" before each call
-- (i = 0 during discovery; prev: the outcome of the call before), "F i outcome
-- label <tab> detail" after a failing call, and at the end a summary table
-- (with the last call's outcome). Between its calls a child only does a
-- little bookkeeping, so the parent counts a call as running from its "S"
-- to the next message. The parent interrupts a
-- call that outlives its budget with SIGINT, and kills the child if even
-- that does not end it.
local fifo, phase, planfile, mode, first = ...
local tide = require "tide"
local os_ = require "tide.os"
local pipe = require "tide.pipe"
local C = require "sweep.corpus"
local P = require "sweep.plan"

local conn = pipe.open(fifo, "w", 60)

-- The parent's SIGINT may land just after a call returned: sends retry an
-- Interrupted, and after each call a pending one is consumed.
local function send(msg)
  for _ = 1, 1000 do
    local ok, e = pcall(conn.send, conn, msg)
    if ok then return end
    if not tide.is_error(e, "Interrupted") then os_._exit(3) end  -- the parent is gone
  end
  os_._exit(3)
end
local function absorb_sigint() pcall(tide.sleep, 0) end

send("H " .. os_.getpid())

local function finish(summary)
  send(summary)
  conn:close()
  io.stdout:flush()
  os_._exit(0)  -- no exit joins: calls may have left threads or children waiting forever
end

if phase == "plan" then
  local plan, ok, err
  -- A SIGINT meant for a discovery call that had just returned can land in
  -- discovery's own code (a loaded machine stretches calls past the
  -- budget): discovery is then made again from the start.
  for _ = 1, 20 do
    ok, err = pcall(function()
      plan = P.discover(function(label, fn, ...)
        send("S\t0\t0\t-\t" .. label)
        local r = table.pack(pcall(fn, ...))
        absorb_sigint()
        return table.unpack(r, 1, r.n)
      end)
    end)
    if ok or not tide.is_error(err, "Interrupted") then break end
    absorb_sigint()
  end
  if not ok then
    send("X\t" .. C.describe(err))
    os_._exit(2)
  end
  -- Discovery is over: a SIGINT meant for its last call must not land in
  -- the dump or the summary (the parent counts a call as running until the
  -- next message).
  require("tide.signal").signal("SIGINT", "ignore")
  absorb_sigint()
  local f = assert(io.open(planfile, "w"))
  f:write(P.dump(plan))
  f:close()
  finish({phase = "plan", modules = #plan.modules, functions = #plan.functions, classes = #plan.classes,
          returned = #plan.returned})
end

-- ---- run ---------------------------------------------------------------

local plan = dofile(planfile)
local values = C.values()
local calls, targets = P.calls(plan, mode, #values)
first = math.tointeger(tonumber(first)) or 1

local function value(j)
  local e = values[j]
  if e.factory then return e.factory() end
  return e[2]
end

local function label_of(c)
  local s = P.target_label(plan, targets[c.t])
  if c.shape == "arg" then
    s = s .. string.format(" arg %d = %s", c.pos, values[c.value][1])
  elseif c.shape == "base" then
    s = s .. string.format(" base args, arg %d = %s", c.pos, values[c.value][1])
  elseif c.shape == "self" then
    s = s .. " self = " .. values[c.value][1]
  elseif c.shape == "closed" then
    s = s .. " on an object after " .. c.closer .. "()"
  else
    s = s .. " (" .. c.shape .. ")"
  end
  return s
end

-- The function and arguments of call c, or nil when the call is skipped
-- (a hazard's arguments, or no way to release the class's objects).
local function prepare(c)
  local t = targets[c.t]
  local args
  if t.kind == "function" or t.kind == "returned" then
    local f
    if t.kind == "function" then f = P.resolve(t.fn.path) else f = P.make(plan, t.rt.maker) end
    if c.shape == "arg" then
      args = {n = c.pos}
      args[c.pos] = value(c.value)
    elseif c.shape == "base" then
      args = C.FUNCTION_ARGS[t.base]()
      args[c.pos] = value(c.value)
      args.n = math.max(args.n, c.pos)
    else
      args = {n = 0}
    end
    if t.kind == "function" and not C.hazard_allows(t.fn.path[#t.fn.path], args) then return nil end
    return f, args
  end
  local obj = P.make(plan, t.cls.maker)
  local f = P.method_of(obj, t.m.name, t.m.meta)
  local base = t.base and C.METHOD_ARGS[t.base]() or {n = 0}
  if c.shape == "self" then
    return f, {n = 1, value(c.value)}
  elseif c.shape == "arg" then
    args = {n = c.pos + 1, obj}
    args[c.pos + 1] = value(c.value)
    return f, args
  elseif c.shape == "released" or c.shape == "closed" then
    if c.shape == "released" then
      local mt = getmetatable(obj)
      if type(mt) ~= "table" or type(rawget(mt, "__gc")) ~= "function" then return nil end
      mt.__gc(obj)
    else
      local closer_base
      for _, m in ipairs(t.cls.methods) do
        if m.name == c.closer and not m.meta then closer_base = m.base end
      end
      local ca = closer_base and C.METHOD_ARGS[closer_base]() or {n = 0}
      pcall(obj[c.closer], obj, table.unpack(ca, 1, ca.n))
      absorb_sigint()
    end
    args = {n = base.n + 1, obj}
    for k = 1, base.n do args[k + 1] = base[k] end
    return f, args
  end
  args = {n = math.max(base.n, c.pos) + 1, obj}  -- "base"
  for k = 1, base.n do args[k + 1] = base[k] end
  args[c.pos + 1] = value(c.value)
  return f, args
end

local last_outcome = "-"  -- reported with the next call's start (or the summary)
local setup_logged = 0  -- the first few makers that failed, in the child's log
local counts = {ok = 0, typed = 0, interrupted = 0, user = 0, untyped = 0, badkind = 0, setup = 0, skipped = 0}

-- The loop runs under pcall and resumes after an Interrupted that escaped
-- (a SIGINT meant for a call that had just returned, landing in the
-- sweep's own code): `stage` tells whether call i still has to be made.
local i, stage = first, "before"
local function sweep_loop()
  while i <= #calls do
    local c = calls[i]
    stage = "before"
    local label = label_of(c)
    send("S\t" .. i .. "\t" .. c.t .. "\t" .. last_outcome .. "\t" .. label)
    local ok, f, args = pcall(prepare, c)
    absorb_sigint()
    local outcome, detail
    if not ok then
      outcome, detail = "setup", C.describe(f)
      setup_logged = setup_logged + 1
      if setup_logged <= 50 then print("setup failed: " .. label .. ": " .. detail) end
    elseif not f then
      outcome = "skipped"
    else
      local r = table.pack(pcall(f, table.unpack(args, 1, args.n)))
      f, args = nil, nil
      stage = "after"
      absorb_sigint()
      outcome = C.classify(r[1], r[2])
      if not r[1] then detail = C.describe(r[2]) end
    end
    stage = "after"
    counts[outcome] = counts[outcome] + 1
    last_outcome = outcome
    if C.FAILURES[outcome] then send("F\t" .. i .. "\t" .. outcome .. "\t" .. label .. "\t" .. (detail or "")) end
    if i % 100 == 0 then collectgarbage() end
    i = i + 1
  end
end
while i <= #calls do
  local ok, e = pcall(sweep_loop)
  if not ok then
    if not tide.is_error(e, "Interrupted") then
      send("X\t" .. C.describe(e))
      os_._exit(2)
    end
    if stage == "after" then i = i + 1 end
  end
end

finish({phase = "run", counts = counts, calls = #calls, first = first, last_outcome = last_outcome})
