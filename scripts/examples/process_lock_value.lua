-- Port of the multiprocessing Lock seed (plock.py): two forked processes,
-- one adding 1 a thousand times and one subtracting 1, each step under a
-- Lock, on a shared Value. The same tide objects work in both processes.
local os_ = require "tide.os"
local sync = require "tide.sync"
local shared = require "tide.shared"

local shared_variable = shared.Value("i", 0)
local lock = sync.Lock()

local function process_with_lock(op, name)
  for i = 1, 1000 do
    lock:with(function()
      local temp = op == "add" and shared_variable.value + 1 or shared_variable.value - 1
      shared_variable.value = temp
    end)
    if i % 500 == 0 then print(name, i) end
  end
end

local children = {}
for _, spec in ipairs{{"add", "process-1"}, {"sub", "process-2"}} do
  local pid = os_.fork()
  if pid == 0 then
    process_with_lock(spec[1], spec[2])
    os_._exit(0)
  end
  children[#children + 1] = pid
end
for _, pid in ipairs(children) do
  local _, status = os_.waitpid(pid, 0)
  assert(os_.waitstatus_to_exitcode(status) == 0, "child failed")
end
print("Final value of shared_variable:", shared_variable.value)
