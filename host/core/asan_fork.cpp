// GCC 12's AddressSanitizer runtime (libasan.so.8) does not lock its
// allocator around fork(). A child forked while another thread was inside
// the allocator (refilling a per-thread cache, recording a stack) inherits
// that lock held by a thread it does not have, and hangs at its first
// malloc of the same size class: a fork-method pool worker did, about one
// fork in a hundred under load. Later runtimes lock it in an atfork handler
// (LLVM 18: InstallAtForkHandler); this does the same for the runtime we
// build with, in sanitized builds only.
//
// The functions that do it are internal (local symbols), so they are found
// in libasan's own symbol table, read once from its file. A runtime without
// them (stripped, or linked statically) gets no locking; the unit tests
// (sanitized builds) check that ours has them.
#include "core/asan_fork.hpp"

#if defined(__SANITIZE_ADDRESS__)
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

namespace tide::fork_safe {

namespace {

using Fn = void (*)();

// In upstream's order: threads, allocator, stack depot; released in reverse.
const char* const kNames[] = {
    "_ZN6__lsan18LockThreadRegistryEv",   "_ZN6__lsan13LockAllocatorEv",
    "_ZN11__sanitizer17StackDepotLockAllEv", "_ZN11__sanitizer19StackDepotUnlockAllEv",
    "_ZN6__lsan15UnlockAllocatorEv",      "_ZN6__lsan20UnlockThreadRegistryEv",
};
constexpr int kCount = sizeof kNames / sizeof *kNames;
Fn g_fns[kCount] = {};
bool g_ready = false;

struct Runtime {
  std::string path;
  ElfW(Addr) base = 0;
};

int find_runtime(dl_phdr_info* info, std::size_t, void* data) {
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "/libasan.so")) return 0;
  auto* rt = static_cast<Runtime*>(data);
  rt->path = info->dlpi_name;
  rt->base = info->dlpi_addr;
  return 1;
}

// Fills g_fns from the file's .symtab; true when every name was found.
bool resolve(const Runtime& rt) {
  int fd = open(rt.path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  void* map = fstat(fd, &st) == 0 ? mmap(nullptr, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
  close(fd);
  if (map == MAP_FAILED) return false;
  const auto* file = static_cast<const char*>(map);
  const auto size = static_cast<std::size_t>(st.st_size);
  const auto* eh = reinterpret_cast<const ElfW(Ehdr)*>(file);
  int found = 0;
  if (size >= sizeof *eh && std::memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0 &&
      eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(ElfW(Shdr)) <= size) {
    const auto* sh = reinterpret_cast<const ElfW(Shdr)*>(file + eh->e_shoff);
    for (int i = 0; i < eh->e_shnum; ++i) {
      if (sh[i].sh_type != SHT_SYMTAB || sh[i].sh_link >= eh->e_shnum) continue;
      const ElfW(Shdr)& strs = sh[sh[i].sh_link];
      if (sh[i].sh_offset + sh[i].sh_size > size || strs.sh_offset + strs.sh_size > size) break;
      const auto* syms = reinterpret_cast<const ElfW(Sym)*>(file + sh[i].sh_offset);
      const std::size_t n = sh[i].sh_size / sizeof(ElfW(Sym));
      for (std::size_t s = 0; s < n; ++s) {
        if (ELF64_ST_TYPE(syms[s].st_info) != STT_FUNC || syms[s].st_name >= strs.sh_size) continue;
        const char* name = file + strs.sh_offset + syms[s].st_name;
        for (int k = 0; k < kCount; ++k)
          if (!g_fns[k] && std::strcmp(name, kNames[k]) == 0) {
            g_fns[k] = reinterpret_cast<Fn>(rt.base + syms[s].st_value);
            ++found;
          }
      }
    }
  }
  munmap(map, size);
  return found == kCount;
}

}  // namespace

void find_sanitizer_locks() noexcept {
  try {
    Runtime rt;
    g_ready = dl_iterate_phdr(find_runtime, &rt) && resolve(rt);
  } catch (...) {
  }
}

bool sanitizer_locks_found() noexcept { return g_ready; }

namespace {

// A process with one thread has nobody who could hold these locks while it
// forks. The forkserver is such a process, and there StackDepotLockAll was
// seen spinning forever on a bucket lock (sweep_spec beside process_spec
// under ASan): it forks without them.
thread_local bool t_locked = false;

bool single_threaded() noexcept {
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  const char* p = std::strrchr(buf, ')');  // the name may hold spaces and parentheses
  for (int field = 2; p && field < 20; ++field) p = std::strchr(p + 1, ' ');  // to field 20, num_threads
  return p && std::atoi(p + 1) == 1;
}

}  // namespace

void lock_sanitizer() noexcept {
  t_locked = g_ready && !single_threaded();
  if (!t_locked) return;
  for (int k = 0; k < kCount / 2; ++k) g_fns[k]();
}

void unlock_sanitizer() noexcept {
  if (!t_locked) return;
  t_locked = false;
  for (int k = kCount / 2; k < kCount; ++k) g_fns[k]();
}

}  // namespace tide::fork_safe

#endif
