---@meta tide.signal

local tide = {}

---Process signals (Python's `signal`): Lua handlers, which run in the main state at a safe point (inside the tide wait it is blocked in, or within a few instructions of busy Lua code), never in the C signal handler; sending signals; names and numbers. The constants are the signal numbers of this platform.
---@class tide.signal
---@field SIG_DFL "default" Python's `signal.SIG_DFL`: the handler value for the default action.
---@field SIG_IGN "ignore" Python's `signal.SIG_IGN`: the handler value for ignoring the signal.
---@field SIGHUP integer Hangup: the controlling terminal closed, or its controlling process died.
---@field SIGINT integer Interrupt from the keyboard (Ctrl-C); raises `Interrupted` in the main state until a handler is set.
---@field SIGQUIT integer Quit from the keyboard (Ctrl-\), with a core dump.
---@field SIGILL integer Illegal instruction (a fault: no Lua handler allowed).
---@field SIGTRAP integer Trace or breakpoint trap.
---@field SIGABRT integer Abort, from `abort()` (alias `SIGIOT` by name).
---@field SIGBUS integer Bus error: a bad memory access (a fault: no Lua handler allowed).
---@field SIGFPE integer Arithmetic exception (a fault: no Lua handler allowed).
---@field SIGKILL integer Kill: cannot be caught or ignored (`signal.signal` raises `OSError`).
---@field SIGUSR1 integer User-defined signal 1.
---@field SIGSEGV integer Invalid memory reference (a fault: no Lua handler allowed).
---@field SIGUSR2 integer User-defined signal 2.
---@field SIGPIPE integer Write to a pipe with no reader (a write to a child's stdin raises `OSError` `EPIPE` instead).
---@field SIGALRM integer Timer signal from `alarm()`.
---@field SIGTERM integer Termination request (the `kill` command's default; `Popen:terminate` sends it).
---@field SIGSTKFLT integer Stack fault on a coprocessor (unused on Linux).
---@field SIGCHLD integer A child stopped or ended (alias `SIGCLD` by name).
---@field SIGCONT integer Continue a stopped process.
---@field SIGSTOP integer Stop the process: cannot be caught or ignored (`signal.signal` raises `OSError`).
---@field SIGTSTP integer Stop typed at the terminal (Ctrl-Z).
---@field SIGTTIN integer Terminal input for a background process.
---@field SIGTTOU integer Terminal output for a background process.
---@field SIGURG integer Urgent data on a socket; tide uses it to cancel threads, so `signal` and `getsignal` refuse it.
---@field SIGXCPU integer CPU time limit exceeded.
---@field SIGXFSZ integer File size limit exceeded.
---@field SIGVTALRM integer Virtual (CPU time) alarm clock.
---@field SIGPROF integer Profiling timer expired.
---@field SIGWINCH integer The terminal window changed size.
---@field SIGIO integer I/O is possible on a descriptor (alias `SIGPOLL` by name).
---@field SIGPWR integer Power failure.
---@field SIGSYS integer Bad system call.
---@field SIGRTMIN integer The first real-time signal (its number is fixed by the C library at run time).
---@field SIGRTMAX integer The last real-time signal.
tide.signal = {}

---A signal, named or numbered; every function of `tide.signal` (and `Popen:send_signal`) takes either. An unknown name or a number outside 0..64 is an `ArgumentError`.
---@alias tide.signal.Signal
---| string # A name, with or without `SIG`: `"SIGTERM"` or `"TERM"` (aliases such as `"SIGIOT"` too).
---| integer # A signal number, e.g. `signal.SIGTERM`.

---What a signal does: a Lua function, the default action, or nothing.
---@alias tide.signal.Handler
---| fun(signum: integer, name: string?) # Called in the main state with the signal's number and name (nil for an unnamed one, e.g. `SIGRTMIN + 1`); an error it raises propagates from where the main state was.
---| "default" # The default action (`signal.SIG_DFL`); for SIGINT in the `tide` command, raising `Interrupted`.
---| "ignore" # Ignore the signal (`signal.SIG_IGN`).

---Sets what happens on a signal and returns the previous handler. Main state only (`InvalidState` elsewhere; in a process without one, the first state to call it from the main thread becomes it). A Lua handler is refused (`ArgumentError`) for SIGSEGV, SIGBUS, SIGFPE and SIGILL, any handler for SIGURG; SIGKILL and SIGSTOP raise `OSError` (`EINVAL`).
---@param sig tide.signal.Signal The signal.
---@param handler tide.signal.Handler A function, `"default"` or `"ignore"`.
---@return tide.signal.Handler? previous The previous handler: a function, `"default"`, `"ignore"`, or nil for one tide did not install.
function tide.signal.signal(sig, handler) end

---The current handler of a signal. Main state only (`InvalidState` elsewhere).
---@param sig tide.signal.Signal The signal.
---@return tide.signal.Handler? handler A function, `"default"`, `"ignore"`, or nil for a handler tide did not install.
function tide.signal.getsignal(sig) end

---Sends a signal to a process (`tide.os.kill`); signal 0 only checks that it exists. Raises `OSError` (`ESRCH`, `EPERM`...) when the system refuses.
---@param pid integer The process id (0 or negative: a process group, as for `kill(2)`).
---@param sig tide.signal.Signal The signal to send.
function tide.signal.kill(pid, sig) end

---Sends a signal to this process. On the main state's thread its handler has run (or its error, or `Interrupted` for SIGINT, is raised) when this returns; from another thread the main state runs it at its next safe point.
---@param sig tide.signal.Signal The signal to send.
function tide.signal.raise(sig) end

---The canonical name of a signal: `"SIGTERM"` for 15 or `"TERM"`.
---@param sig tide.signal.Signal The signal, by number or by any of its names.
---@return string? name Its name; nil for a number with no name.
function tide.signal.name(sig) end

---The number of a signal: 15 for `"SIGTERM"` or `"TERM"` (a number is returned as it is).
---@param sig tide.signal.Signal The signal, by name or number.
---@return integer signum Its number.
function tide.signal.number(sig) end

return tide.signal
