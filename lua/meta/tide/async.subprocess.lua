---@meta tide.async.subprocess

local tide = {async = {}}

---`tide.subprocess` for tasks (asyncio's subprocess functions): `run`, `check_output` and `Popen` take the same arguments and options, and every wait (the child's end, a stream's read or write, `communicate`) suspends the task instead of blocking the loop. Starting a child, `poll`, signals and closing need no task; whatever has to wait raises `InvalidState` outside one.
---@class tide.async.subprocess
---@field PIPE "pipe" The stream choice `"pipe"` (as `tide.subprocess.PIPE`).
---@field DEVNULL "null" The stream choice `"null"` (as `tide.subprocess.DEVNULL`).
---@field STDOUT "stdout" The stream choice `"stdout"`, stderr only (as `tide.subprocess.STDOUT`).
---@field INHERIT "inherit" The stream choice `"inherit"`, the default (as `tide.subprocess.INHERIT`).
tide.async.subprocess = {}

---A child started by `async.subprocess.Popen`: a `tide.subprocess.Popen` whose waits are awaited. `local p <close> = Popen(...)`: leaving the scope normally closes the streams and awaits the child (blocks outside a task); leaving it by an error kills and reaps it (its group with `new_session`).
---@class tide.async.subprocess.Popen
---@field pid integer The child's process id.
---@field returncode? integer The exit status once the child has been reaped (`-N` after signal N); nil until then.
---@field args string[]|string The args as given.
---@field stdin? tide.async.subprocess.Stream The write end of the child's stdin when `stdin = "pipe"`, else nil.
---@field stdout? tide.async.subprocess.Stream The read end of the child's stdout when `stdout = "pipe"`, else nil.
---@field stderr? tide.async.subprocess.Stream The read end of the child's stderr when `stderr = "pipe"`, else nil.
local Popen = {}

---One end of a pipe to a child, in Lua's file idiom, whose reads and writes await the pipe. Reads are buffered in this object: read the pipe through it only. Given as another Popen's `stdin`/`stdout`/`stderr`, it makes a pipeline (and is closed here).
---@class tide.async.subprocess.Stream
---@field closed boolean Whether the stream is closed.
local Stream = {}

---Runs a command and awaits it (`tide.subprocess.run`'s options: `capture`, `input`, `timeout`, `check` and Popen's). The child is killed and reaped on every way out other than its own end: a timeout, an error, the task's cancellation, Ctrl-C. Raises `Timeout` carrying the output so far and, with `check`, `CalledProcessError` (`returncode`, `cmd`, `stdout`, `stderr`).
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.RunOptions Streams, capture, input, timeout, check, cwd, environment, shell, new session.
---@return tide.subprocess.CompletedProcess result `{args=, returncode=, stdout=, stderr=}`.
function tide.async.subprocess.run(args, opts) end

---Runs a command with stdout piped and returns what it wrote, awaited; `CalledProcessError` when its return code is not 0, `Timeout` after `timeout`.
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.CheckOutputOptions stdin, stderr, input, timeout, cwd, environment, shell, new session.
---@return string stdout Everything the command wrote to stdout.
function tide.async.subprocess.check_output(args, opts) end

---Starts a command and returns at once (no task needed); its piped streams are `tide.async.subprocess.Stream`s.
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.PopenOptions Streams (an async Stream makes a pipeline), cwd, environment, shell, new session.
---@return tide.async.subprocess.Popen p The started child.
function tide.async.subprocess.Popen(args, opts) end

---Awaits the child's end and reaps it; `Timeout` (with `cmd` and `timeout`) leaves it running.
---@param timeout? number Seconds to wait; forever when nil.
---@return integer returncode The exit status, or `-N` when killed by signal N.
function Popen:wait(timeout) end

---Writes `input` to stdin (then closes it) while reading stdout and stderr to their end, in tasks of their own, then awaits the child. `Timeout` carries the output so far and leaves the child running; a later call goes on and returns all of it. A child that exits without reading all its input is not an error. `InvalidState` when `input` is given but stdin is not an open pipe.
---@param input? string What to write to the child's stdin; nothing when nil.
---@param timeout? number Seconds to wait; forever when nil.
---@return string? stdout Everything read from stdout; nil when stdout is not a pipe.
---@return string? stderr Everything read from stderr; nil when stderr is not a pipe.
function Popen:communicate(input, timeout) end

---Checks, without waiting, whether the child has ended (reaping it if so).
---@return integer? returncode The return code once it has ended; nil while it runs.
function Popen:poll() end

---Sends a signal to the child; nothing once it has been reaped.
---@param sig string|integer A signal name (`"SIGTERM"` or `"TERM"`) or number.
function Popen:send_signal(sig) end

---Sends SIGTERM to the child; nothing once it has been reaped.
function Popen:terminate() end

---Sends SIGKILL to the child; nothing once it has been reaped.
function Popen:kill() end

---Reads from the child's stdout or stderr, awaiting data: `n` bytes (fewer at the end; nil at the end), the rest with no argument or `"a"` (`""` at the end), or a line with `"l"` (without its newline) or `"L"` (with it), nil at the end.
---@param fmt? integer|"a"|"l"|"L" A byte count >= 0, or a format (`"*a"`, `"*l"`, `"*L"` too); `"a"` when nil.
---@return string? data What was read; nil at the end (except for `"a"`).
function Stream:read(fmt) end

---An iterator over the lines of the child's stdout or stderr, each awaited: `for line in p.stdout:lines() do ... end`.
---@param fmt? "l"|"L" `"l"` (the default) drops each newline, `"L"` keeps it.
---@return fun(): string? iterator Returns the next line, nil at the end.
function Stream:lines(fmt) end

---Writes every argument to the child's stdin, awaiting room in the pipe; `OSError` (`EPIPE`) when the child has closed its end, never SIGPIPE.
---@param ... string|number The data to write, in order.
---@return tide.async.subprocess.Stream self The stream, for chaining.
function Stream:write(...) end

---Does nothing (writes are not buffered); for code written for Lua files.
---@return tide.async.subprocess.Stream self The stream.
function Stream:flush() end

---Closes the stream (closing twice is fine); closing stdin gives the child end of file.
function Stream:close() end

---The stream's descriptor; `InvalidState` once it is closed.
---@return integer fd The descriptor number.
function Stream:fileno() end

return tide.async.subprocess
