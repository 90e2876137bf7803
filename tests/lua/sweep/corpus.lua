-- The hostile API sweep's fixed inputs (tests/lua/sweep_spec.lua): the bad
-- values every argument position gets, the plausible argument lists that
-- discovery tries to find each function's and method's well-formed call
-- (its "base"), the functions never called with values that would act on
-- the machine, and the outcome rules.
--
-- Everything here is built fresh in each sweep child (values that hold
-- state, a Lock for instance, are made per call by a factory).
local tide = require "tide"

local M = {}

-- A callback that does nothing (a C function and a Lua one are both in the
-- corpus): tide calls it in some shapes (wait_for, update, map...).
M.FN = function() end

-- Raised by the trap table's metamethods: an error tide passes through
-- from user code is the user's, not tide's ("user" outcome).
M.SENTINEL = setmetatable({}, {__tostring = function() return "sweep sentinel" end})
local function trap() error(M.SENTINEL, 0) end

-- API.md §0's kinds: a tide error of any other kind is a failure.
M.KINDS = {}
for k in ([[Timeout Empty Full Closed Cancelled BrokenBarrier TransferError RemoteError
  WorkerDied BrokenPool AbandonedLock CalledProcessError InvalidState Interrupted OSError
  ArgumentError]]):gmatch("%a+") do M.KINDS[k] = true end

-- {label, value} or {label, factory = function() return value end}.
function M.values()
  local trap_mt = {__index = trap, __newindex = trap, __len = trap, __call = trap, __tostring = trap,
                   __eq = trap, __lt = trap, __le = trap, __concat = trap, __pairs = trap, __close = trap,
                   __name = "sweep trap"}
  local lud
  for i = 1, 10 do  -- a light userdata (debug.upvalueid gives one)
    local ok, id = pcall(debug.upvalueid, M.values, i)
    if ok and id then lud = id break end
  end
  lud = lud or debug.upvalueid(function() return trap_mt end, 1)
  return {
    {"nil", nil}, {"false", false}, {"true", true},
    {"0", 0}, {"1", 1}, {"-1", -1}, {"2", 2}, {"0.5", 0.5}, {"-0.5", -0.5},
    {"nan", 0 / 0}, {"inf", math.huge}, {"-inf", -math.huge},
    {"maxinteger", math.maxinteger}, {"mininteger", math.mininteger}, {"2^63", 2.0 ^ 63},
    {"1e308", 1e308}, {"-2^31", -2 ^ 31},
    {"''", ""}, {"'x'", "x"}, {"'a\\0b'", "a\0b"}, {"'-1'", "-1"}, {"'1e999'", "1e999"},
    {"1 MiB string", factory = function() return ("x"):rep(1 << 20) end},
    {"{}", factory = function() return {} end},
    {"{1,2,3}", factory = function() return {1, 2, 3} end},
    {"{n=-1}", factory = function() return {n = -1, 1} end},
    {"cyclic table", factory = function()
      local c = {}
      c.self, c[1] = c, c
      return c
    end},
    {"trap table", factory = function() return setmetatable({}, trap_mt) end},
    {"Lua function", M.FN}, {"C function", os.clock},
    {"coroutine", factory = function() return coroutine.create(M.FN) end},
    {"io.stdout", io.stdout}, {"light userdata", lud},
    {"tide error", factory = function() return tide.error("Timeout", "sweep") end},
    {"a Lock", factory = function() return require("tide.sync").Lock() end},
    {"a released Lock", factory = function()
      local l = require("tide.sync").Lock()
      getmetatable(l).__gc(l)
      return l
    end},
  }
end

-- Plausible argument lists, tried in order by discovery: the first one
-- that is well formed (returns, or raises a kind other than ArgumentError
-- and TransferError) is the target's base; every result that is an object
-- of a new class makes that class known. Fresh tables per call.
M.FUNCTION_ARGS = {
  function() return {n = 0} end,
  function() return {n = 1, {}} end,
  function() return {n = 1, M.FN} end,
  function() return {n = 1, {target = M.FN}} end,
  function() return {n = 2, "int", 2} end,
  function() return {n = 1, 1} end,
  function() return {n = 2, 2, M.FN} end,
  function() return {n = 2, M.FN, {}} end,
  -- A harmless command, for what runs one (tide.subprocess).
  function() return {n = 1, {"true"}} end,
  function() return {n = 2, {"true"}, {stdout = "pipe"}} end,
}
M.METHOD_ARGS = {
  function() return {n = 1, 0} end,
  function() return {n = 0} end,
  function() return {n = 1, M.FN} end,
  function() return {n = 1, "x"} end,
  function() return {n = 2, "x", M.FN} end,
  function() return {n = 2, M.FN, {}} end,
  function() return {n = 2, 1, 0} end,
}

-- Module functions whose well-formed calls act beyond the sweep's own
-- process (signal any pid, end or fork the process, close its stdio). They
-- are called only when their first argument is not nil and not a number
-- (or a string Lua would convert to one), so every call fails its checks.
-- os.fork takes no arguments at all: forking is os_spec's.
M.HAZARDS = {kill = true, raise = true, _exit = true, exit = true, close = true, abort = true,
             killpg = true, setsid = true, setpgid = true, execv = true, execvp = true}
M.NEVER = {fork = true}

-- The sweep stops a blocked call with SIGINT: a call that would give
-- SIGINT a handler (tide.signal.signal(2, fn)) is skipped; other signals'
-- handlers are fair game.
M.KEEP_SIGINT = {signal = true}

function M.hazard_allows(name, args)
  if M.NEVER[name] then return false end
  local a = args[1]
  if M.KEEP_SIGINT[name] then
    return not (tonumber(a) == 2 or (type(a) == "string" and a:upper():find("INT")))
  end
  if not M.HAZARDS[name] then return true end
  return a ~= nil and tonumber(a) == nil
end

-- Methods that end an object's use: a "closed" variant of each class is a
-- fresh object after one of these (with its base arguments).
M.CLOSERS = {"close", "shutdown", "terminate", "abort", "cancel"}

-- Outcome of a call: "ok", "typed" (a tide error of an API.md kind),
-- "interrupted" (Interrupted: a blocking call stopped by the sweep's
-- SIGINT), "user" (the trap's own error passed through), or the failures
-- "untyped" (not a tide error) and "badkind" (a kind API.md does not name).
function M.classify(ok, err)
  if ok then return "ok" end
  if rawequal(err, M.SENTINEL) then return "user" end
  if tide.is_error(err) then
    if err.kind == "Interrupted" then return "interrupted" end
    if M.KINDS[err.kind] then return "typed" end
    return "badkind"
  end
  return "untyped"
end

M.FAILURES = {untyped = true, badkind = true}

-- A short, printable description of an error value.
function M.describe(err)
  local ok, s = pcall(tostring, err)
  s = ok and s or ("(" .. type(err) .. ")")
  s = s:gsub("%z", "\\0"):gsub("\n", " | ")
  if #s > 300 then s = s:sub(1, 300) .. "..." end
  return s
end

return M
