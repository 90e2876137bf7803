// Registers the shared-object types of tide.sync and of tide.shared's
// Value and Array (shm::register_shared_type): how each process destroys
// their data and makes proxies for them. Called by
// runtime::register_shared_types().
#pragma once

namespace tide::sync {

void register_shared_types();

}  // namespace tide::sync
