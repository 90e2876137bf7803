// The cluster client's two I/O threads (client.hpp): the sender XADDs
// sealed tasks in pipelined batches; the receiver reads the result stream,
// completes futures, and once a second does the housekeeping (the result
// stream's expiry, the live worker count, deleting cancelled tasks).
#include <cstdlib>
#include <sstream>

#include "cluster/client_core.hpp"
#include "cluster/envelope.hpp"
#include "cluster/link.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "shm/owner.hpp"

namespace tide::cluster {

namespace {

constexpr std::size_t kSendBatch = 512;     // XADDs per pipelined round trip
constexpr const char* kReadCount = "512";   // results per XREAD
constexpr const char* kBlockMs = "1000";    // XREAD BLOCK: housekeeping at least this often
constexpr double kBlockSeconds = 1.0;
// The result stream outlives a client that died by this long (its expiry is
// renewed every second while the client lives).
constexpr const char* kResultsTtlMs = "86400000";

Outcome failure(ErrorKind kind, std::string text) {
  Outcome o;
  o.state = CompletionState::Failed;
  o.failure_kind = kind;
  o.text = std::move(text);
  return o;
}

// Completes `f` with `o`; an outcome the arena cannot store still fails it.
void complete(future::Future& f, const Outcome& o) noexcept {
  try {
    if (o.state == CompletionState::Cancelled) {
      f.cancel();
      return;
    }
    f.complete(o);
  } catch (const std::exception& e) {
    try {
      f.complete(failure(ErrorKind::TransferError, std::string("failed: its result could not be stored: ") + e.what()));
    } catch (...) {
    }
  }
}

// A stream entry's field value, or nullptr.
const std::string* field(const Reply& fields, std::string_view name) {
  for (std::size_t i = 0; i + 1 < fields.elements.size(); i += 2)
    if (fields.elements[i].str == name) return &fields.elements[i + 1].str;
  return nullptr;
}

}  // namespace

// The last thread out cleans up in Redis (the sender may have learnt the
// stream ids of cancelled tasks after the receiver left), then both count
// as ended.
void ClientCore::thread_done() noexcept {
  bool last;
  {
    std::lock_guard lock(m);
    last = --alive == 0;
  }
  if (last) clean_up(true);
  {
    std::lock_guard lock(m);
    --threads;
  }
  word.notify_all();
}

void ClientCore::read_workers(Redis& r) {
  Reply all = r.call({"HGETALL", keys.workers});
  if (!all.is_array()) return;
  std::int64_t now = unix_ms();
  int live = 0;
  for (std::size_t i = 0; i + 1 < all.elements.size(); i += 2) {
    std::istringstream in(all.elements[i + 1].str);
    std::int64_t at = 0, every = 1000;
    int concurrency = 0;
    in >> at >> concurrency >> every;
    if (in && now - at <= 3 * every + 2000) live += concurrency;
  }
  live_workers.store(live, std::memory_order_relaxed);
}

void ClientCore::setup(Redis& r) {
  r.append({"XGROUP", "CREATE", keys.tasks, kGroup, "0", "MKSTREAM"});
  r.append({"EXISTS", results});
  Reply group = r.read();
  if (group.is_error() && group.str.rfind("BUSYGROUP", 0) != 0) group.ok("XGROUP CREATE");
  Reply exists = r.read();
  exists.ok("EXISTS");
  // An empty result stream (workers never create one: XADD NOMKSTREAM).
  // Only when there is none: after a Redis restart the stream may hold
  // results added before this client reconnected, which MAXLEN 0 would
  // trim away.
  if (exists.integer == 0) r.call({"XADD", results, "MAXLEN", "0", "*", "open", "1"}).ok("XADD");
  r.call({"PEXPIRE", results, kResultsTtlMs}).ok("PEXPIRE");
  read_workers(r);
}

// ---- the sender ---------------------------------------------------------------

void ClientCore::send_batch(Link& link, std::vector<Outbound>& batch) {
  std::size_t done = 0;
  while (done < batch.size()) {
    try {
      Redis& r = link.get();
      for (std::size_t i = done; i < batch.size(); ++i) r.append({"XADD", keys.tasks, "*", "m", batch[i].bytes});
      for (; done < batch.size(); ++done) {
        Reply rep = r.read();
        std::lock_guard lock(m);
        auto it = pending.find(batch[done].task);
        if (it == pending.end()) {  // cancelled meanwhile: take it back
          if (!rep.is_error()) doomed.push_back(rep.str);
          continue;
        }
        if (rep.is_error()) {
          Ref<future::Future> f = std::move(it->second.future);
          pending.erase(it);
          log::warn("{}: Redis refused task {}: {}", who, batch[done].task, rep.str);
          complete(*f, failure(ErrorKind::OSError, "failed: Redis refused the task: " + rep.str));
        } else {
          it->second.entry_id = rep.str;
        }
      }
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::OSError) throw;
      link.lost(e);  // the rest is sent again: a task may then arrive twice
    }
  }
}

void ClientCore::send_loop() noexcept {
  log::set_thread_name(opt.name + "-send");
  try {
    Link link(opt.url, {opt.timeout, stop_fd.get()}, who, [this](Redis& r) { setup(r); });
    link.adopt(std::move(send_conn));
    std::vector<Outbound> batch;
    for (;;) {
      wait_until(word, Deadline::never(), [&] {
        std::lock_guard lock(m);
        return stopping || !outbox.empty();
      });
      {
        std::lock_guard lock(m);
        if (stopping) break;
        while (!outbox.empty() && batch.size() < kSendBatch) {
          Outbound o = std::move(outbox.front());
          outbox.pop_front();
          auto it = pending.find(o.task);
          if (it != pending.end() && !it->second.future->cancelled()) batch.push_back(std::move(o));
        }
        in_flight = batch.size();
      }
      send_batch(link, batch);
      batch.clear();
      {
        std::lock_guard lock(m);
        in_flight = 0;
      }
      word.notify_all();  // close_all waits until everything is sent
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) log::error("{}: sender stopped: {}", who, e.what());
  } catch (const std::exception& e) {
    log::error("{}: sender stopped: {}", who, e.what());
  }
  thread_done();
}

// ---- the receiver ---------------------------------------------------------------

void ClientCore::take_results(Redis& r, const Reply& streams, std::string& last) {
  // [[stream, [[id, [field, value...]]...]]], or nil when BLOCK timed out
  if (!streams.is_array() || streams.elements.empty() || streams.elements[0].elements.size() != 2) return;
  const Reply& entries = streams.elements[0].elements[1];
  std::vector<std::pair<std::string, std::string>> refused;  // id, why
  std::size_t taken = 0;
  for (const Reply& entry : entries.elements) {
    if (entry.elements.size() != 2) continue;
    const std::string& id = entry.elements[0].str;
    last = id;
    ++taken;
    const std::string* m_field = field(entry.elements[1], "m");
    Entry e;
    std::string why;
    Verdict v = m_field ? open(*m_field, opt.key, unix_ms(), e, why) : Verdict::Unsigned;
    if (!m_field) why = "it has no 'm' field";
    if (v == Verdict::Ok && (e.kind != EntryKind::Result || e.client != this->id)) {
      v = Verdict::Malformed;
      why = "it is not a result for this client";
    }
    if (v != Verdict::Ok) {
      log::warn("{}: refused result entry {} ({}): {}; dead-lettered", who, id, verdict_name(v), why);
      r.append({"XADD", keys.dead, "MAXLEN", "~", kDeadMaxLen, "*", "reason", why, "verdict", verdict_name(v),
                "stream", results, "id", id, "m", m_field ? std::string_view(*m_field) : std::string_view()});
      refused.emplace_back(id, why);
      continue;
    }
    Ref<future::Future> f;
    {
      std::lock_guard lock(m);
      auto it = pending.find(e.task);
      if (it != pending.end()) {
        f = std::move(it->second.future);
        pending.erase(it);
      }
    }
    if (!f) {  // a second run of a task (at least once): its first result won
      duplicates.fetch_add(1, std::memory_order_relaxed);
      log::debug("{}: dropped a second result for task {}", who, e.task);
      continue;
    }
    Outcome& o = e.outcome;
    if (!o.values.bytes.empty()) {
      std::string mismatch = check_runtime(e, opt.lua, "its result");
      if (!mismatch.empty()) o = failure(ErrorKind::TransferError, "failed: " + mismatch);
    }
    complete(*f, o);
  }
  if (taken) r.append({"XTRIM", results, "MINID", last});
  for (std::size_t i = 0; i < refused.size(); ++i) r.read();
  if (taken) r.read();
  bool now;
  {
    std::lock_guard lock(m);
    now = draining && pending.empty();
  }
  word.notify_all();
  if (now) request_stop();
}

void ClientCore::housekeeping(Redis& r) {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(m);
    for (auto it = pending.begin(); it != pending.end();) {
      if (it->second.future->cancelled()) {  // fut:cancel() (map's timeout, imap's break)
        if (!it->second.entry_id.empty()) doomed.push_back(it->second.entry_id);
        it = pending.erase(it);
      } else {
        ++it;
      }
    }
    ids.swap(doomed);
  }
  if (!ids.empty()) {
    std::vector<std::string_view> cmd = {"XDEL", keys.tasks};
    cmd.insert(cmd.end(), ids.begin(), ids.end());
    r.append(cmd);
  }
  r.append({"PEXPIRE", results, kResultsTtlMs});
  if (!ids.empty()) r.read();
  if (r.read().integer == 0) setup(r);  // the stream is gone (a Redis that lost its data)
  else read_workers(r);
}

void ClientCore::clean_up(bool delete_results) noexcept {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(m);
    ids.swap(doomed);
  }
  if (!delete_results && ids.empty()) return;
  if (owner != shm::current_pid()) return;
  try {  // a short connection of its own: the thread's may be mid-command
    auto r = Redis::connect(opt.url, {std::min(opt.timeout, 2.0), -1});
    if (!ids.empty()) {
      std::vector<std::string_view> cmd = {"XDEL", keys.tasks};
      cmd.insert(cmd.end(), ids.begin(), ids.end());
      r->append(cmd);
    }
    if (delete_results) r->append({"DEL", results});
    while (r->expected()) r->read();
  } catch (const std::exception& e) {
    log::debug("{}: could not clean up in Redis: {}", who, e.what());
  }
}

void ClientCore::receive_loop() noexcept {
  log::set_thread_name(opt.name + "-recv");
  try {
    Link link(opt.url, {opt.timeout, stop_fd.get()}, who, [this](Redis& r) { setup(r); });
    link.adopt(std::move(recv_conn));
    std::string last = "0-0";
    auto next_chores = Deadline::after(kBlockSeconds);
    for (;;) {
      {
        std::lock_guard lock(m);
        if (stopping || (draining && pending.empty())) break;
      }
      try {
        Redis& r = link.get();
        if (next_chores.passed()) {
          housekeeping(r);
          next_chores = Deadline::after(kBlockSeconds);
        }
        r.append({"XREAD", "COUNT", kReadCount, "BLOCK", kBlockMs, "STREAMS", results, last});
        Reply got = r.read(kBlockSeconds, stop_fd.get());
        if (got.is_error()) {
          log::warn("{}: XREAD failed: {}", who, got.str);
          continue;
        }
        take_results(r, got, last);
      } catch (const Error& e) {
        if (e.kind() != ErrorKind::OSError) throw;
        link.lost(e);
      }
    }
  } catch (const Error& e) {
    if (e.kind() != ErrorKind::Cancelled) log::error("{}: receiver stopped: {}", who, e.what());
  } catch (const std::exception& e) {
    log::error("{}: receiver stopped: {}", who, e.what());
  }
  request_stop();  // the sender too
  thread_done();
}

}  // namespace tide::cluster
