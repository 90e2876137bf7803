// Transfer codec (host/codec): hostile bytes, bytecode checks, and
// concurrent use from several threads.
#include "codec_test_util.hpp"

using namespace codec_test;

TEST_CASE("codec: hostile bytes give TransferError, never a crash") {
  Lua a;
  Lua b(64 << 20);
  run(b, "package.path, package.cpath = '', ''");
  run(a, R"(
    local string = string
    local t = {1, 2.5, 'str', x = {y = {}}, [true] = false}
    t.self = t
    t.f = function(a) return string.rep(a, 2), t end
    t.p = print
    t.g = _G
  )");
  Message m = encode_expr(a, "t, 42, 'tail', t");
  const std::string& good = m.bytes;
  REQUIRE(tide::codec::decode_bytes(b, good, m.count) == 4);
  lua_settop(b, 0);

  SUBCASE("truncated at every offset") {
    for (std::size_t k = 0; k < good.size(); ++k) decode_error(b, good.substr(0, k), m.count);
    CHECK(decode_error(b, good + "x", m.count) == "corrupt message: trailing bytes");
  }
  SUBCASE("flipped bytes") {
    for (std::size_t i = 0; i < good.size(); ++i)
      for (unsigned mask : {0x01u, 0x02u, 0x10u, 0x80u, 0xffu}) {
        std::string bad = good;
        bad[i] = static_cast<char>(bad[i] ^ mask);
        decode_any(b, bad, m.count);
      }
  }
  SUBCASE("random garbage") {
    std::mt19937 rng(12345);
    for (int i = 0; i < 20000; ++i) {
      std::string s = i % 2 ? header() : std::string();
      std::size_t len = rng() % 48;
      for (std::size_t j = 0; j < len; ++j) s += static_cast<char>(rng());
      decode_any(b, s, static_cast<int>(rng() % 4));
    }
  }
  SUBCASE("wrong header, counts and bogus lengths") {
    CHECK(decode_error(b, std::string("\x74\x02\x00", 3), 1) ==
          "unsupported transfer message version 2");
    CHECK(decode_error(b, "xx", 1) == "corrupt message: not a tide transfer message");
    CHECK(decode_error(b, header() + "\x81", -1) == "corrupt message: negative value count");
    CHECK(decode_error(b, header() + "\x81", 1000) == "corrupt message: truncated");
    decode_error(b, header() + "\x05\xff\xff\xff\xff\xff\xff\xff\xff\x0f" + "abc", 1);  // huge string
    decode_error(b, header() + "\x03\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 1);  // overlong varint
    decode_error(b, header() + "\x10" + u32(0xffffffffu) + u32(0), 1);  // huge array
    decode_error(b, header() + "\x10" + u32(0) + u32(0x7fffffffu), 1);  // huge hash
    decode_error(b, header() + "\x14" + u32(0xfffffff0u) + "\x1bLua", 1);  // huge function
    decode_error(b, header() + "\x07\x01", 1);  // reference to nothing
    decode_error(b, header() + "\x0a\x01\x01", 1);  // upjoin outside an upvalue list
    decode_error(b, header() + "\x18\x00", 1);  // object in raw bytes
    CHECK(decode_error(b, header() + "\x10" + u32(0) + u32(1) + std::string("\x00\x02", 2), 1) ==
          "corrupt message: nil table key");
    CHECK(decode_error(b, header() + "\x10" + u32(0) + u32(1) + "\x04" +
                              std::string("\x00\x00\x00\x00\x00\x00\xf8\x7f", 8) + "\x02",
                          1) == "corrupt message: NaN table key");
    CHECK(decode_error(b, header() + "\x08\x22_G\x2bnot_a_thing", 1)
              .find("not a function in the receiving state") != std::string::npos);
    CHECK(tide::codec::decode_bytes(b, "", 0) == 0);
  }
}

TEST_CASE("codec: bytecode that would make lundump misbehave is refused") {
  Lua a;
  int n = eval(a, "string.dump(function() end)");
  REQUIRE(n == 1);
  std::size_t len;
  const char* p = lua_tolstring(a, -1, &len);
  std::string dump(p, len);
  lua_pop(a, 1);
  CHECK(tide::codec::detail::plausible_bytecode(dump.data(), dump.size()));
  for (std::size_t k = 0; k < dump.size(); ++k)
    CHECK_FALSE(tide::codec::detail::plausible_bytecode(dump.data(), k));
  // One upvalue name for a function with no upvalues: Lua 5.4.4 would
  // write it past the end of the upvalue array.
  REQUIRE(static_cast<unsigned char>(dump.back()) == 0x80);
  std::string evil = dump.substr(0, dump.size() - 1) + "\x81\x80";
  CHECK_FALSE(tide::codec::detail::plausible_bytecode(evil.data(), evil.size()));
  std::string msg = header() + "\x16" + u32(static_cast<std::uint32_t>(evil.size())) + evil;
  CHECK(decode_error(a, msg, 1) == "corrupt message: malformed function bytecode");
  msg = header() + "\x16" + u32(static_cast<std::uint32_t>(dump.size())) + dump;
  CHECK(tide::codec::decode_bytes(a, msg, 1) == 1);
  CHECK(lua_type(a, -1) == LUA_TFUNCTION);
}

TEST_CASE("codec: concurrent encode and decode on separate states") {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      Lua a, b;
      run(a, "local fmt = string.format "
             "rec = {id = 1, tags = {'a', 'b'}, f = function(x) return fmt('%d', x) end, p = print}");
      for (int i = 0; i < 2000; ++i) {
        lua_getglobal(a, "rec");
        lua_pushinteger(a, t * 100000 + i);
        Message m;
        tide::codec::encode(a, -2, 2, m);
        lua_pop(a, 2);
        tide::codec::decode(b, m);
        lua_getfield(b, -2, "f");
        lua_pushvalue(b, -2);
        lua_call(b, 1, 1);
        if (std::to_string(t * 100000 + i) != lua_tostring(b, -1)) ++failures;
        lua_settop(b, 0);
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
}
