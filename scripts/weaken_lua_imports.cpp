// Build tool: marks every undefined lua_*/luaL_* symbol of a shared object
// weak (ELF64 .dynsym binding STB_WEAK), in place.
//
// Why: tide.so takes the Lua API from the interpreter that loads it. Loaded
// into Lua 5.3, 5.1 or LuaJIT, the 5.4-only functions are missing and Lua's
// dlopen (RTLD_NOW) fails with "undefined symbol: lua_newuserdatauv"
// before tide can say anything. With weak imports the library loads, and
// luaopen_tide (bindings/module_entry.c) finds the missing functions null
// and raises "tide.so needs Lua 5.4" instead.
//   weaken_lua_imports FILE.so
#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace {

int fail(const char* path, const char* why) {
  std::fprintf(stderr, "weaken_lua_imports: %s: %s\n", path, why);
  return 1;
}

bool is_lua_api(const char* name) {
  return std::strncmp(name, "lua_", 4) == 0 || std::strncmp(name, "luaL_", 5) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: weaken_lua_imports FILE.so\n");
    return 2;
  }
  const char* path = argv[1];
  int fd = open(path, O_RDWR);
  if (fd < 0) return fail(path, std::strerror(errno));
  struct stat st;
  if (fstat(fd, &st) != 0 || static_cast<std::size_t>(st.st_size) < sizeof(Elf64_Ehdr)) return fail(path, "too small");
  auto size = static_cast<std::size_t>(st.st_size);
  auto* base = static_cast<unsigned char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  close(fd);
  if (base == MAP_FAILED) return fail(path, std::strerror(errno));
  auto* eh = reinterpret_cast<Elf64_Ehdr*>(base);
  if (std::memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64)
    return fail(path, "not an ELF64 file");
  if (eh->e_shoff == 0 || eh->e_shoff + std::size_t{eh->e_shnum} * sizeof(Elf64_Shdr) > size)
    return fail(path, "no section headers");
  auto* sh = reinterpret_cast<Elf64_Shdr*>(base + eh->e_shoff);
  int changed = 0;
  for (int i = 0; i < eh->e_shnum; ++i) {
    if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum) continue;
    const Elf64_Shdr& strtab = sh[sh[i].sh_link];
    if (sh[i].sh_offset + sh[i].sh_size > size || strtab.sh_offset + strtab.sh_size > size)
      return fail(path, "section out of bounds");
    auto* syms = reinterpret_cast<Elf64_Sym*>(base + sh[i].sh_offset);
    std::size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
    const char* names = reinterpret_cast<const char*>(base + strtab.sh_offset);
    for (std::size_t k = 0; k < n; ++k) {
      Elf64_Sym& s = syms[k];
      if (s.st_shndx != SHN_UNDEF || s.st_name >= strtab.sh_size) continue;
      if (!is_lua_api(names + s.st_name) || ELF64_ST_BIND(s.st_info) == STB_WEAK) continue;
      s.st_info = ELF64_ST_INFO(STB_WEAK, ELF64_ST_TYPE(s.st_info));
      ++changed;
    }
  }
  munmap(base, size);
  if (changed == 0) return fail(path, "no Lua imports found");
  return 0;
}
