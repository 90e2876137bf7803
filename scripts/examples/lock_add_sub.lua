-- Port of the Lock / RLock seed (tlock.py): one thread adds 1 a thousand
-- times, another subtracts 1 a thousand times, each step under a lock. The
-- Python seed shared a global; tide threads have their own globals, so the
-- shared counter is a tide.shared.Value. Run with "rlock" to use an RLock.
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local kind = arg and arg[1] or "lock"
local lock = kind == "rlock" and sync.RLock() or sync.Lock()
local shared_variable = shared.Value("i", 0)

local function worker(op, name)
  for i = 1, 1000 do
    lock:acquire()
    local ok, err = pcall(function()
      local temp
      if op == "add" then temp = shared_variable.value + 1
      elseif op == "sub" then temp = shared_variable.value - 1
      else error("unknown op " .. tostring(op)) end
      thread.yield()                   -- give the other thread a chance to race (it cannot: we hold the lock)
      shared_variable.value = temp
    end)
    lock:release()
    if not ok then error(err, 0) end
    if i % 200 == 0 then print(name, i) end
  end
end

local t1 = thread.Thread{target = worker, args = {"add", "thread-1"}}
local t2 = thread.Thread{target = worker, args = {"sub", "thread-2"}}
t1:start(); t2:start()
t1:join(); t2:join()
print("Final value of shared_variable:", shared_variable.value)
