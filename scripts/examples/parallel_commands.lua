-- A small automation script: run several commands in parallel on a thread
-- pool (each run waits for its own child, so the pool overlaps them), with
-- a progress bar on a terminal, and collect their exit codes.
local pool = require "tide.pool"

local commands = {
  {"sh", "-c", "exit 0"},
  {"sh", "-c", "echo building >/dev/null"},
  {"sh", "-c", "exit 3"},
  {"ls", "/no/such/path"},
  {"true"},
  {"false"},
}

local p <close> = pool.ThreadPool{workers = 4}
local codes = p:map(function(cmd)
  local subprocess = require "tide.subprocess"
  return subprocess.run(cmd, {stdout = "null", stderr = "null"}).returncode
end, commands, {progress = true})

local failed = 0
for i, cmd in ipairs(commands) do
  print(string.format("%-40s exit %d", table.concat(cmd, " "), codes[i]))
  if codes[i] ~= 0 then failed = failed + 1 end
end
print(string.format("%d of %d commands failed", failed, #commands))
