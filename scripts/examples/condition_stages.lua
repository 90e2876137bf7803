-- Port of the Condition seed (stage_1 / stage_2), with threads: two stage-2
-- workers wait on a Condition until the stage-1 worker says it is done. The
-- seed slept so the stage-2 workers would be waiting first; here they wait
-- for a flag under the condition (wait_for), so any start order is correct.
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local function stage_1(cond, done)
  local name = thread.current().name
  print("Starting " .. name)
  cond:with(function()
    print(name .. " done and ready for stage 2")
    done.value = true
    cond:notify_all()
  end)
end

local function stage_2(cond, done)
  local name = thread.current().name
  cond:with(function()
    cond:wait_for(function() return done.value end)
    print(name .. " running")
  end)
end

local condition = sync.Condition()
local done = shared.Value("bool", false)
local s2 = {}
for i = 1, 2 do
  s2[i] = thread.Thread{target = stage_2, args = {condition, done}, name = string.format("stage_2[%d]", i)}
  s2[i]:start()
end
local s1 = thread.Thread{target = stage_1, args = {condition, done}, name = "s1"}
s1:start()
s1:join()
for _, t in ipairs(s2) do t:join() end
