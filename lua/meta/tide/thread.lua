---@meta tide.thread

local tide = {}

---Threads: each runs a function in its own Lua state, in parallel with the others. The function and its arguments are copied into the thread; its return values come back from `join`.
---@class tide.thread
tide.thread = {}

---The options of `thread.Thread{...}`.
---@class tide.thread.ThreadOptions
---@field target function The function the thread runs (required).
---@field args? any[] Its arguments, copied into the thread (`args.n` counts trailing nils).
---@field name? string The thread's name; `"Thread-N"` when nil.
---@field daemon? boolean A daemon thread is cancelled at host exit instead of joined (default false).

---What `t:status()` returns.
---@alias tide.thread.Status
---| "new" # Created, not started.
---| "running" # Started and not finished.
---| "completed" # The function returned.
---| "failed" # The function raised an error.
---| "cancelled" # The thread was cancelled.

---A thread running a Lua function in its own Lua state. Handles are equal (`==`) when they name the same thread, and can be passed to other threads (not to queues or processes).
---@class tide.thread.Thread
---@field name string The thread's name (assignable).
---@field ident? integer The native thread id (the kernel's tid) while it runs; nil before it starts.
---@field daemon boolean Whether the thread is cancelled rather than joined at host exit (assignable until it starts).
local Thread = {}

---A thread that runs its function once after a delay, unless cancelled first (Python's `threading.Timer`); `join()` after `cancel()` returns nothing.
---@class tide.thread.Timer: tide.thread.Thread
local Timer = {}

---Starts `fn(...)` in a new thread at once.
---@param fn function The function to run; it and its arguments are copied into the thread.
---@param ... any Arguments for `fn`.
---@return tide.thread.Thread thread The started thread.
function tide.thread.spawn(fn, ...) end

---Creates a thread that is not started yet; call `t:start()`.
---@param opts tide.thread.ThreadOptions The target, its arguments, name and daemon flag.
---@return tide.thread.Thread thread The new, unstarted thread.
function tide.thread.Thread(opts) end

---Creates a timer that runs `fn(...)` `interval` seconds after `start()` (Python's `threading.Timer`).
---@param interval number Seconds to wait after `start()`, >= 0.
---@param fn function The function to run.
---@param ... any Arguments for `fn`.
---@return tide.thread.Timer timer The new, unstarted timer.
function tide.thread.Timer(interval, fn, ...) end

---The thread running the caller (the main state's is named `"MainThread"`).
---@return tide.thread.Thread thread The current thread.
function tide.thread.current() end

---The main thread (the one that started the host).
---@return tide.thread.Thread thread The main thread.
function tide.thread.main() end

---Whether the caller runs in the main thread.
---@return boolean is True in the main thread.
function tide.thread.is_main() end

---The number of threads alive, the main thread included.
---@return integer count The number of live threads.
function tide.thread.active_count() end

---The threads alive, the main thread included.
---@return tide.thread.Thread[] threads An array of the live threads.
function tide.thread.enumerate() end

---Sleeps for `seconds` (same as `tide.sleep`); cancellable.
---@param seconds number How long to sleep, >= 0.
function tide.thread.sleep(seconds) end

---Lets other threads run (`sched_yield`), and raises `Cancelled` if this thread is being cancelled.
function tide.thread.yield() end

---Starts the thread; raises `InvalidState` if it was started before.
function Thread:start() end

---Waits for the thread to finish and returns the function's return values. Raises `Timeout` if not done in time, `RemoteError` if the function raised (cause: its error), `Cancelled` if it was cancelled, `InvalidState` before `start()` or when joining itself.
---@param timeout? number Seconds to wait; forever when nil.
---@return any ... The function's return values, in order.
function Thread:join(timeout) end

---Waits for the thread to finish, however it ends; never raises the thread's own error.
---@param timeout? number Seconds to wait; forever when nil.
---@return boolean finished True when finished, false on timeout.
function Thread:wait(timeout) end

---Whether the thread has started and not yet finished.
---@return boolean alive True while it runs.
function Thread:is_alive() end

---The thread's state.
---@return tide.thread.Status status `"new"`, `"running"`, `"completed"`, `"failed"` or `"cancelled"`.
function Thread:status() end

---Cancels the thread cooperatively: it raises `Cancelled` at its next tide blocking call or within about a hundred Lua instructions (a Timer not yet fired never runs).
function Thread:cancel() end

return tide.thread
