-- A command that takes too long: run's timeout kills it (and, with
-- new_session, every process it started), reaps it, and raises Timeout
-- carrying what it printed so far.
local subprocess = require "tide.subprocess"
local tide = require "tide"

local ok, err = pcall(subprocess.run, {"sh", "-c", "echo started; sleep 30; echo never"},
                      {capture = true, timeout = 0.5, new_session = true})
print(ok, err.kind)
print("so far:", err.stdout)
print(err.message)
