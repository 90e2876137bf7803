-- The `tide` command (API.md §14) and behaviour at exit (§2).
local T = require "harness"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

T.test("--version and --help", function()
  local code, out = T.run_tide("--version")
  T.eq(code, 0); T.match(out, "^tide %d+%.%d+%.%d+")
  code, out = T.run_tide("--help")
  T.eq(code, 0); T.match(out, "usage: tide")
end)

T.test("-e runs code; tide is preloaded", function()
  local code, out = T.run_tide("-e " .. q('print(require("tide").cpu_count() >= 1)'))
  T.eq(code, 0); T.eq(out, "true\n")
end)

T.test("-l requires a module into a global", function()
  local code, out = T.run_tide("-l th=tide.thread -e " .. q("print(th.is_main())"))
  T.eq(code, 0); T.eq(out, "true\n")
end)

T.test("a script gets arg and ...", function()
  local path = os.tmpname()
  local f = io.open(path, "w")
  f:write('print(arg[0] == ... and "no" or "yes", #arg, arg[1], arg[2], select("#", ...))\n')
  f:close()
  local code, out = T.run_tide(path .. " one two")
  os.remove(path)
  T.eq(code, 0); T.eq(out, "yes\t2\tone\ttwo\t2\n")
end)

T.test("warn is off until warn('@on'), as in the stock interpreter", function()
  local code, out, err = T.run_tide("-e " .. q('warn("hidden") warn("@on") warn("two ", "parts") ' ..
    'warn("@unknown") warn("@off") warn("hidden too") warn("@on") warn("last")'))
  T.eq(code, 0)
  T.eq(out, "")
  T.eq(err, "Lua warning: two parts\nLua warning: last\n")
end)

T.test("a script error prints message and traceback on stderr and exits 1", function()
  local code, out, err = T.run_tide("-e " .. q('local function f() error("kaput") end f()'))
  T.eq(code, 1)
  T.eq(out, "")
  T.match(err, "kaput")
  T.match(err, "stack traceback")
end)

T.test("a tide error prints as Kind: message", function()
  local code, _, err = T.run_tide("-e " .. q('error(require("tide").error("Timeout", "too slow"))'))
  T.eq(code, 1)
  T.match(err, "Timeout: too slow")
end)

T.test("an uncaught RemoteError shows the worker's traceback", function()
  local code, _, err = T.run_tide("-e " .. q([[
    local t = require("tide.thread").spawn(function() local function inner() error("deep") end inner() end)
    t:join()]]))
  T.eq(code, 1)
  T.match(err, "RemoteError: thread 'Thread%-%d+' failed: .*deep")
  T.match(err, "in %a+ 'inner'")
end)

T.test("a syntax error exits 1", function()
  local code, _, err = T.run_tide("-e " .. q("this is not lua"))
  T.eq(code, 1); T.match(err, "syntax error")
end)

T.test("bad options print usage and exit 1", function()
  local code, _, err = T.run_tide("--bogus")
  T.eq(code, 1); T.match(err, "unrecognized option")
end)

T.test("at exit, non-daemon threads are joined", function()
  local code, out = T.run_tide("-e " .. q([[
    require("tide.thread").spawn(function() require("tide").sleep(0.1) io.write("worker done\n") end)]]))
  T.eq(code, 0); T.eq(out, "worker done\n")
end)

T.test("os.exit joins non-daemon threads first and keeps its status", function()
  local code, out = T.run_tide("-e " .. q([[
    require("tide.thread").spawn(function() require("tide").sleep(0.05) print("worker done") end)
    os.exit(3)]]))
  T.eq(code, 3); T.eq(out, "worker done\n")
end)

T.test("at exit, daemon threads are cancelled", function()
  local code, out = T.run_tide("-e " .. q([[
    local th = require("tide.thread")
    th.Thread{target = function() require("tide").sleep(1e6) end, daemon = true}:start()
    th.Thread{target = function() while true do end end, daemon = true}:start()
    print("main done")]]))
  T.eq(code, 0); T.eq(out, "main done\n")
end)

T.test("an error in a thread nobody joins is logged once with its traceback", function()
  local code, _, err = T.run_tide("-e " .. q([[
    local th = require("tide.thread")
    local t = th.spawn(function() local function lost() error("nobody saw me") end lost() end)
    t:wait()
    t = nil
    collectgarbage() collectgarbage()]]))
  T.eq(code, 0)
  local _, count = err:gsub("nobody saw me", "")
  T.eq(count, 1, "logged once")
  T.match(err, "unhandled error in thread")
  T.match(err, "lost")
end)

T.test("a joined error is not logged", function()
  local code, _, err = T.run_tide("-e " .. q([[
    local t = require("tide.thread").spawn(function() error("seen") end)
    pcall(t.join, t)]]))
  T.eq(code, 0); T.eq(err, "")
end)

T.test("TIDE_LOG=debug shows thread lifecycle with pid and name", function()
  local code, _, err = T.run_tide("-e " .. q([[
    require("tide.thread").Thread{target = function() end, name = "lifecycle"}:start()]]))
  T.eq(code, 0); T.eq(err, "")
  local bin = os.getenv("TIDE_BIN") or "tide"
  local p = io.popen("TIDE_LOG=debug " .. bin .. " -e " .. q([[
    require("tide.thread").Thread{target = function() end, name = "lifecycle"}:start()]]) .. " 2>&1")
  local log = p:read("a"); p:close()
  T.match(log, "%[pid %d+ lifecycle%] thread started")
  T.match(log, "%[pid %d+ lifecycle%] thread finished: completed")
end)

T.test("tide.log writes formatted lines with pid and thread name", function()
  local code, _, err = T.run_tide("-e " .. q([[
    local log = require("tide.log")
    log.warn("value=%d", 7)
    require("tide.thread").Thread{target = function() require("tide.log").error("from %s", "worker") end,
                                  name = "w1"}:start()]]))
  T.eq(code, 0)
  T.match(err, "%[warning%] %[pid %d+ MainThread%] value=7")
  T.match(err, "%[error%] %[pid %d+ w1%] from worker")
end)

T.test("the REPL evaluates expressions and statements from stdin", function()
  local code, out = T.run_tide("-i", "x = 20\nreturn x + 1\nx * 2\nfor i = 1, 2 do\nprint(i)\nend\n")
  T.eq(code, 0)
  T.match(out, "21")
  T.match(out, "40")
  T.match(out, "1\n2\n")
end)

T.test("script from stdin with -", function()
  local code, out = T.run_tide("-", "print('from stdin')")
  T.eq(code, 0); T.eq(out, "from stdin\n")
end)

T.done()
