-- The tide.subprocess and tide.signal examples (scripts/examples/), output
-- asserted.
local T = require "harness"
local root = os.getenv("TIDE_SOURCE_DIR") or "."

local function example(name)
  return T.run_tide(root .. "/scripts/examples/" .. name)
end

T.test("subprocess_run: output through, captured, checked, and a failure", function()
  local code, out, err = example("subprocess_run.lua")
  T.eq(code, 0, err)
  T.eq(out, "ocean\nreturncode:\t0\ncaptured:\t0\tcrw\t0\nchecked:\thello\n\n" ..
            "failed:\tfalse\tCalledProcessError\t2\ttrue\n")
end)

T.test("subprocess_pipeline: printf | grep, and communicate with shell=true", function()
  local code, out, err = example("subprocess_pipeline.lua")
  T.eq(code, 0, err)
  T.eq(out, "hda1 read error\nhda2 ok\nexit codes:\t0\t0\nSOME DATA\n\tdone\n\t0\n")
end)

T.test("subprocess_timeout: Timeout carries the output so far", function()
  local code, out, err = example("subprocess_timeout.lua")
  T.eq(code, 0, err)
  T.eq(out, "false\tTimeout\nso far:\tstarted\n\n" ..
            "command 'sh -c echo started; sleep 30; echo never' timed out after 0.5 seconds\n")
end)

T.test("signal_sigterm: the child's SIGTERM handler cleans up and exits 0", function()
  local code, out, err = example("signal_sigterm.lua")
  T.eq(code, 0, err)
  T.eq(out, "Child process cleaning up...\nParent is continuing on...\nexit code:\t0\n")
end)

T.test("parallel_commands: exit codes collected from a thread pool", function()
  local code, out, err = example("parallel_commands.lua")
  T.eq(code, 0, err)
  T.match(out, "sh %-c exit 3%s+exit 3\n")
  T.match(out, "ls /no/such/path%s+exit 2\n")
  T.match(out, "\nfalse%s+exit 1\n")
  T.match(out, "3 of 6 commands failed\n$")
  T.eq(err, "")  -- no progress bar when stderr is not a terminal
end)

T.test("readme_subprocess: the README's example prints what it says", function()
  local code, out, err = example("readme_subprocess.lua")
  T.eq(code, 0, err)
  T.eq(out, "0\tcrw-rw-rw-\n/tmp\nhda1\nTimeout: hi\n")
end)

T.done()
