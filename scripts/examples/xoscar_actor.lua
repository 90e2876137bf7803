-- Port of the xoscar seed (an actor framework: a class whose methods run
-- in the actor's own worker and are called remotely through a reference).
-- The seed's MyActor with __init__, __post_create__, __pre_destroy__ and a
-- plain and an async method, created with a unique name, and a method
-- invoked with `.send`. Here the actor is a process (where="process"); its
-- hooks print from inside it, so the order of the lines is the mailbox's.
--   tide scripts/examples/xoscar_actor.lua
local actor = require "tide.actor"
local process = require "tide.process"

-- The actor's class: a table of methods (xoscar's xo.Actor subclass).
local MyActor = {}

function MyActor:__init(arg_1, arg_2, kw)
  self.args = {arg_1, arg_2, kw.a, kw.b}
  self.calls = 0
end

function MyActor:__post_create()  -- called after created
  local where = process.current().pid == self.spawner and "the spawner's process" or "a process of its own"
  print(("post_create in %s: args %s"):format(where, table.concat(self.args, ",")))
end

function MyActor:__pre_destroy()  -- called before destroy
  print(("pre_destroy after %d calls"):format(self.calls))
end

-- A user-defined method.
function MyActor:method_a(arg_1, arg_2, kw_1)
  self.calls = self.calls + 1
  return arg_1 + arg_2 + kw_1.a + kw_1.b
end

-- The seed's async method: it waits on another actor call, a future, as
-- an xoscar coroutine awaits one.
function MyActor:method_b(other, x)
  self.calls = self.calls + 1
  return other:call("method_a", x, x, {a = 0, b = 0}):result() * 10
end

-- Create actors (xo.create_actor(MyActor, 1, 2, a=1, b=2, uid=...)).
MyActor.spawner = process.current().pid
local actor_ref = actor.spawn(MyActor, {1, 2, {a = 1, b = 2}}, {where = "process", name = "UniqueActorName"})
local helper = actor.spawn(MyActor, {3, 4, {a = 5, b = 6}}, {name = "Helper"})

-- Invoke a method (await actor_ref.method_a.send(1, 2, a=1, b=2)).
print(actor_ref.name, actor_ref:call("method_a", 1, 2, {a = 1, b = 2}):result())
print("sugar", actor_ref:method_a(10, 20, {a = 1, b = 2}):result())
print("method_b", actor_ref:method_b(helper, 4):result())

actor.destroy(actor_ref)
actor.destroy(helper)
print("alive", actor_ref:is_alive())
