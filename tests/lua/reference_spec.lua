-- lua/REFERENCE.md is generated from the annotations in lua/meta/ by
-- scripts/gen_reference.lua (issue 12). This spec regenerates it, with the
-- tide command and with the stock lua5.4, and fails when the committed file
-- differs (run `tide scripts/gen_reference.lua` after editing annotations);
-- then it checks the generator's parser and renderer on small synthetic
-- annotations, errors included.
local T = require "harness"

local source = assert(os.getenv("TIDE_SOURCE_DIR"), "TIDE_SOURCE_DIR is not set")
local script = source .. "/scripts/gen_reference.lua"
local gen = assert(loadfile(script))("--library")

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

-- Runs the generator with `interpreter` into a temporary file; returns its
-- text (or fails with the generator's output).
local function regenerate(interpreter)
  local out, log = os.tmpname(), os.tmpname()
  local ok, _, code = os.execute(string.format("%s %s %s >%s 2>&1", interpreter, quote(script), quote(out), quote(log)))
  local text, messages = slurp(out), slurp(log)
  os.remove(out)
  os.remove(log)
  if not ok then error(string.format("%s %s exited with %s:\n%s", interpreter, script, tostring(code), messages), 0) end
  return text
end

-- Fails naming the first line where `got` and `want` differ.
local function same_text(got, want, what)
  if got == want then return end
  local n = 1
  local gl, wl = got:gmatch("([^\n]*)\n?"), want:gmatch("([^\n]*)\n?")
  while true do
    local a, b = gl(), wl()
    if a == nil and b == nil then error(what .. " differs in its line endings", 0) end
    if a ~= b then
      error(string.format("%s differs at line %d:\n  generated: %s\n  committed: %s\n" ..
                          "run `tide scripts/gen_reference.lua` and commit lua/REFERENCE.md",
                          what, n, tostring(a), tostring(b)), 0)
    end
    n = n + 1
  end
end

T.test("lua/REFERENCE.md is what the tide command generates now", function()
  same_text(regenerate(os.getenv("TIDE_BIN") or "tide"), slurp(source .. "/lua/REFERENCE.md"), "lua/REFERENCE.md")
end)

T.test("the stock lua5.4 generates the same reference", function()
  same_text(regenerate("lua5.4"), slurp(source .. "/lua/REFERENCE.md"), "lua/REFERENCE.md (lua5.4)")
end)

T.test("the reference covers every annotated module, function, method and error kind", function()
  local model = gen.parse_tree(source)
  local ref = slurp(source .. "/lua/REFERENCE.md")
  local function has(s, what) T.truthy(ref:find(s, 1, true), what or s) end
  for name, m in pairs(model.modules) do
    has("\n## " .. name .. "\n", "module " .. name)
    for _, f in ipairs(m.functions) do
      if not f.private then has("#### `" .. name .. "." .. f.name .. "(", name .. "." .. f.name) end
    end
  end
  for name, c in pairs(model.classes) do
    if not c.private then
      has("### Class `" .. name .. "`", "class " .. name)
      for _, f in ipairs(c.methods) do has(":" .. f.name .. "(", name .. ":" .. f.name) end
    end
  end
  for _, kind in ipairs({"Timeout", "RemoteError", "CalledProcessError", "ArgumentError"}) do
    has('| `"' .. kind .. '"` |', "error kind " .. kind)
  end
  T.falsy(ref:find("_forkserver_probe", 1, true), "@private functions are left out")
end)

T.test("every annotation file is valid Lua that returns its module table", function()
  for _, path in ipairs(gen.meta_files(source)) do
    local chunk = assert(loadfile(path))
    T.eq(type(chunk()), "table", path .. " returns a table")
  end
end)

-- ---- the parser and renderer on synthetic annotations ----------------------

local SAMPLE = [[
---@meta tide.demo

-- a plain comment is not documentation
local tide = {}

---A demo module.
---@class tide.demo
---@field version string Its version.
tide.demo = {}

---A flag.
---@type integer
tide.demo.FLAG = 4

---The options of `demo.Box{}`.
---@class tide.demo.BoxOptions
---@field size? integer How big (default 1).
---@field on_full? fun(box: tide.demo.Box, n: integer): boolean Called when full.

---Colours.
---@alias tide.demo.Colour
---| "red" # Warm.
---| "blue" # Cold.

---A box.
---@class tide.demo.Box
---@field count integer Items inside.
local Box = {}

---A bigger box.
---@class tide.demo.BigBox: tide.demo.Box
local BigBox = {}

---Makes a box.
---@param opts? tide.demo.BoxOptions Its options.
---@return tide.demo.Box box The new box.
function tide.demo.Box(opts) end

---Internal.
---@private
---@param x any Anything.
function tide.demo._hidden(x) end

---Puts items in.
---@param item any The first item.
---@param timeout? number Seconds to wait.
---@param ... any More items.
---@return boolean ok Whether they fit.
---@return integer # How many went in.
---@overload fun(self: tide.demo.Box, items: any[]): boolean
function Box:put(item, timeout, ...) end
]]

T.test("parser: modules, functions, methods, classes, fields, aliases", function()
  local m = gen.parse_text(SAMPLE, "demo.lua")
  T.same(m.errors, {})
  local demo = m.modules["tide.demo"]
  T.eq(demo.desc, "A demo module.")
  T.eq(#demo.fields, 2)
  T.same({demo.fields[1].name, demo.fields[1].type, demo.fields[1].desc}, {"version", "string", "Its version."})
  T.same({demo.fields[2].name, demo.fields[2].type, demo.fields[2].desc}, {"FLAG", "integer", "A flag."})
  T.eq(#demo.functions, 2)
  local box = demo.functions[1]
  T.same(box.params, {"opts"})
  T.same({box.doc_params[1].type, box.doc_params[1].optional}, {"tide.demo.BoxOptions", true})
  T.same({box.returns[1].type, box.returns[1].name, box.returns[1].desc}, {"tide.demo.Box", "box", "The new box."})
  T.truthy(demo.functions[2].private, "@private is kept as a flag")

  local opts = m.classes["tide.demo.BoxOptions"]
  T.eq(opts.fields[2].type, "fun(box: tide.demo.Box, n: integer): boolean")
  T.eq(opts.fields[2].desc, "Called when full.")
  T.truthy(opts.fields[1].optional, "size? is optional")
  T.eq(m.classes["tide.demo.BigBox"].parent, "tide.demo.Box")

  local put = m.classes["tide.demo.Box"].methods[1]
  T.eq(put.name, "put")
  T.same(put.params, {"item", "timeout", "..."})
  T.eq(#put.returns, 2)
  T.same({put.returns[2].type, put.returns[2].name, put.returns[2].desc}, {"integer", nil, "How many went in."})
  T.same(put.overloads, {"fun(self: tide.demo.Box, items: any[]): boolean"})

  local kinds = {}
  for _, t in ipairs(demo.types) do kinds[#kinds + 1] = t.kind .. " " .. t.name end
  T.same(kinds, {"class tide.demo.BoxOptions", "alias tide.demo.Colour", "class tide.demo.Box", "class tide.demo.BigBox"})
  T.same({demo.types[2].values[2].value, demo.types[2].values[2].desc}, {'"blue"', "Cold."})
end)

T.test("parser: type expressions", function()
  local cases = {
    {"integer rest", "integer"},
    {"string|string[] rest", "string|string[]"},
    {"(tide.a|tide.b)[] rest", "(tide.a|tide.b)[]"},
    {'"r"|"w" rest', '"r"|"w"'},
    {"table<string, integer> rest", "table<string, integer>"},
    {"fun(a: integer, b?: string): boolean|nil rest", "fun(a: integer, b?: string): boolean|nil"},
    {"fun(): tide.future.Future? rest", "fun(): tide.future.Future?"},
    {"{x: integer, y: integer} rest", "{x: integer, y: integer}"},
    {"fun(self: X, ...: any): ... rest", "fun(self: X, ...: any): ..."},
  }
  for _, c in ipairs(cases) do
    local ty, after = gen.read_type(c[1], 1)
    T.eq(ty, c[2], c[1])
    T.eq(c[1]:sub(after), " rest", "what follows " .. c[1])
  end
  T.eq(gen.read_type("fun(unclosed", 1), nil, "an unclosed group is no type")
end)

T.test("renderer: signatures, parameters, returns, tables; @private left out", function()
  local text = gen.render(gen.parse_text(SAMPLE, "demo.lua"))
  local function has(s) T.truthy(text:find(s, 1, true), s) end
  has("Modules: [tide.demo](#tidedemo)")
  has("\n## tide.demo\n\nA demo module.\n")
  has("- `tide.demo.version` (`string`): Its version.")
  has("- `tide.demo.FLAG` (`integer`): A flag.")
  has("#### `tide.demo.Box([opts]) -> tide.demo.Box`")
  has("- `opts` (`tide.demo.BoxOptions`, optional): Its options.")
  has("- returns `tide.demo.Box` *box*: The new box.")
  has("### Class `tide.demo.Box`")
  has("#### `Box:put(item, [timeout], ...) -> boolean, integer`")
  has("- returns `integer`: How many went in.")
  has("- also callable as `fun(self: tide.demo.Box, items: any[]): boolean`")
  has("Has every field and method of `tide.demo.Box`.")
  has("- `size` (`integer`, may be nil): How big (default 1).")
  has('| `"red"` | Warm. |')
  T.falsy(text:find("_hidden", 1, true), "@private function left out")
  T.eq(gen.render(gen.parse_text(SAMPLE, "demo.lua")), text, "the same input renders the same text")
end)

T.test("parser: mistakes are errors with file and line", function()
  local function errors_of(text) return gen.parse_text(text, "x.lua").errors end
  local head = "---@meta tide.x\nlocal tide = {}\n---X.\n---@class tide.x\ntide.x = {}\n"
  T.match(errors_of("local x = 1\n")[1], "^x%.lua:1: the first line must be ---@meta")
  T.match(errors_of(head .. "---Doc.\n\nfunction tide.x.f() end\n")[1], "^x%.lua:7: documentation attached to nothing")
  T.match(errors_of(head .. "function tide.x.f() end\n")[1], "x%.lua:6: function tide%.x%.f has no description")
  T.match(errors_of(head .. "---F.\nfunction tide.x.f(a) end\n")[1], "argument a has no @param")
  T.match(errors_of(head .. "---F.\n---@param b any B.\nfunction tide.x.f(a) end\n")[1],
          "@param b does not match argument 1 %(a%)")
  T.match(errors_of(head .. "---F.\n---@param a any\nfunction tide.x.f(a) end\n")[1], "@param a has no description")
  T.match(errors_of(head .. "---M.\nfunction Nobody:m() end\n")[1], "method m of unknown class Nobody")
  T.match(errors_of(head .. "---C.\n---@class tide.x.C\n---@field n integer\nlocal C = {}\n")[1],
          "field n has no description")
  T.match(errors_of(head .. "---@class tide.x.C\nlocal C = {}\n")[1], "class tide%.x%.C has no description")
  T.match(errors_of(head .. "---V.\ntide.x.V = 1\n")[1], "field tide%.x%.V needs ---@type")
  T.match(errors_of(head .. "print('hi')\n")[1], "unexpected line: print")
end)

T.done()
