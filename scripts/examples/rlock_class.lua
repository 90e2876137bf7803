-- Port of the "Lock vs RLock" seed: an object whose changeAandB holds its
-- lock while calling changeA and changeB, which take the same lock. With a
-- plain Lock this would deadlock; an RLock lets the owner re-enter.
local thread = require "tide.thread"
local sync = require "tide.sync"
local shared = require "tide.shared"

local X = {}
X.__index = X

function X.new()
  -- a and b are shared Values so the object also works when passed to threads
  return setmetatable({a = shared.Value("i", 1), b = shared.Value("i", 2), lock = sync.RLock()}, X)
end

function X:changeA()
  self.lock:with(function() self.a.value = self.a.value + 1 end)
end

function X:changeB()
  self.lock:with(function() self.b.value = self.b.value + self.a.value end)
end

function X:changeAandB()
  self.lock:with(function()
    self:changeA()       -- a plain Lock would block here
    self:changeB()
  end)
end

local x = X.new()
x:changeAandB()
print("after changeAandB in the main thread:", x.a.value, x.b.value)

-- The same object from two threads. Metatables do not travel, so each
-- thread gives its copy of the table the class again (X is an upvalue);
-- the Values and the RLock inside are the same shared objects.
local threads = {}
for i = 1, 2 do
  threads[i] = thread.spawn(function(obj)
    setmetatable(obj, X)
    for _ = 1, 100 do obj:changeAandB() end
  end, x)
end
for _, t in ipairs(threads) do t:join() end
print("after 200 more calls from two threads:", x.a.value)
