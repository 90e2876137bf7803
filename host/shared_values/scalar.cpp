#include "shared_values/scalar.hpp"

#include "core/error.hpp"
#include "sync/rlock.hpp"

namespace tide::shared {

bool scalar_type_from_name(std::string_view n, ScalarType& out) noexcept {
  if (n == "int" || n == "i" || n == "l" || n == "q") {
    out = ScalarType::Int;
  } else if (n == "double" || n == "d" || n == "f") {
    out = ScalarType::Double;
  } else if (n == "bool") {
    out = ScalarType::Bool;
  } else if (n == "char" || n == "c") {
    out = ScalarType::Char;
  } else {
    return false;
  }
  return true;
}

const char* scalar_type_name(ScalarType t) noexcept {
  switch (t) {
    case ScalarType::Int: return "int";
    case ScalarType::Double: return "double";
    case ScalarType::Bool: return "bool";
    case ScalarType::Char: return "char";
  }
  return "?";
}

bool scalar_equal(ScalarType t, std::uint64_t a, std::uint64_t b) noexcept {
  if (t == ScalarType::Double) return double_of(a) == double_of(b);
  return a == b;
}

shm::Offset make_guard_lock(shm::SharedObject* given, bool want, shm::SharedType& type) {
  shm::SharedHeader* h;
  if (given) {
    h = given->shared_header();
    if (h->type != shm::SharedType::Lock && h->type != shm::SharedType::RLock)
      throw Error(ErrorKind::ArgumentError, "'lock' must be a boolean, a Lock or an RLock");
    shm::retain_shared(h);
  } else if (want) {
    h = &shm::create_shared<sync::RLockData>()->header;
  } else {
    return 0;
  }
  type = h->type;
  return shm::Arena::get().offset_of(h);
}

void release_guard_lock(shm::Offset lock) noexcept {
  if (lock) shm::release_shared(shm::Arena::get().at<shm::SharedHeader>(lock));
}

}  // namespace tide::shared
