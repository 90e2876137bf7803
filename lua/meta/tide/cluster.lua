---@meta tide.cluster
-- LuaLS annotations for tide.cluster (API.md §17; README "Cluster pools").

---A pool whose workers are `tide worker` processes on any machine that reaches one Redis (API.md §17).
---Tasks and results travel on Redis Streams, each signed with a shared key (HMAC-SHA256, timestamp, nonce);
---delivery is at least once, so tasks should be idempotent.
---@class tide.cluster
local cluster = {}

---Options of `cluster.Pool`.
---@class tide.cluster.Options
---@field url string `redis://[user:password@]host[:port][/db]` (required); user and password are sent with AUTH.
---@field queue? string The queue's name (default "default"): 1..200 printable characters, no spaces or braces.
---@field key? string The shared key (at least 16 bytes) that signs every task and result.
---@field key_file? string A file holding the key (one trailing newline is dropped); `OSError` if unreadable.
---@field max_deliveries? integer Deliveries of a task (1..1000, default 3) before its Future fails with `WorkerDied` and it is dead-lettered.
---@field name? string The pool's name (default "ClusterPool-N"), in logs.
---@field connect_timeout? number Seconds to connect and for Redis to answer (default 5); past it `OSError` (ETIMEDOUT).

---Options of `shutdown`.
---@class tide.cluster.ShutdownOptions
---@field wait? boolean Wait until every pending result has arrived (default true).
---@field cancel_futures? boolean Cancel the tasks not yet delivered: their futures are cancelled, their entries deleted (default false).

---A client of one cluster queue; its futures are ordinary tide Futures.
---@class tide.cluster.Pool
---@field name string The pool's name.
---@field queue string The queue it submits to.
---@field url string Where Redis is (`host:port`, without credentials).
---@field id string This client's id (`host:pid:random`): its result stream is `tide:{queue}:results:<id>`.
---@field workers integer The worker loops serving the queue, as last counted from their heartbeats (0 when none is known yet).
---@field pending integer Tasks submitted whose result has not arrived.
---@field duplicates integer Second results of tasks run twice (at least once delivery) that were dropped.
local Pool = {}

---Sends `fn(...)` to the queue; returns its Future. `InvalidState` after shutdown, `BrokenPool` in a fork child,
---`TransferError` naming a value that cannot leave the machine (a lock, queue, shared value, future, pool...).
---@param fn function The task (copied with its upvalues; it runs in a worker's warm Lua state).
---@param ... any Its arguments (copied by the codec).
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

---Stops accepting tasks (`InvalidState` after); with `wait`, returns once every pending result has arrived.
---Idempotent. The pool's result stream is deleted when it has finished.
---@param opts? tide.cluster.ShutdownOptions Whether to wait, and whether to cancel undelivered tasks.
function Pool:shutdown(opts) end

---`shutdown{wait=false}`.
function Pool:close() end

---Waits after `close`/`shutdown` (`InvalidState` before) until every pending result has arrived; false on timeout.
---@param timeout? number Seconds to wait (nil: for ever).
---@return boolean finished True once nothing is pending.
function Pool:join(timeout) end

---Cancels every pending future (`Cancelled`) and deletes the tasks not yet taken; tasks already running finish
---in their workers, and their results are dropped.
function Pool:terminate() end

---Connects to Redis (`OSError` at once when it cannot: refused, unreachable, wrong credentials, no answer within
---`connect_timeout`) and returns a pool; `<close>` shuts it down with wait (terminates it when left by Ctrl-C).
---The key comes from `key`, else `key_file`, else the `TIDE_CLUSTER_KEY` environment variable (`ArgumentError` if none).
---@param opts tide.cluster.Options Redis URL, queue, key, max deliveries, name, connect timeout.
---@return tide.cluster.Pool pool The new pool.
function cluster.Pool(opts) end

return cluster
