---@meta tide

---The root module: core functions, the error object, and every tide module as a field loaded on first use (`tide.thread` is `require "tide.thread"`).
---@class tide
---@field version string The version of tide, e.g. `"0.1.0"`.
---@field thread tide.thread Threads, each running a function in its own Lua state (loaded on first use).
---@field sync tide.sync Locks, conditions, semaphores, events and barriers for threads and processes (loaded on first use).
---@field queue tide.queue Queues shared by threads and processes (loaded on first use).
---@field future tide.future Futures and waiting for many of them (loaded on first use).
---@field pool tide.pool Pools of warm workers returning futures (loaded on first use).
---@field cluster tide.cluster A pool whose workers run on any machine that reaches one Redis (loaded on first use).
---@field process tide.process Child processes running Lua functions (loaded on first use).
---@field pipe tide.pipe Message pipes between threads and processes (loaded on first use).
---@field shared tide.shared Values, arrays and tables in shared memory (loaded on first use).
---@field subprocess tide.subprocess Running external commands (loaded on first use).
---@field signal tide.signal Signal handlers and sending signals (loaded on first use).
---@field os tide.os Python-style `os` process and descriptor calls (loaded on first use).
---@field async tide.async Tasks on an event loop that await futures, threads, processes, queues, pipes and descriptors (loaded on first use).
---@field log tide.log Logging through the host's logger (loaded on first use).
---@field actor tide.actor Actors: stateful workers whose methods return futures (loaded on first use).
local tide = {}

---The kind of a tide error (`err.kind`); `tide.is_error(err, kind)` tests it.
---@alias tide.ErrorKind
---| "Timeout" # A blocking call did not finish within its timeout.
---| "Empty" # `get` on an empty queue timed out (or `get_nowait` found nothing).
---| "Full" # `put` on a full queue timed out (or `put_nowait` found no room).
---| "Closed" # The queue or pipe is closed: no more items, or the peer is gone.
---| "Cancelled" # The thread, task or future was cancelled.
---| "BrokenBarrier" # A barrier was aborted, reset, or broken by a timeout while waiting.
---| "TransferError" # A value cannot be copied to another Lua state (the message names its path), or a pipe frame is corrupt.
---| "RemoteError" # An error raised inside a worker; `cause` is the original value, `traceback` the worker's.
---| "WorkerDied" # A worker thread or process ended without a result (the message says how: exit code or signal).
---| "BrokenPool" # The pool cannot run tasks (e.g. a pool inherited by a fork child).
---| "AbandonedLock" # The lock's holder died while holding it; the caller now holds the lock.
---| "CalledProcessError" # A command exited with a non-zero status under `check=true` (fields `returncode`, `cmd`, `stdout`, `stderr`).
---| "InvalidState" # The object is in the wrong state for the call (started twice, released, completed twice...).
---| "Interrupted" # Ctrl-C (SIGINT) interrupted a blocking call in the main state.
---| "OSError" # A system call failed (field `errno`, and the C library's message).
---| "ArgumentError" # A bad argument: what was expected and what was given.

---An error raised by tide: a table whose `tostring` is `"Kind: message"`. Test it with `tide.is_error(e, kind)`; it crosses threads and processes like any table.
---@class tide.Error
---@field kind tide.ErrorKind What went wrong (see the error kinds).
---@field message string A human-readable description.
---@field traceback string The traceback where it was raised (a worker's for `RemoteError`); may be empty.
---@field cause? any The inner error: the original value raised in a worker (`RemoteError`), or nil.
---@field errno? integer The C `errno` of a failed system call (`OSError`).
---@field worker? string The pool worker that ran the failing task (`RemoteError`, `WorkerDied` from a pool).
---@field index? integer The position of the failing item in the input of `pool:map`/`starmap` (`RemoteError`).
---@field returncode? integer The command's exit status (`CalledProcessError`; negative: killed by that signal).
---@field cmd? string|string[] The command that failed, as given (`CalledProcessError`, and `Timeout` from `tide.subprocess`).
---@field stdout? string The command's captured output, if captured (`CalledProcessError`; `Timeout` from `run`/`communicate`: the output so far).
---@field stderr? string The command's captured error output, if captured (`CalledProcessError`; `Timeout` from `run`/`communicate`: so far).
---@field timeout? number The timeout that expired, in seconds (`Timeout` from `tide.subprocess`).

---The number of CPUs online (at least 1).
---@return integer count The number of online CPUs.
function tide.cpu_count() end

---Sleeps for `seconds` (fractions allowed); cancellable, and interrupted by Ctrl-C in the main state.
---@param seconds number How long to sleep, >= 0.
function tide.sleep(seconds) end

---A monotonic clock in seconds, for measuring intervals.
---@return number seconds Seconds since an arbitrary fixed point (float).
function tide.monotonic() end

---Tests whether `value` is a tide error, of `kind` when given.
---@param value any The value to test (e.g. the error caught by `pcall`).
---@param kind? tide.ErrorKind The kind it must have; any kind when nil.
---@return boolean is True when `value` is a tide error (of that kind).
function tide.is_error(value, kind) end

---Creates (does not raise) a tide error of `kind`: `error(tide.error("InvalidState", "closed"))`.
---@param kind tide.ErrorKind One of the error kinds; anything else raises `ArgumentError`.
---@param message? any The message (converted with `tostring`); empty when nil.
---@return tide.Error err The new error object.
function tide.error(kind, message) end

---Internal (for tide's Lua-side modules): the options check the native modules use; raises `ArgumentError` when `opts` is not a table or holds a key not in `accepted`.
---@private
---@param opts any The options argument.
---@param n integer Its argument position, for the message.
---@param fname string The function's name, for the message.
---@param accepted string[] The keys it takes.
---@return table? opts The options, unchanged.
function tide._check_options(opts, n, fname, accepted) end

---What `tide._counters()` returns.
---@class tide.Counters
---@field futex_wait integer Futex wait system calls this process has made.
---@field futex_wake integer Futex wake system calls this process has made.
---@field minflt integer Minor page faults of this process (getrusage).
---@field majflt integer Major page faults of this process.

---Internal (for the benchmarks in scripts/bench): this process's futex system calls and page faults so far, all threads together.
---@private
---@return tide.Counters counts
function tide._counters() end

return tide
