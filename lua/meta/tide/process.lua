---@meta tide.process

local tide = {}

---Child processes running Lua functions (Python's `multiprocessing.Process`). Every start method runs the target in a fresh Lua state with copies of its function and arguments; tide objects in the arguments are shared. Children die with their parent.
---@class tide.process
tide.process = {}

---How a child process starts: `"fork"` (fork the caller), `"spawn"` (a fresh `tide` process), `"forkserver"` (fork from a single-threaded server; the default, safe while threads run).
---@alias tide.process.StartMethod
---| "fork" # Fork the calling process.
---| "spawn" # Start a fresh `tide --worker` process that receives the function.
---| "forkserver" # Fork from a single-threaded `tide --forkserver` started on first use (the default).

---A target object for `Process{target=obj}` / `process.spawn(obj, ...)`: the child calls `obj:run(...)` (its metatable travels with it).
---@class tide.process.Runnable
---@field run fun(self: tide.process.Runnable, ...: any): ... The method the child runs.

---The options of `process.Process{...}`.
---@class tide.process.ProcessOptions
---@field target function|tide.process.Runnable The function to run, or an object with a `run` method (required).
---@field args? any[] Its arguments, copied into the child (`args.n` counts trailing nils).
---@field name? string The process's name; `"Process-N"` when nil.
---@field daemon? boolean A daemon child is terminated when its parent exits instead of joined (default false).
---@field start_method? tide.process.StartMethod How to start it; the default start method when nil.

---What `process.current()` returns.
---@class tide.process.ProcessInfo
---@field name string The process's name (`"MainProcess"` in one tide did not start).
---@field pid integer Its process id.

---What `process.parent()` returns.
---@class tide.process.ParentInfo
---@field pid integer The parent's process id.

---A child process. Closing it (`<close>`) terminates a child still running, reaps it and releases the handle. Handles of one process are equal (`==`).
---@class tide.process.Process
---@field name string The process's name (assignable).
---@field pid? integer The child's process id; nil before `start()`.
---@field ident? integer The same as `pid` (Python's alias).
---@field exitcode? integer The exit status; nil while running, `-N` when killed by signal N.
---@field daemon boolean Whether it is terminated rather than joined at exit (assignable until it starts).
---@field start_method tide.process.StartMethod How it starts.
local Process = {}

---Creates a process that is not started yet; call `p:start()`.
---@param opts tide.process.ProcessOptions The target, its arguments, name, daemon flag and start method.
---@return tide.process.Process p The new, unstarted process.
function tide.process.Process(opts) end

---Starts `fn(...)` in a new child process at once, with the default start method.
---@param fn function|tide.process.Runnable The function to run, or an object with a `run` method.
---@param ... any Arguments for `fn`, copied into the child.
---@return tide.process.Process p The started process.
function tide.process.spawn(fn, ...) end

---The calling process's name and pid.
---@return tide.process.ProcessInfo info `{name=, pid=}`.
function tide.process.current() end

---The process that started this one, or nil in a process tide did not start.
---@return tide.process.ParentInfo? info `{pid=}`, or nil.
function tide.process.parent() end

---The children started by this process that are still alive.
---@return tide.process.Process[] children An array of live children.
function tide.process.active_children() end

---The number of CPUs online (same as `tide.cpu_count()`).
---@return integer count The number of online CPUs.
function tide.process.cpu_count() end

---Sets the default start method for later processes.
---@param method tide.process.StartMethod `"fork"`, `"spawn"` or `"forkserver"`.
function tide.process.set_start_method(method) end

---The default start method.
---@return tide.process.StartMethod method The current default.
function tide.process.get_start_method() end

---Every start method this platform supports.
---@return tide.process.StartMethod[] methods `{"fork", "spawn", "forkserver"}`.
function tide.process.get_all_start_methods() end

---Internal (for tide's own tests): sends a forkserver request signed with `key`.
---@private
---@param key string The key to sign with.
---@return "accepted"|"refused"|"failed" answer What the forkserver did.
function tide.process._forkserver_probe(key) end

---Starts the child; raises `InvalidState` if it was started before.
function Process:start() end

---Waits for the child and returns the target's return values. Raises `Timeout` if not done in time, `RemoteError` if the target raised, `WorkerDied` if the child died without a result, `InvalidState` before `start()`.
---@param timeout? number Seconds to wait; forever when nil.
---@return any ... The target's return values, in order.
function Process:join(timeout) end

---Waits for the child to end, however it ends; raises `InvalidState` before `start()`.
---@param timeout? number Seconds to wait; forever when nil.
---@return boolean finished True when it has ended, false on timeout.
function Process:wait(timeout) end

---Whether the child has started and not yet ended.
---@return boolean alive True while it runs.
function Process:is_alive() end

---Sends SIGTERM to the child; raises `InvalidState` before `start()`.
function Process:terminate() end

---Sends SIGKILL to the child; raises `InvalidState` before `start()`.
function Process:kill() end

---Releases the process's resources and the handle; raises `InvalidState` while the child runs. Closing twice is fine.
function Process:close() end

return tide.process
