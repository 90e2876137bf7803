---@meta tide.future

local tide = {}

---Futures: results that arrive later (from pools, or completed by hand), and waiting for many of them. A future lives in shared memory: it can be passed to a thread or fork child and completed there.
---@class tide.future
tide.future = {}

---The options of `future.wait(futs, opts)`.
---@class tide.future.WaitOptions
---@field timeout? number Seconds to wait; forever when nil (a timeout returns, it does not raise).
---@field return_when? "ALL_COMPLETED"|"FIRST_COMPLETED"|"FIRST_EXCEPTION" When to return (default `"ALL_COMPLETED"`); `FIRST_EXCEPTION` returns at the first failure, or when all are done.

---The result of a computation that may not have finished. Handles of one future are equal (`==`).
---@class tide.future.Future
local Future = {}

---Creates a pending future, completed by `f:set_result(...)` or `f:set_exception(e)`.
---@return tide.future.Future f The new future.
function tide.future.new() end

---An iterator over `futs` yielding each future once, in the order they finish. Raises `Timeout` mid-iteration at the deadline.
---@param futs tide.future.Future[] The futures (duplicates count once).
---@param timeout? number Seconds from now for the whole iteration; forever when nil.
---@return fun(): tide.future.Future? iterator Returns the next finished future, nil when all were yielded.
function tide.future.as_completed(futs, timeout) end

---Waits for futures (Python's `concurrent.futures.wait`); never raises `Timeout`.
---@param futs tide.future.Future[] The futures (duplicates count once).
---@param opts? tide.future.WaitOptions The timeout and when to return.
---@return tide.future.Future[] done The futures done, in list order.
---@return tide.future.Future[] not_done The futures not done.
function tide.future.wait(futs, opts) end

---Waits for all `futs` and returns the first result of each, in list order; raises the error of the first failed one (in list order).
---@param futs tide.future.Future[] The futures.
---@return any[] results The first result of each future.
function tide.future.gather(futs) end

---Runs the done callbacks that are due in this Lua state, without blocking.
function tide.future.poll() end

---Whether the future has finished (completed, failed or cancelled).
---@return boolean done True when finished.
function Future:done() end

---Whether a worker is running the future's task now.
---@return boolean running True while running.
function Future:running() end

---Whether the future was cancelled.
---@return boolean cancelled True when cancelled.
function Future:cancelled() end

---Cancels the future if it has not started running.
---@return boolean cancelled True if this call cancelled it; false when it is running or already finished (cancelled included).
function Future:cancel() end

---Waits for the future and returns its values. Raises `Timeout` if not done in time, `RemoteError` for a task's error (cause: the error value), the error itself when `set_exception` got a tide error, `Cancelled` when cancelled.
---@param timeout? number Seconds to wait; forever when nil.
---@return any ... The values, in order.
function Future:result(timeout) end

---Waits for the future and returns the error `result()` would raise, or nil when it completed. Raises `Timeout` if not done in time, `Cancelled` when cancelled.
---@param timeout? number Seconds to wait; forever when nil.
---@return tide.Error|any|nil err The error, nil on success.
function Future:exception(timeout) end

---Completes the future with values; raises `InvalidState` when it is already done.
---@param ... any The values `result()` returns (copied).
function Future:set_result(...) end

---Fails the future with an error value; raises `InvalidState` when it is already done.
---@param err any The error; a tide error is raised as it is by `result()`, any other value as the cause of a `RemoteError`.
function Future:set_exception(err) end

---Calls `fn(f)` once the future is done: in the Lua state that added it, at its next tide wait, `future.poll()` or loop turn (at once if already done). Errors in `fn` are logged.
---@param fn fun(f: tide.future.Future) The callback.
function Future:add_done_callback(fn) end

return tide.future
