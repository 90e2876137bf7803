#include "core/malloc_tuning.hpp"

#include <malloc.h>

namespace tide {

void tune_malloc_for_pools() noexcept {
#if defined(__GLIBC__)
  mallopt(M_MMAP_MAX, 0);
  mallopt(M_TRIM_THRESHOLD, 512 << 20);
  mallopt(M_TOP_PAD, 64 << 20);  // grow the heap in large steps: fewer brk calls
#endif
}

}  // namespace tide
