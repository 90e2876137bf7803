// Code pages for a new child in one system call instead of one page fault
// each (issue 14). fork() copies no page-table entries of file mappings
// that were never written, so a fork child takes a fault (15-27 us on a
// virtual machine) on the first touch of every 64 KiB of the command's and
// libc's code it runs: about 25 faults for one Process start+join.
// MADV_POPULATE_READ (Linux 5.14) maps the whole code of both at once from
// the page cache; on older kernels it is a no-op. Fork children (fork and
// forkserver start methods) and spawned workers (whose exec mapped only
// the code of their start) do it first thing: a fork child before its
// fork handlers run (fork_safe::first_in_child), as they run code too.
#pragma once

namespace tide::process {

// In the parent, before forking: finds the code segments (once).
void note_code_ranges() noexcept;

// In the child: maps them. Async-signal-safe (system calls only).
void prefault_code() noexcept;

}  // namespace tide::process
