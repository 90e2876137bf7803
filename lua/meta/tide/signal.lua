---@meta tide.signal
-- LuaLS annotations for tide.signal (API.md §11; README "Signals").

---@alias tide.signal.Signal string|integer  a name ("SIGTERM" or "TERM") or a number
---@alias tide.signal.Handler fun(signum: integer, name: string?)|"default"|"ignore"

---@class tide.signal
---@field SIG_DFL "default"
---@field SIG_IGN "ignore"
---@field SIGHUP integer
---@field SIGINT integer
---@field SIGQUIT integer
---@field SIGILL integer
---@field SIGTRAP integer
---@field SIGABRT integer
---@field SIGBUS integer
---@field SIGFPE integer
---@field SIGKILL integer
---@field SIGUSR1 integer
---@field SIGSEGV integer
---@field SIGUSR2 integer
---@field SIGPIPE integer
---@field SIGALRM integer
---@field SIGTERM integer
---@field SIGSTKFLT integer
---@field SIGCHLD integer
---@field SIGCONT integer
---@field SIGSTOP integer
---@field SIGTSTP integer
---@field SIGTTIN integer
---@field SIGTTOU integer
---@field SIGURG integer
---@field SIGXCPU integer
---@field SIGXFSZ integer
---@field SIGVTALRM integer
---@field SIGPROF integer
---@field SIGWINCH integer
---@field SIGIO integer
---@field SIGPWR integer
---@field SIGSYS integer
---@field SIGRTMIN integer
---@field SIGRTMAX integer
local signal = {}

---Sets what happens on a signal: a Lua function (run in the main state at
---its next tide wait, or within a few instructions of busy code; its error
---propagates from there), "default" or "ignore". Returns the previous
---handler: a function, "default", "ignore", or nil for one tide did not
---install. Main state only (InvalidState elsewhere).
---@param sig tide.signal.Signal
---@param handler tide.signal.Handler
---@return tide.signal.Handler? previous
function signal.signal(sig, handler) end

---The current handler (see signal.signal). Main state only.
---@param sig tide.signal.Signal
---@return tide.signal.Handler?
function signal.getsignal(sig) end

---Sends a signal to a process (os.kill).
---@param pid integer
---@param sig tide.signal.Signal
function signal.kill(pid, sig) end

---Sends a signal to this process; on the main thread its handler has run
---(or its error is raised) when this returns.
---@param sig tide.signal.Signal
function signal.raise(sig) end

---"SIGTERM" for 15 (or "TERM"); nil for an unnamed number.
---@param sig tide.signal.Signal
---@return string?
function signal.name(sig) end

---15 for "SIGTERM" or "TERM" (a number is returned as it is).
---@param sig tide.signal.Signal
---@return integer
function signal.number(sig) end

return signal
