---@meta tide.subprocess

local tide = {}

---Running external commands (Python's `subprocess`): `run`, `check_output` and `Popen`, with pipes, timeouts and pipelines. Children start with `posix_spawn` from any thread or pool worker; every wait is cancellable and interrupted by Ctrl-C in the main state. A command that cannot run raises `OSError` (with `errno`) naming it.
---@class tide.subprocess
---@field PIPE "pipe" Python's `subprocess.PIPE`: a new pipe (the stream choice `"pipe"`).
---@field DEVNULL "null" Python's `subprocess.DEVNULL`: `/dev/null` (the stream choice `"null"`).
---@field STDOUT "stdout" Python's `subprocess.STDOUT`: stderr goes wherever stdout goes (the stream choice `"stdout"`, stderr only).
---@field INHERIT "inherit" This process's own descriptor (the stream choice `"inherit"`, the default).
tide.subprocess = {}

---Where a child's stdin, stdout or stderr goes (the options `stdin`, `stdout`, `stderr`).
---@alias tide.subprocess.StreamChoice
---| "pipe" # A new pipe; the Popen's `stdin`/`stdout`/`stderr` field is its end (run and check_output read it).
---| "inherit" # This process's own descriptor (the default).
---| "null" # `/dev/null`.
---| "stdout" # stderr only: wherever stdout goes (merged into it).
---| integer # A descriptor of this process, by number.
---| tide.subprocess.Stream # Another Popen's open stream (a pipeline): it is closed in this process once the child has it.
---| file* # An open Lua file (`io.open(...)`); what Lua buffered for it is flushed first.

---The options of `subprocess.Popen` (run and check_output take more). An unknown key is an `ArgumentError` listing the accepted ones.
---@class tide.subprocess.PopenOptions
---@field stdin? tide.subprocess.StreamChoice The child's stdin (default `"inherit"`).
---@field stdout? tide.subprocess.StreamChoice The child's stdout (default `"inherit"`).
---@field stderr? tide.subprocess.StreamChoice The child's stderr (default `"inherit"`; `"stdout"` merges it into stdout).
---@field cwd? string The child's working directory; a missing one raises `OSError` naming it.
---@field env? table<string, string|number> The child's whole environment, replacing this process's (the program is looked up in its `PATH`).
---@field env_add? table<string, string|number> Variables set on top of this process's environment (or of `env` when given).
---@field shell? boolean Run through `/bin/sh -c`: `args` is a string, or an array whose first item is the script and the rest `$0`, `$1`... (default false).
---@field new_session? boolean Start the child in its own session and process group; a timeout or an error then kills the whole group (default false).

---The options of `subprocess.run`: Popen's and these.
---@class tide.subprocess.RunOptions: tide.subprocess.PopenOptions
---@field capture? boolean Pipe stdout and stderr and return what they carried (Python's `capture_output`); cannot be combined with a `stdout` or `stderr` choice other than `"inherit"`.
---@field input? string Written to the child's stdin (which becomes a pipe) while its output is read; cannot be combined with `stdin`.
---@field timeout? number Seconds; then the child (its group with `new_session`) is killed and reaped and `Timeout` raised, carrying the output so far.
---@field check? boolean Raise `CalledProcessError` when the return code is not 0 (default false).

---The options of `subprocess.check_output`: Popen's without `stdout` (always a pipe), and `input` and `timeout` as for run.
---@class tide.subprocess.CheckOutputOptions
---@field stdin? tide.subprocess.StreamChoice The child's stdin (default `"inherit"`).
---@field stderr? tide.subprocess.StreamChoice The child's stderr (default `"inherit"`; `"stdout"` merges it into the output returned).
---@field cwd? string The child's working directory; a missing one raises `OSError` naming it.
---@field env? table<string, string|number> The child's whole environment, replacing this process's.
---@field env_add? table<string, string|number> Variables set on top of this process's environment (or of `env` when given).
---@field shell? boolean Run through `/bin/sh -c` (see `PopenOptions.shell`).
---@field new_session? boolean Start the child in its own session and process group (default false).
---@field input? string Written to the child's stdin (which becomes a pipe); cannot be combined with `stdin`.
---@field timeout? number Seconds; then the child is killed and reaped and `Timeout` raised.

---What `subprocess.run` returns (Python's `CompletedProcess`).
---@class tide.subprocess.CompletedProcess
---@field args string[]|string The args as given.
---@field returncode integer The exit status, or `-N` when the child was killed by signal N.
---@field stdout? string What the child wrote to stdout, when it was a pipe (`capture`, `stdout = "pipe"`); nil otherwise.
---@field stderr? string What the child wrote to stderr, when it was a pipe; nil otherwise.

---The `Timeout` error of `run`, `check_output`, `Popen:communicate` and `Popen:wait`: a tide error with these fields.
---@class tide.subprocess.TimeoutError: tide.Error
---@field cmd string[]|string The args as given.
---@field timeout number The timeout that expired, in seconds.
---@field stdout? string What the child wrote to stdout so far, when it is a pipe (not set by `wait`).
---@field stderr? string What the child wrote to stderr so far, when it is a pipe (not set by `wait`).

---The `CalledProcessError` of `run{check = true}` and `check_output`: a tide error with these fields.
---@class tide.subprocess.CalledProcessError: tide.Error
---@field returncode integer The exit status, or `-N` when the child was killed by signal N.
---@field cmd string[]|string The args as given.
---@field stdout? string What the child wrote to stdout, when it was a pipe.
---@field stderr? string What the child wrote to stderr, when it was a pipe.

---A started child (Python's `Popen`). `local p <close> = Popen(...)` closes its streams at the end of the scope and waits for the child, or kills and reaps it (its group with `new_session`) when the scope is left by an error. A Popen belongs to the Lua state that made it (it cannot be passed to other threads or processes); one nobody waits for is reaped when a later child starts.
---@class tide.subprocess.Popen
---@field pid integer The child's process id.
---@field returncode? integer The exit status once the child has been reaped (by `poll`, `wait` or `communicate`), `-N` after signal N; nil until then.
---@field args string[]|string The args as given.
---@field stdin? tide.subprocess.Stream The write end of the child's stdin when `stdin = "pipe"`, else nil.
---@field stdout? tide.subprocess.Stream The read end of the child's stdout when `stdout = "pipe"`, else nil.
---@field stderr? tide.subprocess.Stream The read end of the child's stderr when `stderr = "pipe"`, else nil.
local Popen = {}

---One end of a pipe to a child (a Popen's `stdin`, `stdout` or `stderr`), in Lua's file idiom. Reads buffer at most a chunk past what was asked for; closing it (`<close>` too) is idempotent. Reading the child's stdin, or writing its stdout or stderr, raises `InvalidState`, as does any use once it is closed.
---@class tide.subprocess.Stream
---@field closed boolean Whether the stream is closed (by `close`, `communicate`, or by being given to another Popen).
local Stream = {}

---Runs a command and waits for it. The child is killed and reaped on every way out other than its own end: a timeout, Ctrl-C, cancellation of the calling thread, a raising signal handler. Raises `Timeout` (see `TimeoutError`) and, with `check`, `CalledProcessError`.
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.RunOptions Streams, capture, input, timeout, check, cwd, environment, shell, new session.
---@return tide.subprocess.CompletedProcess result `{args=, returncode=, stdout=, stderr=}`.
function tide.subprocess.run(args, opts) end

---Runs a command with stdout piped and returns what it wrote; raises `CalledProcessError` when its return code is not 0 and `Timeout` after `timeout`.
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.CheckOutputOptions stdin, stderr, input, timeout, cwd, environment, shell, new session.
---@return string stdout Everything the command wrote to stdout.
function tide.subprocess.check_output(args, opts) end

---Starts a command and returns at once; talk to it through its streams or `communicate`, and collect it with `wait`.
---@param args string[]|string The program and its arguments (an array of strings), or a command string with `shell = true`.
---@param opts? tide.subprocess.PopenOptions Streams, cwd, environment, shell, new session.
---@return tide.subprocess.Popen p The started child.
function tide.subprocess.Popen(args, opts) end

---Writes `input` to stdin (then closes it) while reading stdout and stderr to their end, with no deadlock when the child fills both, then waits for the child. On a timeout raises `Timeout` carrying the output so far and leaves the child running; a later call goes on and returns all of it. `InvalidState` when `input` is given but stdin is not an open pipe, or communication has already started.
---@param input? string What to write to the child's stdin (which must be a pipe); nothing when nil.
---@param timeout? number Seconds to wait; forever when nil.
---@return string? stdout Everything read from stdout; nil when stdout is not a pipe.
---@return string? stderr Everything read from stderr; nil when stderr is not a pipe.
function Popen:communicate(input, timeout) end

---Waits for the child to end and reaps it; raises `Timeout` (with `cmd` and `timeout`) when it has not ended in time.
---@param timeout? number Seconds to wait; forever when nil.
---@return integer returncode The exit status, or `-N` when killed by signal N.
function Popen:wait(timeout) end

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

---Reads from the child's stdout or stderr: `n` bytes (fewer at the end; nil at the end), the rest with no argument or `"a"` (`""` at the end), or a line with `"l"` (without its newline) or `"L"` (with it), nil at the end.
---@param fmt? integer|"a"|"l"|"L" A byte count >= 0, or a format (`"*a"`, `"*l"`, `"*L"` too); `"a"` when nil.
---@return string? data What was read; nil at the end (except for `"a"`).
function Stream:read(fmt) end

---An iterator over the lines of the child's stdout or stderr: `for line in p.stdout:lines() do ... end`.
---@param fmt? "l"|"L" `"l"` (the default) drops each newline, `"L"` keeps it.
---@return fun(): string? iterator Returns the next line, nil at the end.
function Stream:lines(fmt) end

---Writes every argument to the child's stdin; raises `OSError` (`EPIPE`) when the child has closed its end, never SIGPIPE.
---@param ... string|number The data to write, in order.
---@return tide.subprocess.Stream self The stream, for chaining.
function Stream:write(...) end

---Does nothing (writes are not buffered); for code written for Lua files.
---@return tide.subprocess.Stream self The stream.
function Stream:flush() end

---Closes the stream (closing twice is fine); closing stdin gives the child end of file.
function Stream:close() end

---The stream's descriptor; `InvalidState` once it is closed.
---@return integer fd The descriptor number.
function Stream:fileno() end

return tide.subprocess
