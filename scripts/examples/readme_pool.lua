-- The README's pool example.
local pool = require "tide.pool"

local p <close> = pool.ThreadPool{}            -- one worker per core
local squares = p:map(function(x) return x * x end, {1, 2, 3, 4})
print(table.concat(squares, " "))              -- 1 4 9 16

local f = p:submit(function(a, b) return a + b, a * b end, 6, 7)
print(f:result())                              -- 13  42
