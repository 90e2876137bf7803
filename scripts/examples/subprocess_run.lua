-- Port of the seed's subprocess.run examples: run a command and let it
-- print, capture a command's output, check the exit status.
local subprocess = require "tide.subprocess"

-- subprocess.run(["python", "-c", "print('ocean')"]): output goes straight through
local r = subprocess.run({"sh", "-c", "echo ocean"})
print("returncode:", r.returncode)

-- subprocess.run(["ls", "-l", "/dev/null"], capture_output=True)
r = subprocess.run({"ls", "-l", "/dev/null"}, {capture = true})
print("captured:", r.returncode, r.stdout:sub(1, 3), #r.stderr)

-- run(..., check=True, stdout=PIPE).stdout
print("checked:", subprocess.run({"echo", "hello"}, {check = true, stdout = "pipe"}).stdout)

-- a failing command with check=true raises CalledProcessError
local ok, err = pcall(subprocess.run, {"ls", "/no/such/dir"}, {check = true, capture = true})
print("failed:", ok, err.kind, err.returncode, err.stderr ~= "")
