// Registers every shared-object type (shm::register_shared_type) in this
// process, so a process can destroy or proxy any shared object it meets,
// even of a module it never loaded. Called once by runtime::install().
#pragma once

namespace tide::runtime {

void register_shared_types();

}  // namespace tide::runtime
