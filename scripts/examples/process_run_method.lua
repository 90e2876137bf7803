-- Port of the seed "a Process whose target is defined in a class with a run
-- method". In Lua: any object (table) with a `run` method is a target; it is
-- copied to the child with its metatable, so run can use other methods.
local process = require "tide.process"

local Greeter = {}
Greeter.__index = Greeter

function Greeter.new(greeting) return setmetatable({greeting = greeting}, Greeter) end
function Greeter:message(who) return self.greeting .. ", " .. who end
function Greeter:run(who)
  print(self:message(who) .. " (in " .. require("tide.process").current().name .. ")")
  return #who
end

local p = process.Process{target = Greeter.new("Hello"), args = {"world"}, name = "greeter"}
p:start()
print("run returned " .. p:join())
