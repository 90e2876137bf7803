#include "process/prefault.hpp"

#include <link.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <mutex>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

namespace tide::process {

namespace {

struct Range {
  std::uintptr_t start, len;
};
// Written once under call_once, before the first fork of the thread that
// wrote it: a child sees them complete (or g_count still 0).
Range g_ranges[4];
int g_count = 0;
std::once_flag g_once;

// The command (or the program embedding tide: the main object) and libc.
int collect(dl_phdr_info* info, std::size_t, void*) {
  const char* name = info->dlpi_name;
  bool main_object = !name || !*name;
  bool libc = name && std::strstr(name, "/libc.so");
  if (!main_object && !libc) return 0;
  for (int i = 0; i < info->dlpi_phnum && g_count < 4; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type != PT_LOAD || !(ph.p_flags & PF_X)) continue;
    std::uintptr_t start = (info->dlpi_addr + ph.p_vaddr) & ~std::uintptr_t{4095};
    std::uintptr_t end = (info->dlpi_addr + ph.p_vaddr + ph.p_memsz + 4095) & ~std::uintptr_t{4095};
    g_ranges[g_count++] = {start, end - start};
  }
  return 0;
}

}  // namespace

void note_code_ranges() noexcept {
  std::call_once(g_once, [] { dl_iterate_phdr(collect, nullptr); });
}

void prefault_code() noexcept {
  for (int i = 0; i < g_count; ++i)
    madvise(reinterpret_cast<void*>(g_ranges[i].start), g_ranges[i].len, MADV_POPULATE_READ);
}

}  // namespace tide::process
