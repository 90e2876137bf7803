-- The tide.process seed examples (scripts/examples/process_*.lua), output
-- asserted. Lines whose order depends on scheduling are compared as sets.
local T = require "harness"
local root = os.getenv("TIDE_SOURCE_DIR") or "."

local function example(name)
  return T.run_tide(root .. "/scripts/examples/" .. name)
end

local function lines(s)
  local t = {}
  for l in s:gmatch("[^\n]+") do t[#t + 1] = l end
  return t
end

local function index_of(t, v)
  for i, x in ipairs(t) do if x == v then return i end end
end

T.test("process_pid: the child prints the pid the parent sees", function()
  local code, out, err = example("process_pid.lua")
  T.eq(code, 0, err)
  local child, parent = out:match("^hello bob from pid (%d+)\nchild pid (%d+)\n$")
  T.truthy(child, out)
  T.eq(child, parent)
end)

T.test("process_two: two processes, both joined", function()
  local code, out, err = example("process_two.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 3)
  T.truthy(index_of(l, "worker 1 done") and index_of(l, "worker 2 done"), out)
  T.eq(l[3], "joined\t30")
end)

T.test("process_run_method: a target object with a run method", function()
  local code, out, err = example("process_run_method.lua")
  T.eq(code, 0, err)
  T.eq(out, "Hello, world (in greeter)\nrun returned 5\n")
end)

T.test("process_queue: the parent prints what the child put", function()
  local code, out, err = example("process_queue.lua")
  T.eq(code, 0, err)
  T.eq(out, "42\tnil\thello\n")
end)

T.test("process_condition_stages: stage 2 runs only after stage 1", function()
  local code, out, err = example("process_condition_stages.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 6, out)
  local ready = index_of(l, "s1 done and ready for stage 2")
  T.truthy(ready and index_of(l, "Starting s1") < ready, out)
  for i = 1, 2 do
    T.truthy(index_of(l, "Starting stage_2[" .. i .. "]"), out)
    local running = index_of(l, "stage_2[" .. i .. "] running")
    T.truthy(running and running > ready, out)
  end
end)

T.test("process_lock_print: 20 whole lines, each number once", function()
  local code, out, err = example("process_lock_print.lua")
  T.eq(code, 0, err)
  local l = lines(out)
  T.eq(#l, 20, out)
  local seen = {}
  for _, line in ipairs(l) do
    local n = tonumber(line:match("^Hello Num: (%d+)$"))
    T.truthy(n and n >= 1 and n <= 20 and not seen[n], "line " .. line)
    seen[n] = true
  end
end)

T.test("process_terminate: terminate() gives exitcode -15", function()
  local code, out, err = example("process_terminate.lua")
  T.eq(code, 0, err)
  T.eq(out, "BEFORE:\tfalse\nDURING:\ttrue\nJOINED:\tfalse\nexitcode:\t-15\n")
end)

T.test("process_pipe: parent and child exchange greetings over a duplex Pipe", function()
  local code, out, err = example("process_pipe.lua")
  T.eq(code, 0, err)
  T.eq(out, "parent got: hello, father\nchild got: hello, son\nchild exit code 0\n")
end)

T.done()
