---@meta tide.actor
-- LuaLS annotations for tide.actor (API.md §16; README "Actors").

---Actors: stateful objects living in their own worker (a thread, or a process of any start method) whose methods are called through a mailbox and return futures (API.md §16; xoscar's and Ray's model).
---@class tide.actor
local actor = {}

---The options of `actor.spawn`.
---@class tide.actor.SpawnOptions
---@field where? "thread"|"process" Where the actor runs (default `"thread"`): a worker thread of this process, or a worker process.
---@field start_method? "fork"|"spawn"|"forkserver" How a process actor starts (default: `tide.process.get_start_method()`); only with `where="process"`.
---@field name? string The actor's name (default "Actor-N"); its worker is named "<name>_<n>".
---@field restart? boolean Extension: when a process actor's process dies, start it again from `__init` with its arguments (default false: the actor is dead).

---The definition of an actor: a table of methods, each called as `method(self, ...)` in the actor's worker, where `self` is the actor's own table (its fields persist between calls; its metatable's `__index` is the definition). It is copied to the worker like any transferred table (functions with their upvalues by value).
---@class tide.actor.Definition
---@field __init? fun(self: table, ...: any) Runs first, with the `args` of `spawn`; raising makes `spawn` raise `RemoteError`.
---@field __post_create? fun(self: table) Runs after `__init`, before `spawn` returns.
---@field __pre_destroy? fun(self: table) Runs in the worker after the last call, on `actor.destroy(ref)` or at the exit of the process that spawned the actor (not when its process died).

---A reference to an actor: calls queue on its mailbox and are served one at a time, in arrival order. Transferable to threads, pool tasks, processes (every start method), queues and pipes; refs of one actor are equal (`==`). Besides the methods below, `ref:method(...)` is short for `ref:call("method", ...)` for any name not starting with `_` and not naming a method or field of the ref.
---@class tide.actor.ActorRef
---@field name string The actor's name.
---@field where "thread"|"process" Extension: where the actor runs.
local ActorRef = {}

---Starts an actor: a worker (thread or process) with a fresh Lua state, in which `def.__init(self, ...)` runs with `args`, then `def.__post_create(self)`; returns once both have run. The actor lives until `actor.destroy(ref)` or the exit of this process (collecting its refs does not end it).
---@param def tide.actor.Definition The actor's methods and hooks.
---@param args? table The arguments of `__init` (an array; `n` field honoured).
---@param opts? tide.actor.SpawnOptions Where it runs, its name, restart.
---@return tide.actor.ActorRef ref The actor.
function actor.spawn(def, args, opts) end

---Ends an actor: calls already queued are served, then `__pre_destroy` runs and the worker stops; later calls raise `WorkerDied`. Waits for that in the process that spawned the actor (except when called from the actor's own method); from another process it only asks. Idempotent.
---@param ref tide.actor.ActorRef The actor.
function actor.destroy(ref) end

---Internal: the initializer of an actor's worker (makes `self`, runs `__init` and `__post_create`).
---@private
---@param def table The definition.
---@param args? table The arguments of `__init`.
function actor._main(def, args) end

---Internal: what a call runs in the actor's worker, `self[method](self, ...)`; with no arguments, nothing.
---@private
---@param method? string The method name.
---@param ... any Its arguments.
---@return any ... The method's results.
function actor._dispatch(method, ...) end

---Calls a method: queues `method(self, ...)` on the actor's mailbox. The primary form; `ref:method(...)` is the same. Raises `WorkerDied` at once when the actor is dead or destroyed, `TransferError` when an argument cannot reach its worker.
---@param method string The method's name (names starting with `__` are hooks, not callable).
---@param ... any The method's arguments.
---@return tide.future.Future future Completes with the method's results; fails with `RemoteError` if it raised (the actor keeps its state) or `WorkerDied` if the actor's process died.
function ActorRef:call(method, ...) end

---Calls a method without a future (fire and forget): its results and errors are dropped. Raises as `call` does.
---@param method string The method's name.
---@param ... any The method's arguments.
function ActorRef:tell(method, ...) end

---Whether the actor is alive: neither destroyed nor dead.
---@return boolean alive True while calls are served.
function ActorRef:is_alive() end

return actor
