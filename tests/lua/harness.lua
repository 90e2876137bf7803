-- A small test harness for Lua specs run by the real `tide` binary.
--   local T = require "harness"
--   T.test("name", function() T.eq(1, 1) end)
--   T.done()   -- prints "N passed, N failed" and exits non-zero on failure
local tide = require "tide"

local T = {}
local passed, failed = 0, 0
local current = "?"

local function fmt(v)
  if type(v) == "string" then return string.format("%q", v) end
  return tostring(v)
end

local function fail(msg, level)
  error({harness_failure = true, message = msg}, (level or 1) + 1)
end

function T.test(name, fn)
  current = name
  local ok, err = xpcall(fn, function(e)
    if type(e) == "table" and e.harness_failure then
      return e.message .. "\n" .. debug.traceback("", 2)
    end
    return tostring(e) .. "\n" .. debug.traceback("", 2)
  end)
  if ok then
    passed = passed + 1
    io.write("ok   ", name, "\n")
  else
    failed = failed + 1
    io.write("FAIL ", name, "\n  ", tostring(err):gsub("\n", "\n  "), "\n")
  end
  io.flush()
end

function T.eq(actual, expected, what)
  if actual ~= expected then
    fail(string.format("%sexpected %s, got %s", what and (what .. ": ") or "", fmt(expected), fmt(actual)), 2)
  end
end

function T.truthy(v, what)
  if not v then fail((what or "value") .. " is not truthy: " .. fmt(v), 2) end
end

function T.falsy(v, what)
  if v then fail((what or "value") .. " should be falsy: " .. fmt(v), 2) end
end

function T.match(s, pattern, what)
  if type(s) ~= "string" or not s:find(pattern) then
    fail(string.format("%s%s does not match %q", what and (what .. ": ") or "", fmt(s), pattern), 2)
  end
end

-- Deep equality for plain tables (no cycles).
local function deq(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then
    return a == b or (a ~= a and b ~= b)
  end
  for k, v in pairs(a) do if not deq(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end

function T.same(actual, expected, what)
  if not deq(actual, expected) then
    fail((what and (what .. ": ") or "") .. "tables differ", 2)
  end
end

-- Asserts fn(...) raises a tide error of `kind`; returns the error.
-- `pattern` (optional) must match its message.
function T.raises(kind, pattern, fn, ...)
  if type(pattern) == "function" then return T.raises(kind, nil, pattern, fn, ...) end
  local ok, err = pcall(fn, ...)
  if ok then fail("expected a " .. kind .. " error, but the call succeeded", 2) end
  if not tide.is_error(err, kind) then
    fail("expected a " .. kind .. " error, got " .. fmt(err), 2)
  end
  if pattern and not tostring(err.message):find(pattern) then
    fail(string.format("%s message %q does not match %q", kind, err.message, pattern), 2)
  end
  return err
end

-- Runs `tide` with the given arguments (shell-quoted by the caller as
-- needed); returns exit code, stdout, stderr.
function T.run_tide(args, stdin)
  local bin = os.getenv("TIDE_BIN") or "tide"
  local out, err = os.tmpname(), os.tmpname()
  local cmd = string.format("%s %s >%s 2>%s", bin, args, out, err)
  if stdin then
    local inp = os.tmpname()
    local f = assert(io.open(inp, "w")); f:write(stdin); f:close()
    cmd = cmd .. " <" .. inp
  else
    cmd = cmd .. " </dev/null"
  end
  local _, _, code = os.execute(cmd)
  local function slurp(p) local f = io.open(p); local s = f:read("a"); f:close(); os.remove(p); return s end
  return code, slurp(out), slurp(err)
end

-- The sanitizer the suite runs under ("asan", "tsan"), or nil.
T.sanitizer = os.getenv("TIDE_SANITIZER")
if T.sanitizer == "" then T.sanitizer = nil end

-- The state letter in a /proc stat file ("S", "R", "Z"...), nil if gone.
local function stat_state(path)
  local f = io.open(path)
  if not f then return nil end
  local stat = f:read("a")  -- nil when the process went away after the open
  f:close()
  return stat and stat:match("%) (%a)")
end

-- The state of process `pid` (its main thread), nil once it is gone.
function T.proc_state(pid) return stat_state("/proc/" .. pid .. "/stat") end

-- Yields until `state()` is "S" (asleep in the kernel) or `seconds` pass;
-- returns the last state seen. Judge that one, not a second read: a blocked
-- call may wake for a moment and sleep again (a notify meant for another
-- state, a signal), and a second read could land in that moment.
local function await_sleep(state, seconds)
  local thread = require "tide.thread"
  local deadline = require("tide").monotonic() + seconds
  local s = state()
  while s ~= "S" and require("tide").monotonic() < deadline do
    thread.yield()
    s = state()
  end
  return s
end

-- Process `pid`'s main thread: yields until it sleeps in the kernel, at
-- most `seconds`; returns the state seen. A hang detector, not an ordering.
function T.await_sleep(pid, seconds)
  return await_sleep(function() return T.proc_state(pid) end, seconds)
end

-- Yields until thread `t` sleeps in the kernel (/proc state S), so a fork
-- does not catch it mid-allocation. A hang detector, not an ordering sleep.
function T.wait_blocked(t)
  local s = await_sleep(function()
    local tid = t.ident  -- nil until the thread is running
    return tid and stat_state(string.format("/proc/self/task/%d/stat", tid))
  end, 10)
  if s ~= "S" then fail("thread " .. t.name .. " never blocked", 2) end
end

-- The pids of `pids` still alive (not gone, not a zombie) after waiting up
-- to `seconds` for them to end. A hang detector, not an ordering sleep.
function T.still_alive(pids, seconds)
  local tide = require "tide"
  local function alive(pid)
    local s = T.proc_state(pid)
    return s ~= nil and s ~= "Z"
  end
  local deadline = tide.monotonic() + seconds
  local left
  repeat
    left = {}
    for _, pid in ipairs(pids) do if alive(pid) then left[#left + 1] = pid end end
    if #left == 0 then break end
    tide.sleep(0.01)
  until tide.monotonic() > deadline
  return left
end

-- Forks (tide.os.fork); the child runs fn and exits with its result code
-- (99 if it raised). Returns the child's pid.
function T.fork(fn)
  local os_ = require "tide.os"
  local pid = os_.fork()
  if pid == 0 then
    local ok, code = pcall(fn)
    os_._exit(ok and (code or 0) or 99)
  end
  return pid
end

-- Waits for child `pid` and returns its exit code (-N: killed by signal N).
function T.exit_code(pid)
  local os_ = require "tide.os"
  local got, status = os_.waitpid(pid, 0)
  if got ~= pid then fail(string.format("waitpid returned %s for %s", fmt(got), fmt(pid)), 2) end
  return os_.waitstatus_to_exitcode(status)
end

function T.done()
  io.write(string.format("%d passed, %d failed\n", passed, failed))
  io.flush()
  os.exit(failed == 0 and passed > 0 and 0 or 1)
end

return T
