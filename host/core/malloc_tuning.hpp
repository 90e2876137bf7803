// glibc malloc settings for the `tide` command (not for embedding hosts:
// malloc's settings are the whole program's, and a game decides its own).
#pragma once

namespace tide {

// Keeps freed memory in the process instead of giving it back to the OS
// between pool maps: no mmap for large blocks (each one would be unmapped
// at free and faulted in page by page at the next map: a 10^7-item map
// faulted in about 1.2 GB per run) and no heap trimming below 512 MiB of
// free top. A no-op under the sanitizers' allocators.
void tune_malloc_for_pools() noexcept;

}  // namespace tide
