// What tide.shared Values and Arrays hold (API.md §9): one 64-bit slot per
// element, read and written atomically. An int is an int64, a double its
// bits, a bool 0/1, a char one byte.
#pragma once
#include <bit>
#include <cstdint>
#include <string_view>

#include "shm/shared.hpp"

namespace tide::shared {

enum class ScalarType : std::uint32_t { Int = 1, Double, Bool, Char };

// "int" (and Python's "i", "l", "q"), "double" ("d", "f"), "bool", "char"
// ("c"). False for anything else.
bool scalar_type_from_name(std::string_view name, ScalarType& out) noexcept;
const char* scalar_type_name(ScalarType t) noexcept;

inline std::uint64_t bits_of(double d) noexcept { return std::bit_cast<std::uint64_t>(d); }
inline double double_of(std::uint64_t b) noexcept { return std::bit_cast<double>(b); }
inline std::uint64_t bits_of(std::int64_t i) noexcept { return static_cast<std::uint64_t>(i); }
inline std::int64_t int_of(std::uint64_t b) noexcept { return static_cast<std::int64_t>(b); }

// Equality of two slots as values of type t (doubles compare numerically).
bool scalar_equal(ScalarType t, std::uint64_t a, std::uint64_t b) noexcept;

// The lock a Value or Array carries (API.md: "lock=true" by default).
// `given` (a Lock or RLock proxy) is shared; otherwise, when `want`, a new
// RLock is made; else none. Returns its offset (0: none) holding one
// shared reference; `type` says which kind. ArgumentError for other objects.
shm::Offset make_guard_lock(shm::SharedObject* given, bool want, shm::SharedType& type);
void release_guard_lock(shm::Offset lock) noexcept;

}  // namespace tide::shared
