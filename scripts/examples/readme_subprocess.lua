-- The README's tide.subprocess example.
local subprocess = require "tide.subprocess"

local r = subprocess.run({"ls", "-l", "/dev/null"}, {capture = true})
print(r.returncode, r.stdout:sub(1, 10))                       -- 0  crw-rw-rw-

io.write(subprocess.check_output({"pwd"}, {cwd = "/tmp"}))     -- /tmp

-- a pipeline: printf | grep
local p1 = subprocess.Popen({"printf", "hda1\\nsda1\\n"}, {stdout = "pipe"})
local p2 = subprocess.Popen({"grep", "hda"}, {stdin = p1.stdout, stdout = "pipe"})
io.write((p2:communicate()))                                   -- hda1

-- a timeout kills the command (its whole process group with new_session)
local ok, e = pcall(subprocess.run, {"sh", "-c", "echo hi; sleep 60"},
                    {capture = true, timeout = 0.5, new_session = true})
io.write(e.kind, ": ", e.stdout)                               -- Timeout: hi
