-- Port of the multiprocessing Condition seed: one stage-1 process does its
-- work and notifies; two stage-2 processes wait for it. A shared flag makes
-- the order deterministic (wait_for), where the Python seed sleeps.
local process = require "tide.process"
local sync = require "tide.sync"
local shared = require "tide.shared"

local function stage_1(cond, ready)
  local name = require("tide.process").current().name
  print("Starting " .. name)
  cond:with(function()
    print(name .. " done and ready for stage 2")
    ready.value = true
    cond:notify_all()
  end)
end

local function stage_2(cond, ready)
  local name = require("tide.process").current().name
  print("Starting " .. name)
  cond:with(function()
    cond:wait_for(function() return ready.value end)
    print(name .. " running")
  end)
end

local cond, ready = sync.Condition(), shared.Value("bool", false)
local s1 = process.Process{name = "s1", target = stage_1, args = {cond, ready}}
local s2 = {}
for i = 1, 2 do
  s2[i] = process.Process{name = "stage_2[" .. i .. "]", target = stage_2, args = {cond, ready}}
end
for _, p in ipairs(s2) do p:start() end
s1:start()
s1:join()
for _, p in ipairs(s2) do p:join() end
