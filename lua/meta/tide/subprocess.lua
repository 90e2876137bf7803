---@meta tide.subprocess
-- LuaLS annotations for tide.subprocess (API.md §10; README "Running programs").

---@class tide.subprocess
---@field PIPE "pipe"       Python's subprocess.PIPE
---@field DEVNULL "null"    Python's subprocess.DEVNULL
---@field STDOUT "stdout"   Python's subprocess.STDOUT (stderr only)
---@field INHERIT "inherit" the parent's own descriptor (the default)
local subprocess = {}

---Where a child's stdin, stdout or stderr goes: a new pipe, the parent's own
---descriptor, /dev/null, wherever stdout goes (stderr only), a descriptor
---number, another Popen's stream (pipelines: it is closed in this process),
---or a Lua file.
---@alias tide.subprocess.StreamChoice "pipe"|"inherit"|"null"|"stdout"|integer|tide.subprocess.Stream|file*

---Options of Popen (run and check_output take more). An unknown key is an
---ArgumentError naming the accepted ones.
---@class tide.subprocess.PopenOptions
---@field stdin? tide.subprocess.StreamChoice   default "inherit"
---@field stdout? tide.subprocess.StreamChoice  default "inherit"
---@field stderr? tide.subprocess.StreamChoice  default "inherit"; "stdout" merges it into stdout
---@field cwd? string                 working directory of the child (a missing one raises OSError naming it)
---@field env? table<string, string|number>      the child's whole environment (replaces this process's)
---@field env_add? table<string, string|number>  variables set on top of this process's environment (or of env)
---@field shell? boolean              run args (a string, or an array whose first item is the script) with /bin/sh -c
---@field new_session? boolean        start the child in its own session and process group; a run timeout kills the group

---Options of run: Popen's and these.
---@class tide.subprocess.RunOptions: tide.subprocess.PopenOptions
---@field capture? boolean  stdout and stderr = "pipe" (Python's capture_output)
---@field input? string     written to the child's stdin (which becomes a pipe) while the output is read
---@field timeout? number   seconds; then the child (its group with new_session) is killed and Timeout raised
---@field check? boolean    raise CalledProcessError when the return code is not 0

---Options of check_output: run's, without stdout, capture and check.
---@class tide.subprocess.CheckOutputOptions: tide.subprocess.PopenOptions
---@field input? string
---@field timeout? number

---What run returns.
---@class tide.subprocess.CompletedProcess
---@field args string[]|string  the args as given
---@field returncode integer    exit status, or -N when killed by signal N
---@field stdout? string        when stdout was a pipe (capture=true)
---@field stderr? string        when stderr was a pipe

---Timeout from run, communicate and wait: a tide error with these fields.
---@class tide.subprocess.TimeoutError: tide.Error
---@field cmd string[]|string
---@field timeout number
---@field stdout? string  what the child wrote so far (run, communicate)
---@field stderr? string

---CalledProcessError from run{check=true} and check_output.
---@class tide.subprocess.CalledProcessError: tide.Error
---@field returncode integer
---@field cmd string[]|string
---@field stdout? string
---@field stderr? string

---Runs a command and waits for it; kills and reaps it on a timeout, Ctrl-C,
---cancellation or a raising signal handler.
---@param args string[]|string  an array of strings, or a string with shell=true
---@param opts? tide.subprocess.RunOptions
---@return tide.subprocess.CompletedProcess
function subprocess.run(args, opts) end

---Runs a command with stdout piped and check=true; returns its stdout.
---@param args string[]|string
---@param opts? tide.subprocess.CheckOutputOptions
---@return string stdout
function subprocess.check_output(args, opts) end

---Starts a command and returns at once. A command that cannot run raises
---OSError (with errno) naming it.
---@param args string[]|string
---@param opts? tide.subprocess.PopenOptions
---@return tide.subprocess.Popen
function subprocess.Popen(args, opts) end

---A started child. `local p <close> = Popen(...)` closes its streams and
---waits for it at the end of the scope (kills it when the scope is left by
---an error). Belongs to the Lua state that made it.
---@class tide.subprocess.Popen
---@field pid integer
---@field returncode integer?  nil until poll/wait/communicate saw the end; -N after signal N
---@field args string[]|string
---@field stdin tide.subprocess.Stream?   when stdin is "pipe"
---@field stdout tide.subprocess.Stream?  when stdout is "pipe"
---@field stderr tide.subprocess.Stream?  when stderr is "pipe"
local Popen = {}

---Writes input to stdin while reading stdout and stderr (no deadlock when
---the child fills both), then waits for the child. On a timeout raises
---Timeout carrying the output so far and leaves the child running; a later
---call goes on and returns all of it.
---@param input? string
---@param timeout? number
---@return string? stdout  nil when stdout is not a pipe
---@return string? stderr  nil when stderr is not a pipe
function Popen:communicate(input, timeout) end

---Waits for the child to end; raises Timeout (with cmd and timeout).
---@param timeout? number
---@return integer returncode
function Popen:wait(timeout) end

---The return code if the child has ended (it is reaped), else nil.
---@return integer?
function Popen:poll() end

---Sends a signal (name like "SIGTERM" or number) to the child; nothing once it was reaped.
---@param sig string|integer
function Popen:send_signal(sig) end

---SIGTERM to the child.
function Popen:terminate() end

---SIGKILL to the child.
function Popen:kill() end

---One end of a pipe to a child, in Lua's file idiom.
---@class tide.subprocess.Stream
---@field closed boolean
local Stream = {}

---n bytes (fewer at the end), nil at the end; no argument or "a": the rest
---("" at the end); "l"/"L": a line without/with its newline, nil at the end.
---@param fmt? integer|"a"|"l"|"L"
---@return string?
function Stream:read(fmt) end

---Iterates over the lines ("L": keeping the newlines).
---@param fmt? "l"|"L"
---@return fun(): string?
function Stream:lines(fmt) end

---Writes every argument; OSError EPIPE when the child closed its end.
---@param ... string|number
---@return tide.subprocess.Stream self
function Stream:write(...) end

---Nothing to do (writes are not buffered); returns the stream.
---@return tide.subprocess.Stream self
function Stream:flush() end

---Closes the stream (idempotent); closing stdin gives the child EOF.
function Stream:close() end

---The descriptor number.
---@return integer
function Stream:fileno() end

return subprocess
