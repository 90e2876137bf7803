// Transfer codec (host/codec): round trips between two Lua states and the
// TransferError paths. Hostile input: codec_hostile_test.cpp.
#include "codec_test_util.hpp"
#include "test_util.hpp"

using namespace codec_test;

TEST_CASE("codec: scalars round trip with their exact types and bits") {
  Lua a, b;
  transfer(a, b,
           "nil, true, false, 0, 127, 128, -1, math.maxinteger, math.mininteger, 3, 3.0, "
           "1.5, '', 'x', string.rep('y', 31), string.rep('z', 32), 'a\\0b\\0', "
           "string.rep('q', 1000), -0.0, 1/0, -1/0, 0/0, "
           "string.unpack('<d', '\\1\\0\\0\\0\\0\\0\\xf8\\x7f'), nil");
  run(b, R"(
    assert(v.n == 24)
    assert(v[1] == nil and v[2] == true and v[3] == false)
    assert(v[4] == 0 and v[5] == 127 and v[6] == 128 and v[7] == -1)
    assert(v[8] == math.maxinteger and v[9] == math.mininteger)
    assert(math.type(v[10]) == 'integer' and math.type(v[11]) == 'float' and v[11] == 3)
    assert(v[12] == 1.5 and v[13] == '' and v[14] == 'x')
    assert(v[15] == string.rep('y', 31) and v[16] == string.rep('z', 32))
    assert(v[17] == 'a\0b\0' and #v[17] == 4 and v[18] == string.rep('q', 1000))
    assert(math.type(v[19]) == 'float' and 1/v[19] == -1/0)
    assert(v[20] == 1/0 and v[21] == -1/0)
    assert(v[22] ~= v[22])
    assert(string.pack('<d', v[23]) == '\1\0\0\0\0\0\xf8\x7f')
    assert(v[24] == nil)
  )");
  // The NaN produced by 0/0 keeps its sign and payload too.
  transfer(a, b, "0/0, string.pack('<d', 0/0)", "w");
  run(b, "assert(string.pack('<d', w[1]) == w[2])");
}

// Under the sanitizers 20 MB (every byte copied is instrumented there).
TEST_CASE("codec: a 100 MB binary string (20 MB under sanitizers)") {
  const std::string mb = test_util::kSanitized ? "20" : "100";
  const std::string rep = "string.rep('ab\\0c', " + mb + " * 256 * 1024)";
  Lua a, b;
  Message m = encode_expr(a, rep);
  CHECK(m.bytes.size() < std::stoul(mb) * 1024 * 1024 + 32);
  store(b, m);
  run(b, "assert(#v[1] == " + mb + " * 1024 * 1024 and v[1] == " + rep + ")");
}

TEST_CASE("codec: tables, cycles, shared sub-tables and keys of every type") {
  Lua a, b;
  run(a, R"(
    t = {1, 2, 3, nil, 5, x = {y = {z = 'deep'}}, [10] = 'ten', [-1] = 'neg'}
    t.self = t
    shared = {'s'}
    t.a, t.b = shared, shared
    keyt = {'key table'}
    kf = function() return 'key function' end
    t[true], t[false], t[1.5], t[keyt], t[kf], t[math.huge] = 'T', 'F', 'f', keyt, 'kf', 'inf'
    t[math.mininteger] = 'min'
    setmetatable(t, {__index = function() return 'meta' end})
  )");
  transfer(a, b, "t, shared");
  run(b, R"(
    local t, shared = v[1], v[2]
    assert(t[1] == 1 and t[2] == 2 and t[3] == 3 and t[4] == nil and t[5] == 5)
    assert(t.x.y.z == 'deep' and t[10] == 'ten' and t[-1] == 'neg')
    assert(t.self == t and t.a == t.b and t.a == shared and shared[1] == 's')
    assert(t[true] == 'T' and t[false] == 'F' and t[1.5] == 'f' and t[math.huge] == 'inf')
    assert(t[math.mininteger] == 'min')
    assert(getmetatable(t) == nil and t.missing == nil)
    local tk, fk
    for k, val in pairs(t) do
      if type(k) == 'table' then tk = k; assert(val == k and k[1] == 'key table') end
      if type(k) == 'function' then fk = k; assert(val == 'kf') end
    end
    assert(tk and fk and fk() == 'key function')
  )");
}

TEST_CASE("codec: functions carry bytecode and upvalues by value") {
  Lua a, b;
  run(a, R"(
    local n = 10
    counter = function() n = n + 1; return n end
    local function fact(k) if k <= 1 then return 1 end return k * fact(k - 1) end
    factorial = fact
    uses_globals = function() return marker end
    marker = 'source'
    local c = 0
    inc = function() c = c + 1 end
    get = function() return c end
    local G = _G
    get_G = function() return G end
    local cfg = {n = 1}
    get_cfg = function() return cfg end
    shared_cfg = cfg
  )");
  run(b, "marker = 'destination'");
  transfer(a, b, "counter, factorial, uses_globals, inc, get, get_G, factorial");
  run(b, R"(
    local counter, fact, ug, inc, get, get_G = table.unpack(v, 1, 6)
    assert(counter() == 11 and counter() == 12)
    assert(fact(5) == 120 and v[7] == fact)
    assert(ug() == 'destination')
    inc(); inc()
    assert(get() == 2)  -- shared upvalue joined
    assert(get_G() == _G)
  )");
  run(a, "assert(counter() == 11 and get() == 0)");  // the source never saw the changes
  // An upvalue's table is the same object as that table sent alongside.
  transfer(a, b, "get_cfg, shared_cfg", "w");
  run(b, "assert(w[1]() == w[2] and w[2].n == 1)");
}

TEST_CASE("codec: captured module tables and C functions rebind in the receiver") {
  Lua a, b;
  run(a, R"(
    package.preload.mymod = function() return {name = 'source mymod'} end
    local string = require 'string'
    local mod = require 'mymod'
    up = function(s) return string.upper(s), string end
    modname = function() return mod.name end
  )");
  // mymod exists only as a loaded table in the source; the destination
  // builds its own from package.preload.
  run(b, "package.preload.mymod = function() return {name = 'destination mymod'} end");
  transfer(a, b, "up, modname, {p = print, f = string.format, r = require}");
  run(b, R"(
    local up, modname, c = v[1], v[2], v[3]
    local s, str = up('abc')
    assert(s == 'ABC' and str == string)
    assert(modname() == 'destination mymod')
    assert(c.p == print and c.f == string.format and c.r == require)
    assert(c.f('%d', 7) == '7')
  )");
  CHECK(encode_error(a, "{f = unregistered}") ==
        "argument 1 .f: cannot transfer an unregistered C function");
}

TEST_CASE("codec: TransferError names the path of the bad value") {
  Lua a;
  run(a, R"(
    co = coroutine.create(function() end)
    cfg = {config = {on_done = {1, 2, co}}}
    local co = co
    f = function() return co end
  )");
  lua_State* L = a;
  lua_newtable(L);
  static int anchor;
  lua_pushlightuserdata(L, &anchor);
  lua_setfield(L, -2, "p");
  lua_setglobal(L, "odd");
  lua_newuserdatauv(L, 8, 0);
  lua_setglobal(L, "foreign");

  CHECK(encode_error(a, "nil, cfg") == "argument 2 .config.on_done[3]: cannot transfer a coroutine");
  CHECK(encode_error(a, "co") == "argument 1: cannot transfer a coroutine");
  CHECK(encode_error(a, "f") == "argument 1 upvalue 'co': cannot transfer a coroutine");
  CHECK(encode_error(a, "{cb = f}") == "argument 1 .cb upvalue 'co': cannot transfer a coroutine");
  CHECK(encode_error(a, "{x = co}", {"item", 0}) == "item .x: cannot transfer a coroutine");
  CHECK(encode_error(a, "{['a b'] = {co}}") == "argument 1 [\"a b\"][1]: cannot transfer a coroutine");
  CHECK(encode_error(a, "{['end'] = co}") == "argument 1 [\"end\"]: cannot transfer a coroutine");
  CHECK(encode_error(a, "{[true] = co}") == "argument 1 [true]: cannot transfer a coroutine");
  CHECK(encode_error(a, "{[1.5] = co}") == "argument 1 [1.5]: cannot transfer a coroutine");
  CHECK(encode_error(a, "{[{}] = co}") == "argument 1 [table]: cannot transfer a coroutine");
  CHECK(encode_error(a, "{inner = {[co] = 1}}") ==
        "argument 1 .inner[key]: cannot transfer a coroutine as a table key");
  CHECK(encode_error(a, "{[{x = co}] = 1}") == "argument 1 [key].x: cannot transfer a coroutine");
  CHECK(encode_error(a, "1, 2, odd") == "argument 3 .p: cannot transfer a light userdata");
  CHECK(encode_error(a, "foreign") == "argument 1: cannot transfer a userdata");
  CHECK(encode_error(a, "{io.stdout}") == "argument 1 [1]: cannot transfer a userdata");
}

TEST_CASE("codec: nesting deeper than kMaxDepth is a TransferError, never a stack overflow") {
  Lua a, b;
  run(a, "deep = {} for i = 1, 10000 do deep = {deep} end");
  run(a, "ok = {} for i = 2, 200 do ok = {ok} end");  // exactly 200 levels
  std::string msg = encode_error(a, "deep");
  CHECK(msg.rfind("argument 1 [1][1][1]", 0) == 0);
  CHECK(msg.find(": value nested deeper than 200 levels") != std::string::npos);
  transfer(a, b, "ok");
  run(b, "local n, t = 0, v[1] while t do n, t = n + 1, t[1] end assert(n == 200)");
  CHECK(encode_error(a, "{ok}").find("nested deeper than 200 levels") != std::string::npos);

  // Hand-crafted: 10,000 tables each holding the next at [1].
  std::string bytes = header();
  for (int i = 0; i < 10000; ++i) bytes += std::string("\x10", 1) + u32(1) + u32(0);
  bytes += std::string(1, '\0');
  CHECK(decode_error(b, bytes, 1) == "message nested deeper than 200 levels");
}

TEST_CASE("codec: tide error tables keep their metatable") {
  Lua a, b, c, d;
  for (lua_State* L : {a.L, b.L}) {
    luaL_newmetatable(L, "tide.Error");
    lua_pop(L, 1);
  }
  run(a, R"(
    local mt = debug.getregistry()['tide.Error']
    e = setmetatable({kind = 'Timeout', message = 'too slow'}, mt)
    other = setmetatable({}, {__name = 'other'})
  )");
  transfer(a, b, "e, other, {cause = e}");
  run(b, R"(
    local mt = debug.getregistry()['tide.Error']
    assert(getmetatable(v[1]) == mt and v[1].kind == 'Timeout' and v[1].message == 'too slow')
    assert(getmetatable(v[2]) == nil and v[3].cause == v[1])
  )");
  // A receiver without the metatable loads "tide" once to get it.
  run(c, "package.preload.tide = function() debug.getregistry()['tide.Error'] = {} return {} end");
  transfer(a, c, "e, e");
  run(c, "assert(getmetatable(v[1]) == debug.getregistry()['tide.Error'] and v[1] == v[2])");
  // No way to get it: TransferError, stack restored. (No search path either,
  // or run from the build directory it would find ./tide.so.)
  run(d, "package.path, package.cpath = '', ''");
  Message m = encode_expr(a, "1, e");
  int top = lua_gettop(d);
  CHECK_THROWS_AS(tide::codec::decode(d, m), tide::Error);
  CHECK(lua_gettop(d) == top);
}

TEST_CASE("codec: tide objects travel by reference") {
  tide::register_handle_type("test.Obj", "test.objmod");
  CHECK(TestObject::alive == 0);
  Message m;
  {
    Lua a;
    define_test_obj(a);
    lua_pop(a, 1);
    auto obj = tide::Ref<TestObject>::make();
    tide::push_handle(a, obj.get());
    lua_setglobal(a, "h");
    run(a, "t = {a = h, b = h}");
    m = encode_expr(a, "t, h");
    CHECK(m.objects.size() == 1);
    // Raw bytes never carry objects.
    int top = lua_gettop(a);
    CHECK_THROWS_AS(tide::codec::decode_bytes(a, m.bytes, m.count), tide::Error);
    CHECK(lua_gettop(a) == top);
    run(a, "close_handle(h)");
    CHECK(encode_error(a, "{h = h}") == "argument 1 .h: cannot transfer a closed test.Obj");
  }
  CHECK(TestObject::alive == 1);  // the message keeps it alive
  {
    Lua b;
    // The receiver has not defined the type: push_handle requires its module.
    lua_getglobal(b, "package");
    lua_getfield(b, -1, "preload");
    lua_pushcfunction(b, define_test_obj);
    lua_setfield(b, -2, "test.objmod");
    lua_pop(b, 2);
    store(b, m);
    m.clear();
    CHECK(TestObject::alive == 1);  // the handle in b
    run(b, R"(
      local t, h = v[1], v[2]
      assert(t.a == t.b and t.a == h)
      assert(getmetatable(h) == debug.getregistry()['test.Obj'])
    )");
  }
  CHECK(TestObject::alive == 0);
}

TEST_CASE("codec: function cache reuses closures only when that is unobservable") {
  Lua a, b;
  run(a, R"(
    pure = function() return marker end
    local x = 1
    impure = function() return x end
  )");
  transfer(a, b, "pure, impure", "one");
  transfer(a, b, "pure, impure", "two");
  run(b, R"(
    marker = 'dst'
    assert(one[1] == two[1] and one[1]() == 'dst')
    assert(one[2] ~= two[2] and one[2]() == 1 and two[2]() == 1)
  )");
  // The cache is capped.
  for (int i = 0; i < 300; ++i)
    transfer(a, b, "load('return " + std::to_string(i) + "')", "many");
  run(b, R"(
    local cache, n = debug.getregistry()['tide.codec.fncache'], 0
    for k in pairs(cache) do n = n + 1 end
    assert(n <= 257, n)
  )");
}

TEST_CASE("codec: many top-level values and several encode calls per message") {
  Lua a, b;
  lua_State* L = a;
  REQUIRE(lua_checkstack(L, 10000));
  for (int i = 0; i < 10000; ++i) {
    if (i % 3 == 0) {
      lua_createtable(L, 1, 0);
      lua_pushinteger(L, i);
      lua_rawseti(L, -2, 1);
    } else {
      lua_pushinteger(L, i);
    }
  }
  Message m;
  tide::codec::encode(L, 1, 10000, m);
  CHECK(lua_gettop(L) == 10000);
  lua_settop(L, 0);
  run(a, "shared = {}");
  lua_getglobal(L, "shared");
  tide::codec::encode(L, 1, 1, m);
  tide::codec::encode(L, 1, 1, m);
  lua_settop(L, 0);
  CHECK(m.count == 10002);
  store(b, m);
  run(b, R"(
    assert(v.n == 10002)
    for i = 0, 9999 do
      local x = v[i + 1]
      if i % 3 == 0 then assert(x[1] == i) else assert(x == i) end
    end
    assert(type(v[10001]) == 'table' and v[10001] ~= v[10002])  -- separate encode calls
  )");
}
