#include "queue/priority_key.hpp"

#include <cmath>
#include <cstring>

namespace tide::queue {

namespace {

template <class T>
void put_raw(std::string& s, T v) {
  char b[sizeof v];
  std::memcpy(b, &v, sizeof v);
  s.append(b, sizeof v);
}

struct Cursor {
  std::string_view k;
  std::size_t i = 0;
  bool at_end() const noexcept { return i >= k.size(); }
  char tag() const noexcept { return k[i]; }
  template <class T>
  bool read(T& out) noexcept {
    if (k.size() - i < sizeof out) return false;
    std::memcpy(&out, k.data() + i, sizeof out);
    i += sizeof out;
    return true;
  }
};

// Lua's exact integer/float comparison: -1, 0, 1 (NaN compares equal).
int cmp_int_float(std::int64_t i, double f) noexcept {
  if (std::isnan(f)) return 0;
  if (f >= 9223372036854775808.0) return -1;
  if (f < -9223372036854775808.0) return 1;
  double fl = std::floor(f);
  auto fi = static_cast<std::int64_t>(fl);
  if (i < fi) return -1;
  if (i > fi) return 1;
  return f > fl ? -1 : 0;
}

template <class T>
int cmp3(T a, T b) noexcept {
  return a < b ? -1 : (b < a ? 1 : 0);
}

int rank(char tag) noexcept {
  switch (tag) {
    case 'I': case 'F': return 0;
    case 'S': return 1;
    default: return 2;
  }
}

// Reads one scalar at each cursor and compares. Returns -2 on malformed.
int compare_scalars(Cursor& a, Cursor& b) noexcept {
  char ta = a.tag(), tb = b.tag();
  ++a.i;
  ++b.i;
  if (ta == 'S') {
    std::uint32_t na, nb;
    if (!a.read(na) || !b.read(nb) || a.k.size() - a.i < na || b.k.size() - b.i < nb) return -2;
    int c = std::memcmp(a.k.data() + a.i, b.k.data() + b.i, na < nb ? na : nb);
    a.i += na;
    b.i += nb;
    return c < 0 ? -1 : (c > 0 ? 1 : cmp3(na, nb));
  }
  std::int64_t ia = 0, ib = 0;
  double fa = 0, fb = 0;
  bool ok = (ta == 'I' ? a.read(ia) : a.read(fa)) && (tb == 'I' ? b.read(ib) : b.read(fb));
  if (!ok) return -2;
  if (ta == 'I' && tb == 'I') return cmp3(ia, ib);
  if (ta == 'F' && tb == 'F') return std::isnan(fa) || std::isnan(fb) ? 0 : cmp3(fa, fb);
  if (ta == 'I') return cmp_int_float(ia, fb);
  return -cmp_int_float(ib, fa);
}

// total: on a type mismatch, order by rank instead of reporting it.
Order compare(std::string_view ka, std::string_view kb, bool total) noexcept {
  Cursor a{ka}, b{kb};
  for (;;) {
    if (a.at_end() || b.at_end()) return Order::Equal;
    char ta = a.tag(), tb = b.tag();
    if (ta == ')' || tb == ')') {
      if (ta != tb) return ta == ')' ? Order::Less : Order::Greater;
      ++a.i;
      ++b.i;
      continue;
    }
    if (ta == '?' || tb == '?') return Order::Equal;
    if (ta == '(' && tb == '(') {
      ++a.i;
      ++b.i;
      continue;
    }
    if (rank(ta) != rank(tb)) {
      if (!total) return Order::Incomparable;
      return rank(ta) < rank(tb) ? Order::Less : Order::Greater;
    }
    int c = compare_scalars(a, b);
    if (c == -2) return Order::Equal;
    if (c != 0) return c < 0 ? Order::Less : Order::Greater;
  }
}

}  // namespace

void KeyBuilder::add_int(std::int64_t v) {
  key_.push_back('I');
  put_raw(key_, v);
}

void KeyBuilder::add_float(double v) {
  key_.push_back('F');
  put_raw(key_, v);
}

void KeyBuilder::add_string(std::string_view s) {
  // Strings past 4 GiB compare by their first 4 GiB.
  if (s.size() > 0xffffffffu) s = s.substr(0, 0xffffffffu);
  key_.push_back('S');
  put_raw(key_, static_cast<std::uint32_t>(s.size()));
  key_.append(s);
}

Order compare_keys(std::string_view a, std::string_view b) noexcept { return compare(a, b, false); }

int compare_keys_total(std::string_view a, std::string_view b) noexcept {
  switch (compare(a, b, true)) {
    case Order::Less: return -1;
    case Order::Greater: return 1;
    default: return 0;
  }
}

}  // namespace tide::queue
