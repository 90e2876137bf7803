// Popen.communicate: writes the input to the child's stdin while reading
// its stdout and stderr, all through one wait on every pipe (wait_fds), so
// a child that fills both output pipes before it reads its input never
// deadlocks (the pitfall Python's documentation warns about for reading
// one pipe after the other).
#pragma once
#include <cstddef>
#include <string>

#include "core/deadline.hpp"
#include "subprocess/stream.hpp"

namespace tide::subprocess {

// What communicate has done so far: kept between calls, so that a call
// that timed out can report the output so far and a later call goes on
// from there (Python's semantics).
struct Exchange {
  std::string input;
  std::size_t written = 0;
  std::string out, err;
  bool started = false;
};

// Exchanges data with the streams (any may be null or closed: not piped)
// until both outputs reach their end and all input is written, closing
// each stream as it is done. Returns false at the deadline (nothing lost:
// `x` holds what was read). An input the child does not read (it exited)
// is dropped, as in Python. Throws OSError, Cancelled, Interrupted.
bool exchange(Stream* in, Stream* out, Stream* err, Exchange& x, const Deadline& d);

}  // namespace tide::subprocess
