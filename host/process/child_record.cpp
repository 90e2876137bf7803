#include "process/child_record.hpp"

#include "core/error.hpp"
#include "shm/shared.hpp"
#include "shm/stored_message.hpp"

namespace tide::process {

const char* check_child_info(const ChildInfo& info) noexcept {
  if (info.name_len > sizeof info.name) return "name longer than its field";
  if (info.parent_pid <= 0) return "no parent pid";
  if (info.payload == 0 || info.future == 0) return "no work";
  return nullptr;
}

Ref<future::Future> load_child_future(const ChildInfo& info) {
  if (const char* why = check_child_info(info)) throw Error(ErrorKind::TransferError, std::string("bad child record: ") + why);
  Ref<Object> obj = shm::proxy_for(info.future);
  auto* f = dynamic_cast<future::Future*>(obj.get());
  if (!f) throw Error(ErrorKind::TransferError, "bad child record: its future is a " + std::string(obj->type_name()));
  return Ref<future::Future>::share(f);
}

Message load_child_payload(const ChildInfo& info) { return shm::load_message(info.payload); }

}  // namespace tide::process
