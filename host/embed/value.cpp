// tide::Value (tide.hpp): the C++ side of a value crossing to and from Lua.
#include <cstdio>

#include "tide.hpp"

namespace tide {

namespace {
[[noreturn]] void wrong(const char* want, const Value& v) {
  throw Error(ErrorKind::ArgumentError, std::string(want) + " expected, got " + v.to_string());
}
}  // namespace

bool Value::boolean() const {
  if (auto* b = std::get_if<bool>(&v_)) return *b;
  wrong("boolean", *this);
}

std::int64_t Value::integer() const {
  if (auto* i = std::get_if<std::int64_t>(&v_)) return *i;
  wrong("integer", *this);
}

double Value::number() const {
  if (auto* d = std::get_if<double>(&v_)) return *d;
  if (auto* i = std::get_if<std::int64_t>(&v_)) return static_cast<double>(*i);
  wrong("number", *this);
}

const std::string& Value::string() const {
  if (auto* s = std::get_if<std::string>(&v_)) return *s;
  wrong("string", *this);
}

std::string Value::to_string() const {
  switch (v_.index()) {
    case 0: return "nil";
    case 1: return std::get<bool>(v_) ? "true" : "false";
    case 2: return std::to_string(std::get<std::int64_t>(v_));
    case 3: {
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.14g", std::get<double>(v_));
      return buf;
    }
    default: return std::get<std::string>(v_);
  }
}

}  // namespace tide
