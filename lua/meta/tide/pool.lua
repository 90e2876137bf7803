---@meta tide.pool
-- LuaLS annotations for tide.pool (API.md §6; README "Process pools").

---Pools of warm workers, threads or processes, that hand back futures (API.md §6).
---@class tide.pool
local pool = {}

---Options shared by both kinds of pool.
---@class tide.pool.Options
---@field workers? integer Number of workers: 1..4096 threads, 1..1024 processes (default: `tide.cpu_count()`).
---@field initializer? function Runs once in each worker before its first task; raising breaks the pool (`BrokenPool`, the error as `cause`).
---@field initargs? table Arguments for `initializer` (an array; `n` field honoured).
---@field max_tasks_per_worker? integer Replace a worker (fresh Lua state, or fresh process) after this many tasks.
---@field name? string Pool name (default "ThreadPool-N" / "ProcessPool-N"); workers are named "<name>_<n>".

---Options of a process pool.
---@class tide.pool.ProcessOptions: tide.pool.Options
---@field start_method? "fork"|"spawn"|"forkserver" How worker processes start (default: `tide.process.get_start_method()`).
---@field retries? integer Extension: run a task whose worker died again, up to this many times (0..1000, default 0), before failing it with `WorkerDied`.
---@field task_timeout? number Extension: seconds a task may run; past it its worker is killed, the task fails with `Timeout` and the worker is replaced.

---Options of `map`, `starmap`, `imap` and `imap_unordered`.
---@class tide.pool.MapOptions
---@field chunksize? integer Items per task (default: about #list / (4 × workers) for map, 1 for imap).
---@field timeout? number map/starmap: seconds for all results; `Timeout` then, and chunks not yet started are cancelled.
---@field progress? boolean map/starmap: draw a progress bar with rate and ETA on stderr when it is a terminal.
---@field indexed? boolean imap/imap_unordered: yield `index, value` instead of `value, index`.

---Options of `apply_async`.
---@class tide.pool.ApplyOptions
---@field callback? fun(...: any) Called with the results, in this state, at its next tide wait or `future.poll()`.
---@field error_callback? fun(err: any) Called with the error instead when the task fails.

---Options of `shutdown`.
---@class tide.pool.ShutdownOptions
---@field wait? boolean Wait until every worker has finished (default true).
---@field cancel_futures? boolean Cancel the tasks not yet started (default false).

---A pool of warm worker threads, each with its own Lua state; `ProcessPool` has the same methods.
---@class tide.pool.ThreadPool
---@field name string The pool's name.
---@field workers integer The number of workers.
local Pool = {}

---Queues `fn(...)`; returns its Future. `InvalidState` after shutdown, `BrokenPool` once broken;
---for a process pool `TransferError` if an argument cannot cross processes.
---@param fn function The task (copied to the worker with its upvalues).
---@param ... any Its arguments.
---@return tide.future.Future future The task's Future.
function Pool:submit(fn, ...) end

---`fn` over `list` in chunks; the results in order. Raises `RemoteError` naming the failing item (`e.index`).
---@param fn function Called with each item.
---@param list any[] The items.
---@param opts? tide.pool.MapOptions Chunk size, timeout, progress bar.
---@return any[] results The results, in input order.
function Pool:map(fn, list, opts) end

---`fn(table.unpack(args))` for each argument array of `list`; the results in order.
---@param fn function Called with each argument array unpacked.
---@param list any[][] The argument arrays.
---@param opts? tide.pool.MapOptions Chunk size, timeout, progress bar.
---@return any[] results The results, in input order.
function Pool:starmap(fn, list, opts) end

---Lazy map over an array or an iterator function; yields `value, index` in input order.
---@param fn function Called with each item.
---@param src any[]|fun(): any The items: an array or an iterator function (read lazily).
---@param opts? tide.pool.MapOptions Chunk size, indexed.
---@return fun(): any, integer iterator Yields each result and its index.
function Pool:imap(fn, src, opts) end

---As `imap`, in completion order.
---@param fn function Called with each item.
---@param src any[]|fun(): any The items: an array or an iterator function (read lazily).
---@param opts? tide.pool.MapOptions Chunk size, indexed.
---@return fun(): any, integer iterator Yields each result and its index.
function Pool:imap_unordered(fn, src, opts) end

---`fn(...)` in a worker; its results (raises its error as `RemoteError`).
---@param fn function The task.
---@param ... any Its arguments.
---@return any ... results The task's results.
function Pool:apply(fn, ...) end

---`fn(table.unpack(args))` in a worker; its Future, with optional callbacks.
---@param fn function The task.
---@param args? any[] Its arguments, as an array.
---@param opts? tide.pool.ApplyOptions Result and error callbacks.
---@return tide.future.Future future The task's Future.
function Pool:apply_async(fn, args, opts) end

---Stops accepting tasks; queued ones still run unless `cancel_futures`. Idempotent.
---With `wait`, returns once every worker Thread has finished and every worker process is reaped.
---@param opts? tide.pool.ShutdownOptions Whether to wait, and whether to cancel queued tasks.
function Pool:shutdown(opts) end

---`shutdown{wait=false}` (Python's `Pool.close`).
function Pool:close() end

---Waits for the workers after `close`/`shutdown` (`InvalidState` before); false on timeout.
---@param timeout? number Seconds to wait (nil: for ever).
---@return boolean finished True once every worker has finished.
function Pool:join(timeout) end

---Cancels queued tasks and stops running ones (threads: cooperatively; processes: SIGTERM,
---then SIGKILL); their futures fail with `Cancelled`. Waits for the workers.
function Pool:terminate() end

---A pool whose workers are processes (each with its own warm Lua state).
---@class tide.pool.ProcessPool: tide.pool.ThreadPool
---@field start_method "fork"|"spawn"|"forkserver" How its workers start.

---A thread pool; `<close>` shuts it down with wait (terminates it when left by Ctrl-C).
---@param opts? tide.pool.Options Workers, initializer, name, max tasks per worker.
---@return tide.pool.ThreadPool pool The new pool, its workers started.
function pool.ThreadPool(opts) end

---A process pool; `<close>` shuts it down with wait (terminates it when left by Ctrl-C).
---A task whose worker dies fails with `WorkerDied` (fields `exitcode`, `signal`); the worker is replaced.
---@param opts? tide.pool.ProcessOptions As for ThreadPool, plus start method, retries, task timeout.
---@return tide.pool.ProcessPool pool The new pool, its workers starting.
function pool.ProcessPool(opts) end

---The shared ThreadPool of this process, sized to the CPU count.
---@return tide.pool.ThreadPool pool The default pool.
function pool.default() end

return pool
