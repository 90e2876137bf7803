// libFuzzer target for the record a child process gets from its parent
// (process::ChildInfo: a spawned worker reads it from a pipe, a forkserver
// child finds it in its request): any 128 bytes must be either refused
// (TransferError) or name real work, never crash, and never leak arena
// memory. Offsets are where a corrupt record would hurt, so the input
// shapes them: byte 0's low bits choose, for the future and the payload
// fields each, the raw bytes, or a real object's offset (a Future, a
// stored message, a Lock) moved by a signed delta from the input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.hpp"
#include "future/future.hpp"
#include "process/child_record.hpp"
#include "shm/arena.hpp"
#include "shm/stored_message.hpp"
#include "sync/lock.hpp"

namespace {

struct Fixture {
  tide::Ref<tide::future::Future> future = tide::future::Future::create();
  tide::Ref<tide::sync::Lock> lock = tide::sync::Lock::create();
  tide::shm::Offset payload = 0;
  tide::shm::Offset payload_with_object = 0;
  std::int64_t baseline = 0;

  Fixture() {
    tide::Message m;
    m.bytes = "\x01\x02\x03payload";
    m.count = 1;
    payload = tide::shm::store_message(m);
    m.objects.push_back(tide::Ref<tide::Object>::share(lock.get()));
    payload_with_object = tide::shm::store_message(m);
    baseline = tide::shm::Arena::get().bytes_in_use();
  }

  tide::shm::Offset pick(unsigned choice, std::int16_t delta, std::uint64_t raw) const {
    tide::shm::Offset base;
    switch (choice % 5) {
      case 0: return raw;
      case 1: base = future->offset(); break;
      case 2: base = payload; break;
      case 3: base = payload_with_object; break;
      default: base = lock->offset(); break;
    }
    return base + static_cast<std::uint64_t>(static_cast<std::int64_t>(delta));
  }
};

}  // namespace

// Input: byte 0 = choices, bytes 1-4 = two int16 deltas, then the record
// (zero-padded to 128 bytes: a short read is the worker's own check).
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture fx;
  if (size < 5) return 0;
  tide::process::ChildInfo info;
  std::memcpy(&info, data + 5, std::min(size - 5, sizeof info));
  std::int16_t dfut, dpay;
  std::memcpy(&dfut, data + 1, 2);
  std::memcpy(&dpay, data + 3, 2);
  info.future = fx.pick(data[0] & 7, dfut, info.future);
  info.payload = fx.pick((data[0] >> 3) & 7, dpay, info.payload);
  {
    tide::Ref<tide::future::Future> future;
    tide::Message payload;
    try {
      future = tide::process::load_child_future(info);
      payload = tide::process::load_child_payload(info);
      // Accepted: it is the real work, usable as a child would use it.
      if (!future || future->offset() != fx.future->offset() || payload.count != 1) std::abort();
    } catch (const tide::Error& e) {
      if (e.kind() != tide::ErrorKind::TransferError) {
        std::fprintf(stderr, "unexpected %s: %s\n", tide::kind_name(e.kind()), e.what());
        std::abort();
      }
    }
  }
  if (tide::shm::Arena::get().bytes_in_use() != fx.baseline) {
    std::fprintf(stderr, "arena leak: %lld bytes\n",
                 static_cast<long long>(tide::shm::Arena::get().bytes_in_use() - fx.baseline));
    std::abort();
  }
  return 0;
}
