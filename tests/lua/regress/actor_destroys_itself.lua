-- An actor's method may destroy its own actor: a thread actor cannot wait
-- for its own worker to stop (Pool::shutdown's wait would raise
-- InvalidState from that worker), and a process actor's worker is not the
-- owner (it can only ask). Either way the call returns, __pre_destroy runs
-- after it, and later calls raise WorkerDied.
local T = require "harness"
local actor = require "tide.actor"
local queue = require "tide.queue"

local A = {}
function A:__init(me, log) self.me, self.log = me, log end
function A:quit()
  require("tide.actor").destroy(self.me:get())
  return "asked"
end
function A:__pre_destroy() self.log:put("bye") end

for _, where in ipairs{"thread", "process"} do
  T.test(where .. " actor: a method that destroys its own actor returns; then __pre_destroy", function()
    local me, log = queue.Queue(), queue.Queue()
    local a = actor.spawn(A, {me, log}, {where = where})
    me:put(a)
    T.eq(a:quit():result(), "asked")
    T.eq(log:get(), "bye")
    T.raises("WorkerDied", "destroyed", a.call, a, "quit")
    T.falsy(a:is_alive())
    actor.destroy(a)
  end)
end

T.done()
