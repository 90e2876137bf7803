-- The hostile API sweep (issue 15): every function of every tide module and
-- every method and metamethod of every class, found at run time
-- (tests/lua/sweep/plan.lua), called with a fixed corpus of bad values,
-- wrong selves and released or closed objects (tests/lua/sweep/corpus.lua).
-- It fails on any crash, hang, or error that is not a tide error of an
-- API.md kind.
--
-- The calls run in child `tide` commands (tests/lua/sweep/child.lua) in a
-- scratch directory. A call that blocks past its budget gets SIGINT, as
-- Ctrl-C would: every blocking call must then raise Interrupted (API.md
-- §0), so a block is an outcome, not a hang. A call that SIGINT does not
-- end within the grace period is a hang: the child is killed and a new
-- one carries on after that call; so after a crash (a child that dies).
--
-- Size: TIDE_SWEEP=full makes every call of the plan (each bad value at
-- every argument position). By default the sweep samples deterministically:
-- each value at one position per target (rotating with the target), every
-- value as `self`; under sanitizers only one value in N of those (N = 2
-- ASan, 4 TSan), rotating too, so every function and method is still
-- called with several kinds of bad value.
local T = require "harness"
local tide = require "tide"
local os_ = require "tide.os"
local pipe = require "tide.pipe"

local here = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
if here:sub(1, 1) ~= "/" then here = (os.getenv("PWD") or ".") .. "/" .. here end
local bin = os.getenv("TIDE_BIN") or "tide"
local sanitizer = T.sanitizer
local mode = os.getenv("TIDE_SWEEP") or (sanitizer == "tsan" and "sparse:4") or (sanitizer and "sparse:2") or "sample"
if mode == "full" or mode == "sample" or mode:match("^sparse:%d+$") then else error("TIDE_SWEEP: full, sample or sparse:N") end
-- A blocked call gets SIGINT after `budget` seconds; one still running
-- `grace` seconds later is a hang. Neither orders anything: the budget only
-- decides how long a legitimately blocking call (q:get(), sleep(1e308))
-- may take before the sweep checks that Ctrl-C ends it.
local budget = sanitizer and 0.2 or 0.03
-- A target whose calls were interrupted twice blocks by design (a nil or
-- long timeout): its later calls get SIGINT sooner.
local known_budget = sanitizer and 0.05 or 0.01
local blocked = {}  -- target index -> calls of it that SIGINT ended
local verbose = os.getenv("TIDE_SWEEP_VERBOSE")
local grace = sanitizer and 60 or 20

package.path = here .. "/?.lua;" .. package.path
local C = require "sweep.corpus"
local P = require "sweep.plan"

local function shell_quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. shell_quote(dir)))
local fifo = dir .. "/progress"
pipe.fifo(fifo)
local planfile = dir .. "/plan.lua"
local logfile = dir .. "/child.log"

local started = tide.monotonic()
local failures = {}    -- {i, outcome, label, detail}
local counts = {ok = 0, typed = 0, interrupted = 0, user = 0, untyped = 0, badkind = 0, setup = 0, skipped = 0,
                crash = 0, hang = 0}
local sigints, children = 0, 0

-- Runs one child to its end, a crash or a hang. Returns the summary table
-- (nil if it did not finish), the index of the call in flight when it
-- stopped, and its exit status.
local function run_child(phase, first)
  children = children + 1
  local cmd = string.format("cd %s && LUA_PATH=%s %s %s %s %s %s %s %s </dev/null >>%s 2>&1; echo $?",
    shell_quote(dir), shell_quote(here .. "/?.lua;" .. (os.getenv("LUA_PATH") or ";;")), bin,
    shell_quote(here .. "/sweep/child.lua"), shell_quote(fifo), phase, shell_quote(planfile), mode,
    tostring(first or 1), shell_quote(logfile))
  local status_pipe = assert(io.popen(cmd))
  local conn = pipe.open(fifo, "r", grace)
  local pid, current, in_call, summary = nil, nil, false, nil
  local function handle(msg)
    local function count(outcome)
      if current and current.i > 0 and counts[outcome] then
        counts[outcome] = counts[outcome] + 1
        if outcome == "interrupted" then
          blocked[current.t] = (blocked[current.t] or 0) + 1
          if verbose then print("interrupted: " .. current.label) end
        end
      end
    end
    in_call = false
    if type(msg) == "table" then
      summary = msg
      count(msg.last_outcome)
      return
    end
    local tag, rest = msg:match("^(%S+)%s(.*)$")
    if tag == "H" then
      pid = math.tointeger(tonumber(rest))
    elseif tag == "S" then
      local i, ti, prev, label = rest:match("^(%d+)\t(%d+)\t(%S+)\t(.*)$")
      count(prev)
      current = {i = math.tointeger(tonumber(i)), t = ti, label = label}
      in_call = true
    elseif tag == "F" then
      local i, outcome, label, detail = rest:match("^(%d+)\t(%S+)\t([^\t]*)\t(.*)$")
      failures[#failures + 1] = {i = tonumber(i), outcome = outcome, label = label, detail = detail}
    elseif tag == "X" then
      failures[#failures + 1] = {outcome = "sweep error", label = phase, detail = rest}
    end
  end
  local hung = false
  while not summary do
    local wait = grace
    if in_call then wait = (blocked[current.t] or 0) >= 2 and known_budget or budget end
    local ok, msg = pcall(conn.recv, conn, wait)
    if ok then
      handle(msg)
    elseif tide.is_error(msg, "Timeout") then
      if not in_call then  -- the child's own code is stuck between calls
        hung = true
        break
      end
      if not conn:poll(0) then  -- it may have just finished
        os_.kill(pid, "SIGINT")
        sigints = sigints + 1
        local waiting = current
        local deadline = tide.monotonic() + grace
        while in_call and current == waiting and not summary do
          local left = deadline - tide.monotonic()
          local ok2, m2 = pcall(conn.recv, conn, math.max(left, 0))
          if ok2 then
            handle(m2)
          elseif tide.is_error(m2, "Timeout") then
            hung = true
            break
          else
            break  -- Closed: the child died
          end
        end
        if hung then break end
      end
    else
      break  -- Closed: the child ended (or died)
    end
  end
  if hung and pid then pcall(os_.kill, pid, "SIGKILL") end
  conn:close()
  local status = tonumber(status_pipe:read("a"):match("(%d+)%s*$"))
  status_pipe:close()
  if not summary then
    local what = hung and "hang" or "crash"
    failures[#failures + 1] = {i = current and current.i, outcome = what,
                               label = current and current.label or ("starting the " .. phase .. " child"),
                               detail = "exit status " .. tostring(status) .. " (log: " .. logfile .. ")"}
    counts[what] = counts[what] + 1
  end
  return summary, current, status
end

-- Phase 1: discovery writes the plan.
local plan_summary
for _ = 1, 3 do
  plan_summary = run_child("plan")
  if plan_summary then break end
end
if not plan_summary then
  for _, f in ipairs(failures) do print(string.format("FAILURE %s: %s\n    %s", f.outcome, f.label, f.detail or "")) end
  io.write(io.open(logfile) and io.open(logfile):read("a") or "", "\n")
  os.execute("rm -rf " .. shell_quote(dir))
  error("the sweep's discovery did not finish")
end
local plan = dofile(planfile)
local values = C.values()
local calls, targets = P.calls(plan, mode, #values)

-- Phase 2: the calls, in as many children as crashes and hangs need.
local first = 1
while first <= #calls do
  local summary, current = run_child("run", first)
  if summary then break end
  local stopped_at = current and current.i or first
  first = math.max(stopped_at, first) + 1
end

local elapsed = tide.monotonic() - started
local methods = 0
for _, cls in ipairs(plan.classes) do methods = methods + #cls.methods end
print(string.format("sweep (%s): %d modules, %d functions, %d classes with %d methods and metamethods, " ..
                    "%d returned functions = %d targets x %d bad values -> %d calls in %d children, %.1f s",
  mode, #plan.modules, #plan.functions, #plan.classes, methods, #plan.returned, #targets, #values, #calls,
  children, elapsed))
local parts = {}
for _, k in ipairs{"ok", "typed", "interrupted", "user", "setup", "skipped", "untyped", "badkind", "crash", "hang"} do
  parts[#parts + 1] = k .. " " .. counts[k]
end
print("outcomes: " .. table.concat(parts, ", ") .. string.format("; SIGINTs sent %d", sigints))
for _, f in ipairs(failures) do
  print(string.format("FAILURE %s at call %s: %s\n    %s", f.outcome, tostring(f.i), f.label, f.detail or ""))
end

T.test("discovery finds the modules, their functions and their classes", function()
  T.truthy(#plan.modules >= 10, "modules: " .. #plan.modules)
  T.truthy(#plan.functions >= 50, "functions: " .. #plan.functions)
  T.truthy(#plan.classes >= 15, "classes: " .. #plan.classes)
  local names = {}
  for _, m in ipairs(plan.modules) do names[m] = true end
  for _, m in ipairs(P.module_names()) do T.truthy(names[m], "module " .. m .. " swept") end
end)

T.test("every target is called, with bad values as self for every method", function()
  local seen, as_self = {}, {}
  for _, c in ipairs(calls) do
    seen[c.t] = true
    if c.shape == "self" then as_self[c.t] = true end
  end
  for ti, t in ipairs(targets) do
    T.truthy(seen[ti], P.target_label(plan, t))
    if t.kind == "method" then T.truthy(as_self[ti], P.target_label(plan, t) .. " with a bad self") end
  end
end)

T.test("no call crashed, hung, or raised an error that is not a typed tide error", function()
  T.eq(#failures, 0, "failures (listed above)")
  T.eq(counts.crash + counts.hang + counts.untyped + counts.badkind, 0)
end)

if os.getenv("TIDE_SWEEP_KEEP") then print("kept " .. dir) else os.execute("rm -rf " .. shell_quote(dir)) end
T.done()
