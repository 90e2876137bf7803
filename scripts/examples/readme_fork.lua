-- The fork example from README.md, kept runnable (tests/lua/examples_spec.lua runs it).
local os_, sync, shared = require "tide.os", require "tide.sync", require "tide.shared"
local n, lock = shared.Value("int", 0), sync.Lock()
local pid = os_.fork()
for _ = 1, 1000 do lock:with(function() n.value = n.value + 1 end) end
if pid == 0 then os_._exit(0) end
os_.waitpid(pid, 0)
print(n.value)   -- 2000
